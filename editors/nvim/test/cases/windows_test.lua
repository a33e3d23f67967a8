--- Where responses open: `open = "split" | "tab" | "float"` (vsplit is send_test's), each
--- reused for the next response, and the cursor kept in the request unless `focus`.
local httplens = require("httplens")

local ws = T.api_workspace("windows")
httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev" })
vim.cmd.edit(ws .. "/api.http")
local req_buf = vim.api.nvim_get_current_buf()
local req_win = vim.api.nvim_get_current_win()
T.client(req_buf)

local function close_responses()
  for _, win in ipairs(T.response_wins()) do
    pcall(vim.api.nvim_win_close, win, true)
  end
  vim.api.nvim_set_current_win(req_win)
end

---:HttpSend from the request window; returns the response window once it shows a status.
local function send()
  vim.api.nvim_set_current_win(req_win)
  vim.api.nvim_win_set_cursor(req_win, { 5, 0 })
  local done = false
  httplens.send(nil, function(err)
    done = err and err.message or true
  end)
  T.wait(15000, function()
    return done
  end, "the send to finish")
  T.eq(true, done, "send result")
  local win = T.wait(5000, function()
    return T.response_wins()[1]
  end, "a response window")
  T.wait(5000, function()
    local first = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, 1, false)[1] or ""
    return first:match("^HTTP/")
  end, "the status line in the response window")
  return win
end

T.test('open = "split" opens a horizontal split below and reuses it', function()
  close_responses()
  httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev", open = "split" })
  local win = send()
  T.eq("col", vim.fn.winlayout()[1], "layout (a horizontal split is a column)")
  T.eq(req_win, vim.api.nvim_get_current_win(), "cursor stays in the request")
  T.eq(win, send(), "second response window")
  T.eq(2, #vim.api.nvim_tabpage_list_wins(0), "windows")
end)

T.test('open = "tab" opens a tab page and reuses it', function()
  close_responses()
  httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev", open = "tab" })
  local tabs = #vim.api.nvim_list_tabpages()
  local win = send()
  T.eq(tabs + 1, #vim.api.nvim_list_tabpages(), "tab pages")
  T.ok(vim.api.nvim_win_get_tabpage(win) ~= vim.api.nvim_win_get_tabpage(req_win), "response in the request's tab")
  T.eq(req_win, vim.api.nvim_get_current_win(), "cursor stays in the request")
  T.eq(win, send(), "second response window")
  T.eq(tabs + 1, #vim.api.nvim_list_tabpages(), "tab pages after the second send")
end)

T.test('open = "float" with focus = true opens a focused floating window', function()
  close_responses()
  httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev", open = "float", focus = true })
  local win = send()
  T.eq("editor", vim.api.nvim_win_get_config(win).relative, "relative")
  T.eq(win, vim.api.nvim_get_current_win(), "the float has the focus")
  T.eq(1, vim.api.nvim_win_get_cursor(win)[1], "cursor on the status line")
end)

T.test("no errors were reported", function()
  T.eq({}, T.errors(), "errors")
end)
