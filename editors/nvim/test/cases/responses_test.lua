--- Which buffer is a response document is the server's word (`isResponse` and
--- `responsesDir` of `httplens/state`), not a guess from the editor's own environment:
--- here the server keeps its cache in another folder than the editor's HTTPLENS_CACHE_DIR
--- (a wrapper script, a server started elsewhere), so a guess from the path goes wrong.
local httplens = require("httplens")
local uv = vim.uv or vim.loop

local server_cache = vim.fs.joinpath(T.tmp, "server-cache")
vim.fn.mkdir(server_cache, "p")
server_cache = uv.fs_realpath(server_cache) or server_cache
-- Where the editor's environment says responses go, which this server does not use: a
-- request file kept there is a request file.
local editor_responses = vim.fs.joinpath(os.getenv("HTTPLENS_CACHE_DIR"), "responses")
local ws = T.workspace("responses", {
  [".keep"] = "",
})
vim.fn.mkdir(editor_responses, "p")
local request_path = vim.fs.joinpath(editor_responses, "kept.http")
local f = assert(io.open(request_path, "w"))
f:write(("GET http://127.0.0.1:%d/echo?from=first\n\n###\nGET http://127.0.0.1:%d/echo?from=second\n"):format(T.port, T.port))
f:close()

httplens.setup({
  cmd = { "env", "HTTPLENS_CACHE_DIR=" .. server_cache, T.bin, "lsp" },
  root_markers = { ".git" },
})

---Windows showing a file under `dir`.
local function wins_under(dir)
  local out = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
    local real = uv.fs_realpath(name) or name
    if real:sub(1, #dir + 1) == dir .. "/" then
      table.insert(out, win)
    end
  end
  return out
end

local req_buf, resp_buf

T.test("a request file in the editor's cache folder is a request: the server says so", function()
  local _ = ws
  req_buf = T.open(request_path)
  local st = T.wait(10000, function()
    return httplens.state_sync(req_buf, 2000)
  end, "httplens/state")
  T.eq(false, st.isResponse, "isResponse")
  T.eq(vim.fs.joinpath(server_cache, "responses"), uv.fs_realpath(st.responsesDir) or st.responsesDir, "responsesDir")
  T.eq(false, require("httplens.client").is_response(req_buf), "the plugin's answer")
end)

T.test(":HttpSend there sends the request under the cursor; the response opens beside", function()
  T.ok(req_buf, "not reached: the request buffer")
  -- A client guessing "response document" from the path would send what the buffer's
  -- first send lens names (its `Send again`), i.e. the first request.
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  vim.cmd("HttpSend")
  local win = T.wait(15000, function()
    for _, e in ipairs(T.errors()) do
      error("the plugin reported: " .. e)
    end
    return wins_under(vim.fs.joinpath(server_cache, "responses"))[1]
  end, "a window on a response in the server's own responses folder")
  resp_buf = vim.api.nvim_win_get_buf(win)
  T.wait(5000, function()
    return (vim.api.nvim_buf_get_lines(resp_buf, 0, 1, false)[1] or ""):match("^HTTP/%S+ 200")
  end, "the response's status line")
  T.has(T.text(resp_buf), "from=second", "the response to the request under the cursor")
  -- A split beside the request, not the request's own window.
  T.ok(win ~= vim.fn.bufwinid(req_buf) and vim.fn.bufwinid(req_buf) ~= -1, "the request lost its window")
end)

T.test("the response is one because the server says so, and :HttpSend there sends again", function()
  T.ok(resp_buf, "not reached: the response buffer")
  T.client(resp_buf)
  T.wait(10000, function()
    return require("httplens.client").is_response(resp_buf)
  end, "isResponse of the response document")
  -- From the response: `Send again` (the server's lens) sends the request once more.
  T.lenses(resp_buf, function(ls)
    for _, l in ipairs(ls) do
      if l.command and l.command.command == "httplens.send" then
        return true
      end
    end
  end, "the Send again lens")
  local before = #wins_under(vim.fs.joinpath(server_cache, "responses"))
  local notes = #T.notes
  vim.api.nvim_set_current_win(vim.fn.bufwinid(resp_buf))
  vim.cmd("HttpSend")
  T.wait(15000, function()
    for i = notes + 1, #T.notes do
      if T.notes[i].level == vim.log.levels.ERROR then
        error("the plugin reported: " .. T.notes[i].msg)
      end
      if T.notes[i].msg:find("HTTP 200", 1, true) then
        return true
      end
    end
  end, "a second send from the response document")
  T.eq(before, #wins_under(vim.fs.joinpath(server_cache, "responses")), "response windows (reused)")
end)
