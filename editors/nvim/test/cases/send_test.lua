--- Sending against the local echo server: the response opens in a split beside the
--- request (and reuses it), :HttpEnv switches what the next send uses, :HttpCopyCurl fills
--- the registers, progress is shown, :HttpSendAll sends every request and opens the
--- response picked with vim.ui.select.
local httplens = require("httplens")

-- A clipboard provider that keeps `+` in memory, so the `+` path is exercised headless.
local clip = {}
vim.g.clipboard = {
  name = "httplens-test",
  copy = {
    ["+"] = function(lines, regtype)
      clip["+"] = { lines, regtype }
    end,
    ["*"] = function(lines, regtype)
      clip["*"] = { lines, regtype }
    end,
  },
  paste = {
    ["+"] = function()
      return clip["+"] or { {}, "v" }
    end,
    ["*"] = function()
      return clip["*"] or { {}, "v" }
    end,
  },
}

local ws = T.api_workspace("send")
local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local v = ev.data and ev.data.params and ev.data.params.value
    if type(v) == "table" then
      table.insert(progress, { kind = v.kind, title = v.title, token = ev.data.params.token })
    end
  end,
})

httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev", progress = "notify" })
vim.cmd.edit(ws .. "/api.http")
local req_buf = vim.api.nvim_get_current_buf()
local req_win = vim.api.nvim_get_current_win()
T.client(req_buf)

---Send the request on 1-based `line` with :HttpSend and wait for its response window.
local function send_at(line, previous_buf)
  vim.api.nvim_set_current_win(req_win)
  vim.api.nvim_win_set_cursor(req_win, { line, 0 })
  local before = #T.notes
  vim.cmd("HttpSend")
  local win = T.wait(15000, function()
    for i = before + 1, #T.notes do
      if T.notes[i].level == vim.log.levels.ERROR then
        error("the plugin reported: " .. T.notes[i].msg)
      end
    end
    local wins = T.response_wins()
    if #wins == 1 and vim.api.nvim_win_get_buf(wins[1]) ~= previous_buf then
      return wins[1]
    end
  end, "a response window after :HttpSend")
  local buf = vim.api.nvim_win_get_buf(win)
  -- The window opens as soon as the server asks; wait for the file to be read in.
  T.wait(5000, function()
    return (vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] or ""):match("^HTTP/")
  end, "the response's status line")
  return win, buf
end

local first_win, first_buf

