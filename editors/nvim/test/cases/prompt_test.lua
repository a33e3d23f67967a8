--- `# @prompt` from Neovim: the plugin answers the server's `httplens/prompt` with
--- `vim.ui.input` (a secret one with `input_secret`, `inputsecret()` by default). Both are
--- replaced here the way a UI plugin replaces them, so the test can type the answers:
--- one answers later (like a floating input), one at once (like `inputsecret()`).
local httplens = require("httplens")
local plugin_client = require("httplens.client")

local ws = T.workspace("prompt", {
  ["prompt.http"] = table.concat({
    "### ask",
    "# @prompt who the user to greet",
    "# @prompt password",
    "GET {{host}}/echo?who={{who}}&pw={{password}}",
    "",
  }, "\n"),
  ["http-client.env.json"] = vim.json.encode({ dev = { host = "http://127.0.0.1:{{PORT}}" } }),
})

local asked, answers = {}, {}
vim.ui.input = function(opts, on_confirm)
  table.insert(asked, { prompt = opts.prompt, secret = false })
  vim.defer_fn(function()
    on_confirm(answers.who)
  end, 20)
end
plugin_client.input_secret = function(prompt, on_confirm)
  table.insert(asked, { prompt = prompt, secret = true })
  on_confirm(answers.password)
end

httplens.setup({ cmd = { T.bin, "lsp" }, environment = "dev" })
vim.cmd.edit(ws .. "/prompt.http")
local req_buf = vim.api.nvim_get_current_buf()
local req_win = vim.api.nvim_get_current_win()
T.client(req_buf)

T.test("a dismissed @prompt sends nothing and says why", function()
  answers = {}
  vim.api.nvim_win_set_cursor(req_win, { 4, 0 })
  vim.cmd("HttpSend")
  local err = T.wait(15000, function()
    for _, e in ipairs(T.errors()) do
      if e:find("no value was given for `who`", 1, true) then
        return e
      end
    end
  end, "an error that `who` got no value")
  T.ok(err, "error shown")
  T.eq(0, #T.response_wins(), "response windows")
end)

T.test("answered: sent with the values, the description shown, the password hidden", function()
  answers = { who = "jane", password = "pw-from-nvim" }
  asked = {}
  vim.api.nvim_set_current_win(req_win)
  vim.api.nvim_win_set_cursor(req_win, { 4, 0 })
  vim.cmd("HttpSend")
  local win = T.wait(15000, function()
    return T.response_wins()[1]
  end, "a response window")
  local buf = vim.api.nvim_win_get_buf(win)
  T.wait(5000, function()
    return T.text(buf):find('"path": "/echo"', 1, true)
  end, "the echoed response")
  local text = T.text(buf)
  T.has(text, '"who": "jane"', "the typed value")
  T.has(text, '"pw": "***"', "the secret, masked in the response document")
  T.ok(not text:find("pw-from-nvim", 1, true), "the typed secret is not shown")
  T.eq({
    { prompt = "the user to greet: ", secret = false },
    { prompt = "A value for password (# @prompt): ", secret = true },
  }, asked, "what was asked")
end)
