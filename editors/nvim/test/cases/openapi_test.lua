--- OpenAPI: a request file that names a spec (`# @openapi`) gets the spec's paths as
--- completion after the method, asked through Neovim's own LSP client on the buffer as
--- edited (the change reaches the server by didChange, positions in the negotiated
--- encoding); a response sent with :HttpSend is checked against the spec's response
--- schema, and the document it opens ends with the verdict.
local httplens = require("httplens")

local spec = table.concat({
  "openapi: 3.0.3",
  "info: {title: Shop, version: '1'}",
  "servers:",
  "  - url: http://127.0.0.1:{{PORT}}/rest/V1",
  "paths:",
  "  /products/{sku}:",
  "    get:",
  "      summary: One product",
  "      parameters:",
  "        - {name: sku, in: path, required: true, schema: {type: string}}",
  "      responses:",
  "        '200': {description: the product}",
  "  /store/storeViews:",
  "    get:",
  "      summary: The store views",
  "      responses:",
  "        '200':",
  "          description: the store views (what the echo server answers, here)",
  "          content:",
  "            application/json:",
  "              schema:",
  "                type: object",
  "                required: [method, path]",
  "                properties:",
  "                  method: {type: string, enum: [GET]}",
  "                  path: {type: string}",
  "",
}, "\n")

local ws = T.workspace("openapi", {
  ["shop.yaml"] = spec,
  ["api.http"] = "# @openapi ./shop.yaml\n\n### one product\nGET {{host}}/rest/V1/\n\n### store views\nGET {{host}}/rest/V1/store/storeViews\n",
  ["http-client.env.json"] = vim.json.encode({ dev = { host = "http://127.0.0.1:{{PORT}}" } }),
})

httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev" })

---Completion items at (0-based) `line`, `character`, through the attached client. (The
---end of a line, where insert mode would be, is past the last column normal mode allows.)
local function complete_at(client, bufnr, line, character)
  local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr), position = { line = line, character = character } }
  local resp, err = client:request_sync("textDocument/completion", params, 10000, bufnr)
  T.ok(resp, "no completion answer: " .. tostring(err))
  T.ok(not resp.err, "completion failed: " .. vim.inspect(resp.err))
  local result = resp.result or {}
  return result.items or result
end

T.test("completion after `GET ` offers the spec's paths, parameters as placeholders", function()
  local bufnr, client = T.open(ws .. "/api.http")
  -- Typed in the buffer, as a user would: the request line now ends after the method.
  vim.api.nvim_buf_set_lines(bufnr, 3, 4, false, { "GET " })
  local items = T.wait(15000, function()
    local got = complete_at(client, bufnr, 3, 4)
    for _, item in ipairs(got) do
      if item.label == "/products/{sku}" then
        return got
      end
    end
  end, "the spec's path /products/{sku} among the completions")
  local by_label = {}
  for _, item in ipairs(items) do
    by_label[item.label] = item
  end
  local product = by_label["/products/{sku}"]
  T.eq("/products/${1:sku}", product.textEdit.newText, "the snippet of /products/{sku}")
  T.eq(vim.lsp.protocol.InsertTextFormat.Snippet, product.insertTextFormat, "insertTextFormat")
  T.eq("One product", product.detail, "detail")
  T.ok(by_label["/store/storeViews"], "the other GET path is missing: " .. vim.inspect(vim.tbl_keys(by_label)))
end)

T.test("a response sent with :HttpSend ends with the spec's verdict: schema: matches", function()
  local bufnr = vim.api.nvim_get_current_buf()
  local req_win = vim.api.nvim_get_current_win()
  T.has(vim.api.nvim_buf_get_lines(bufnr, 6, 7, false)[1], "/store/storeViews", "line 7")
  vim.api.nvim_win_set_cursor(req_win, { 7, 0 })
  local before = #T.notes
  vim.cmd("HttpSend")
  local win = T.wait(15000, function()
    for i = before + 1, #T.notes do
      if T.notes[i].level == vim.log.levels.ERROR then
        error("the plugin reported: " .. T.notes[i].msg)
      end
    end
    return T.response_wins()[1]
  end, "a response window after :HttpSend")
  local buf = vim.api.nvim_win_get_buf(win)
  local text = T.wait(5000, function()
    local t = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
    return t:find("# schema: ", 1, true) and t
  end, "the schema line in the response document")
  T.has(text, '"path": "/rest/V1/store/storeViews"', "the echo server's answer")
  T.has(text, "# schema: matches GET /store/storeViews 200", "the verdict")
end)
