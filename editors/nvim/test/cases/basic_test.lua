--- Setup, filetypes, attaching to the real server, and lenses that follow edits.
local httplens = require("httplens")

T.test("setup rejects a bad option with a clear message", function()
  local ok, err = pcall(httplens.setup, { open = "sideways" })
  T.ok(not ok, "setup accepted open = sideways")
  T.has(tostring(err), "option `open` must be one of vsplit, split, tab, float")
end)

T.test(".http and .rest files are the http filetype", function()
  T.eq("http", vim.filetype.match({ filename = "x/api.http" }), ".http")
  T.eq("http", vim.filetype.match({ filename = "x/api.rest" }), ".rest")
end)

T.test("the commands exist", function()
  local cmds = vim.api.nvim_get_commands({})
  for _, name in ipairs({ "HttpSend", "HttpSendAll", "HttpSignIn", "HttpSignOut", "HttpSignInComplete", "HttpEnv", "HttpCopyCurl", "HttpCancel" }) do
    T.ok(cmds[name], ":" .. name .. " is not defined")
  end
end)

local ws = T.api_workspace("basic")
local bufnr

T.test("the server attaches to an .http buffer with the workspace root", function()
  httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev" })
  vim.cmd.edit(ws .. "/api.http")
  bufnr = vim.api.nvim_get_current_buf()
  local client = T.client(bufnr)
  T.eq("http", vim.bo[bufnr].filetype, "filetype")
  T.eq(ws, client.root_dir, "root_dir")
  T.ok(client.server_capabilities.codeLensProvider, "server offers no code lenses")
  local cmds = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  T.ok(vim.tbl_contains(cmds, "httplens.send"), "server does not offer httplens.send: " .. vim.inspect(cmds))
end)

T.test("a .rest file in the same workspace shares the client", function()
  local f = assert(io.open(ws .. "/more.rest", "w"))
  f:write("GET http://127.0.0.1:" .. T.port .. "/rest\n")
  f:close()
  local first = T.client(bufnr)
  local b2, c2 = T.open(ws .. "/more.rest")
  T.eq("http", vim.bo[b2].filetype, "filetype of .rest")
  T.eq(first.id, c2.id, "client id")
  vim.cmd.buffer(bufnr)
end)

T.test("lenses: Send request above each request, env on the first line", function()
  local lenses = T.lenses(bufnr, function(ls)
    return #ls >= 3
  end, "three lenses")
  local sends, env = {}, nil
  for _, l in ipairs(lenses) do
    if l.command.title == "Send request" then
      T.eq("httplens.send", l.command.command, "send lens command")
      table.insert(sends, l.range.start.line)
    elseif l.command.title:match("^env:") then
      env = l
    end
  end
  T.eq(2, #sends, "number of Send request lenses (" .. vim.inspect(vim.tbl_map(function(l)
    return l.command.title
  end, lenses)) .. ")")
  -- Lines (0-based): the request lines are 4 and 8; a lens sits on the block, at or above.
  T.ok(sends[1] <= 4 and sends[1] >= 2, "first Send lens on line " .. sends[1])
  T.ok(sends[2] <= 8 and sends[2] >= 6, "second Send lens on line " .. sends[2])
  T.ok(env, "no env lens")
  T.eq(0, env.range.start.line, "env lens line")
  T.eq("env: dev", env.command.title, "env lens title")
  T.eq("httplens.selectEnvironment", env.command.command, "env lens command")
end)

T.test("lenses follow an edit (a new request gets its lens)", function()
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { "", "### third", "GET {{host}}/third", "" })
  local lenses = T.lenses(bufnr, function(ls)
    local n = 0
    for _, l in ipairs(ls) do
      if l.command and l.command.title == "Send request" then
        n = n + 1
      end
    end
    return n == 3
  end, "a third Send request lens after the edit")
  T.ok(#lenses >= 4)
end)

T.test("statusline shows the environment", function()
  T.wait(5000, function()
    return httplens.statusline():find("env: dev", 1, true)
  end, "statusline with env: dev, got " .. vim.inspect(httplens.statusline()))
end)

T.test("a change made behind the plugin's back reaches lenses and statusline", function()
  -- Switch the environment with a bare executeCommand: only the server's
  -- workspace/codeLens/refresh and httplens/stateChanged can tell the plugin.
  local client = T.client(bufnr)
  local resp = client:request_sync("workspace/executeCommand", {
    command = "httplens.selectEnvironment",
    arguments = { { uri = vim.uri_from_bufnr(bufnr), name = "other" } },
  }, 5000, bufnr)
  T.ok(resp and not resp.err, "selectEnvironment failed: " .. vim.inspect(resp))
  T.wait(5000, function()
    for _, l in ipairs(vim.lsp.codelens.get(bufnr)) do
      if l.command and l.command.title == "env: other" then
        return true
      end
    end
  end, "the env lens to say env: other (workspace/codeLens/refresh)")
  T.wait(5000, function()
    return httplens.statusline():find("env: other", 1, true)
  end, "statusline env: other (httplens/stateChanged), got " .. httplens.statusline())
end)

T.test("running the env lens picks with vim.ui.select, the Send lens sends", function()
  vim.cmd.buffer(bufnr)
  local offered
  local real_select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    offered = vim.deepcopy(items)
    on_choice("dev")
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.codelens.run()
  vim.ui.select = real_select
  T.wait(5000, function()
    return offered
  end, "the environment picker")
  table.sort(offered)
  T.eq({ "dev", "other" }, offered, "environments offered")
  T.wait(5000, function()
    local st = httplens.state(bufnr)
    return st and st.environment == "dev"
  end, "environment dev after the lens")
  local send_line
  for _, l in ipairs(T.lenses(bufnr)) do
    if l.command.title == "Send request" then
      send_line = l.range.start.line
      break
    end
  end
  vim.api.nvim_win_set_cursor(0, { send_line + 1, 0 })
  vim.lsp.codelens.run()
  local win = T.wait(10000, function()
    return T.response_wins()[1]
  end, "a response window after running the Send request lens")
  T.wait(5000, function()
    return T.text(vim.api.nvim_win_get_buf(win)):find("hello-dev", 1, true)
  end, "the response to the lens's send")
end)

T.test("no errors were reported", function()
  T.eq({}, T.errors(), "errors")
end)