T.test(":HttpSend opens the response in a vertical split beside the request", function()
  local wins_before = #vim.api.nvim_tabpage_list_wins(0)
  first_win, first_buf = send_at(5)
  T.eq(wins_before + 1, #vim.api.nvim_tabpage_list_wins(0), "windows in the tab")
  T.eq("row", vim.fn.winlayout()[1], "layout (a vertical split is a row)")
  local lines = vim.api.nvim_buf_get_lines(first_buf, 0, -1, false)
  T.ok(lines[1]:match("^HTTP/%S+ 200"), "status line: " .. lines[1])
  local text = T.text(first_buf)
  T.has(text, '"path": "/echo"', "response body")
  T.has(text, "hello-dev", "response body (dev value)")
  T.eq(req_win, vim.api.nvim_get_current_win(), "the cursor stays in the request")
  T.eq("http", vim.bo[first_buf].filetype, "response filetype")
  -- The window opens when the server asks (window/showDocument); the command's own
  -- answer, which the notification reports, follows it.
  T.wait(5000, function()
    return T.noted("HTTP 200 in ")
  end, "an 'HTTP 200 in N ms' notification")
end)

T.test("progress was reported for the send", function()
  local begun, ended = false, false
  T.wait(5000, function()
    for _, p in ipairs(progress) do
      if type(p.token) == "string" and p.token:match("^httplens%-") then
        begun = begun or p.kind == "begin"
        ended = ended or p.kind == "end"
      end
    end
    return begun and ended
  end, "begin and end $/progress on the plugin's token: " .. vim.inspect(progress))
  -- progress = "notify" in setup(): the user saw it.
  T.ok(T.noted("httplens: Sending echo"), "progress was not shown")
end)

T.test("the next response reuses the same window", function()
  local wins_before = #vim.api.nvim_tabpage_list_wins(0)
  local win, buf = send_at(9, first_buf)
  T.eq(first_win, win, "response window")
  T.eq(wins_before, #vim.api.nvim_tabpage_list_wins(0), "windows in the tab")
  local text = T.text(buf)
  T.has(text, '"method": "POST"', "second response")
  T.has(text, '\\"name\\": \\"hello-dev\\"', "POST body echoed")
end)

T.test(":HttpEnv other switches the environment and the next send uses it", function()
  vim.api.nvim_set_current_win(req_win)
  vim.cmd("HttpEnv other")
  T.wait(5000, function()
    local st = httplens.state(req_buf)
    return st and st.environment == "other"
  end, "httplens/state to say environment other")
  T.wait(5000, function()
    return httplens.statusline():find("env: other", 1, true)
  end, "statusline env: other (got " .. httplens.statusline() .. ")")
  local lenses = T.lenses(req_buf, function(ls)
    for _, l in ipairs(ls) do
      if l.command and l.command.title == "env: other" then
        return true
      end
    end
  end, "the env lens to say env: other")
  T.ok(#lenses > 0)
  local _, buf = send_at(5, vim.api.nvim_win_get_buf(first_win))
  local text = T.text(buf)
  T.has(text, "hello-other", "response after switching")
  T.ok(not text:find("hello-dev", 1, true), "the dev value is still used")
end)

T.test(":HttpEnv without a name picks from the environments", function()
  local offered
  local real_select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    offered = items
    on_choice("dev")
  end
  vim.api.nvim_set_current_win(req_win)
  vim.cmd("HttpEnv")
  vim.ui.select = real_select
  T.eq({ "dev", "other" }, offered and vim.fn.sort(vim.deepcopy(offered)), "environments offered")
  T.wait(5000, function()
    local st = httplens.state(req_buf)
    return st and st.environment == "dev"
  end, "environment dev")
end)

T.test(":HttpCopyCurl puts a curl command in the + and \" registers", function()
  vim.api.nvim_set_current_win(req_win)
  vim.api.nvim_win_set_cursor(req_win, { 5, 0 })
  vim.fn.setreg('"', "")
  clip["+"] = nil
  vim.cmd("HttpCopyCurl")
  local reg = T.wait(5000, function()
    local r = vim.fn.getreg('"')
    return r ~= "" and r
  end, 'the " register')
  T.has(reg, "curl", '" register')
  T.has(reg, "127.0.0.1:" .. T.port .. "/echo?g=hello-dev", '" register URL')
  T.ok(clip["+"], "the + register was not set")
  T.has(table.concat(clip["+"][1], "\n"), "/echo?g=hello-dev", "+ register")
end)

T.test(":HttpCopyCode python and javascript copy the request as code", function()
  vim.api.nvim_set_current_win(req_win)
  vim.api.nvim_win_set_cursor(req_win, { 5, 0 })
  for lang, start in pairs({ python = "import requests", javascript = "const response = await fetch(" }) do
    vim.fn.setreg('"', "")
    vim.cmd("HttpCopyCode " .. lang)
    local reg = T.wait(5000, function()
      local r = vim.fn.getreg('"')
      return r ~= "" and r
    end, 'the " register (' .. lang .. ")")
    T.has(reg, start, lang)
    T.has(reg, "127.0.0.1:" .. T.port .. "/echo?g=hello-dev", lang .. " URL")
  end
end)

T.test(":HttpSendAll sends every request and opens the response picked", function()
  vim.api.nvim_set_current_win(req_win)
  local done, result, failure, offered
  -- The user picks the first request: its response replaces the last one (which the
  -- server showed) in the response window.
  local real_select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    offered = { items = items, prompt = opts.prompt, shown = vim.tbl_map(opts.format_item, items) }
    on_choice(items[1], 1)
  end
  local ok, e = pcall(function()
    httplens.send_all(function(err, res)
      done, result, failure = true, res, err
    end)
    T.wait(20000, function()
      return done
    end, "sendAll to finish")
  end)
  vim.ui.select = real_select
  assert(ok, e)
  T.ok(not failure, "sendAll failed: " .. vim.inspect(failure))
  T.ok(type(result) == "table" and #result == 2, "sendAll result: " .. vim.inspect(result))
  for _, r in ipairs(result) do
    T.eq(200, r.status, "status")
    T.ok(type(r.responseUri) == "string" and r.responseUri:match("^file:"), "responseUri")
  end
  T.ok(offered, "vim.ui.select was not called")
  T.eq(2, #offered.items, "outcomes offered")
  T.has(offered.shown[1], "echo (line 5)  200  ", "first item")
  T.has(offered.shown[2], "create (line 9)  200  ", "second item")
  -- The response window now shows the first request's response.
  local wins = T.response_wins()
  T.eq(1, #wins, "response windows")
  local buf = vim.api.nvim_win_get_buf(wins[1])
  local want = vim.uv.fs_realpath(vim.uri_to_fname(result[1].responseUri))
  T.eq(want, vim.uv.fs_realpath(vim.api.nvim_buf_get_name(buf)), "the buffer in the response window")
  T.wait(5000, function()
    return T.text(buf):find('"path": "/echo"', 1, true)
  end, "the echo response's body in the response window")
  -- One summary, from the server (`window/showMessage`, which the plugin records),
  -- naming each response document.
  local summary = T.wait(5000, function()
    for _, m in ipairs(require("httplens.state").messages) do
      if m:find("Sent 2 requests: 2 answered (200 ×2).", 1, true) then
        return m
      end
    end
  end, "the server's summary of the sent requests")
  for i, r in ipairs(result) do
    T.has(summary, (i == 1 and "echo (line 5)" or "create (line 9)") .. ": 200 in ", "summary")
    T.has(summary, vim.uri_to_fname(r.responseUri), "summary")
  end
end)

T.test(":HttpSendAll with the picker dismissed keeps the last response", function()
  vim.api.nvim_set_current_win(req_win)
  local done, result
  local real_select = vim.ui.select
  vim.ui.select = function(_, _, on_choice)
    on_choice(nil, nil)
  end
  local ok, e = pcall(function()
    httplens.send_all(function(_, res)
      done, result = true, res
    end)
    T.wait(20000, function()
      return done
    end, "sendAll to finish")
  end)
  vim.ui.select = real_select
  assert(ok, e)
  local wins = T.response_wins()
  T.eq(1, #wins, "response windows")
  local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(wins[1]))
  T.eq(vim.uv.fs_realpath(vim.uri_to_fname(result[2].responseUri)), vim.uv.fs_realpath(name), "the last response")
end)

T.test("the response buffer is served by the same client, with no request lenses", function()
  local client = T.client(req_buf)
  local wins = T.response_wins()
  T.eq(1, #wins, "response windows")
  local buf = vim.api.nvim_win_get_buf(wins[1])
  local rc = T.client(buf)
  T.eq(client.id, rc.id, "client of the response buffer")
  local lenses = T.lenses(buf, nil, "lenses on the response document")
  for _, l in ipairs(lenses) do
    T.ok(l.command.title ~= "Send request", "a response document has a Send request lens")
  end
end)

T.test(":HttpSend in a response document sends its request again", function()
  local wins = T.response_wins()
  T.eq(1, #wins, "response windows")
  vim.api.nvim_set_current_win(wins[1])
  local buf = vim.api.nvim_get_current_buf()
  local titles = vim.tbl_map(function(l)
    return l.command.title
  end, T.lenses(buf, nil, "lenses on the response document"))
  T.ok(vim.tbl_contains(titles, "Send again"), "no Send again lens: " .. vim.inspect(titles))
  local before = 0
  for _, n in ipairs(T.notes) do
    if n.msg:find("HTTP 200 in ", 1, true) then
      before = before + 1
    end
  end
  vim.cmd("HttpSend")
  T.wait(10000, function()
    local now = 0
    for _, n in ipairs(T.notes) do
      if n.msg:find("HTTP 200 in ", 1, true) then
        now = now + 1
      end
    end
    return now > before
  end, "another 'HTTP 200' after Send again")
  vim.api.nvim_set_current_win(req_win)
end)

T.test(":HttpCancel stops a slow request", function()
  local slow = T.workspace("slow", {
    ["slow.http"] = "GET http://127.0.0.1:{{PORT}}/slow?ms=8000\n",
  })
  vim.cmd.edit(slow .. "/slow.http")
  local buf = vim.api.nvim_get_current_buf()
  T.client(buf)
  local done, failure
  local started = vim.uv.hrtime()
  local seen = #progress
  httplens.send({ line = 0 }, function(err)
    done, failure = true, err
  end)
  local token = T.wait(5000, function()
    for i = seen + 1, #progress do
      if progress[i].kind == "begin" then
        return progress[i].token
      end
    end
  end, "the slow request to start (its $/progress begin)")
  T.eq(1, httplens.cancel(), "requests cancelled")
  T.wait(5000, function()
    return done
  end, "the cancelled request to end")
  local ms = (vim.uv.hrtime() - started) / 1e6
  T.ok(ms < 7000, ("the request ran %d ms, as if not cancelled"):format(ms))
  T.ok(failure, "a cancelled request answered with success")
  -- The server really stopped: it ends the progress it began, long before the 8 s reply.
  T.wait(3000, function()
    for i = seen + 1, #progress do
      if progress[i].token == token and progress[i].kind == "end" then
        return true
      end
    end
  end, "the server to end the cancelled request's progress")
  T.ok((vim.uv.hrtime() - started) / 1e6 < 7000, "the server ran the request to its end")
  vim.cmd.buffer(req_buf)
  -- The cancellation is not an error the user must read.
  for i = #T.notes, 1, -1 do
    if T.notes[i].level == vim.log.levels.ERROR and T.notes[i].msg:lower():find("cancel") then
      table.remove(T.notes, i)
    end
  end
end)

T.test("no errors were reported", function()
  T.eq({}, T.errors(), "errors")
end)
