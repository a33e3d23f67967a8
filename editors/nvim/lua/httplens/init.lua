--- httplens.nvim: the public API. `setup()` starts `httplens lsp` for http buffers; the
--- functions below back the :Http* commands and can be mapped directly.
local state = require("httplens.state")
local config = require("httplens.config")
local client_mod = require("httplens.client")

local M = {}

local api = vim.api
local notify = client_mod.notify
local ERROR = vim.log.levels.ERROR

---The httplens client of the current buffer, or an error message saying what to do.
---@return vim.lsp.Client|nil, integer
local function current()
  M.ensure_setup()
  local bufnr = api.nvim_get_current_buf()
  local client = client_mod.get(bufnr)
  if not client then
    if state.start_error then
      notify(state.start_error, ERROR)
    else
      notify("this buffer is not an .http file with the httplens server attached", ERROR)
    end
    return nil, bufnr
  end
  return client, bufnr
end

local function uri(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

---The last known `httplens/state` of the current buffer's server (nil before it answers).
---@param bufnr integer|nil
function M.state(bufnr)
  local client = client_mod.get(bufnr or 0)
  return client and state.server[client.id] or nil
end

---Fresh `httplens/state`, waiting for the server (at most `timeout_ms`).
function M.state_sync(bufnr, timeout_ms)
  local client = client_mod.get(bufnr or 0)
  if not client then
    return nil
  end
  return (client_mod.fetch_state_sync(client, bufnr or api.nvim_get_current_buf(), timeout_ms))
end

local function describe_send(result)
  if type(result) ~= "table" then
    return "sent"
  end
  local parts = {}
  if result.status ~= nil and result.status ~= vim.NIL then
    table.insert(parts, "HTTP " .. tostring(result.status))
  else
    table.insert(parts, "no response")
  end
  if type(result.elapsedMs) == "number" then
    table.insert(parts, ("in %d ms"):format(result.elapsedMs))
  end
  return table.concat(parts, " ")
end

---Send a request block (default: the one under the cursor). `opts.uri` names another
---document of the same server (a lens's argument), `opts.version` the document version
---a lens was made for (the server refuses it once the text changed). `cb(err, result)`
---when done.
---@param opts {line: integer|nil, uri: string|nil, version: integer|nil}|nil line is 0-based
---@param cb fun(err: table|nil, result: table|nil)|nil
function M.send(opts, cb)
  opts = opts or {}
  local client, bufnr = current()
  if not client then
    return
  end
  local in_response = client_mod.is_response(bufnr)
  if not in_response then
    -- Responses open beside the request; from a response, keep the request's window.
    state.origin_win = api.nvim_get_current_win()
  end
  if not opts.uri and in_response then
    -- In a response document the server offers `Send again` with the request's place.
    for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
      local c = lens.command
      if c and c.command == "httplens.send" and type(c.arguments) == "table" and type(c.arguments[1]) == "table" then
        return M.send({ uri = c.arguments[1].uri, line = c.arguments[1].line }, cb)
      end
    end
    notify("this response document has no `Send again` lens yet", ERROR)
    return
  end
  local line = opts.line or (api.nvim_win_get_cursor(0)[1] - 1)
  local arg = { uri = opts.uri or uri(bufnr), line = line, version = opts.version }
  return client_mod.exec(client, bufnr, "httplens.send", arg, function(err, result)
    if not err then
      notify(describe_send(result))
    end
    client_mod.refresh_lenses(bufnr)
    if cb then
      cb(err, result)
    end
  end, { progress = true })
end

---One line for a Send All outcome: `login (line 3)  200  12 ms`, or why it got no response.
local function describe_outcome(r)
  local label = type(r.label) == "string" and r.label or "request"
  if r.status == nil or r.status == vim.NIL then
    local why = (type(r.error) == "string" and r.error) or "no response"
    -- The server's error starts with the label already.
    if why:sub(1, #label + 2) == label .. ": " then
      why = why:sub(#label + 3)
    end
    return ("%s  no response: %s"):format(label, why)
  end
  local line = ("%s  %s  %d ms"):format(label, tostring(r.status), tonumber(r.elapsedMs) or 0)
  if r.responseUri == nil or r.responseUri == vim.NIL then
    line = line .. "  (not saved: # @no-log)"
  end
  return line
end

---Let the user pick one of Send All's outcomes (`vim.ui.select`) and open its response
---document in the response window. `cb(outcome|nil)` once chosen (nil: dismissed).
---@param results table[] the `httplens.sendAll` result
function M.pick_response(results, cb)
  vim.ui.select(results, {
    prompt = "Open the response of:",
    kind = "httplens.response",
    format_item = describe_outcome,
  }, function(choice)
    if choice then
      local u = choice.responseUri
      if type(u) == "string" and u ~= "" then
        require("httplens.window").open_response(vim.uri_to_fname(u))
      else
        notify(describe_outcome(choice), vim.log.levels.WARN)
      end
    end
    if cb then
      cb(choice)
    end
  end)
end

---Send every request of the current file, in order; then (two or more requests) pick
---which response to open with `vim.ui.select` (the server has shown the last one).
function M.send_all(cb)
  local client, bufnr = current()
  if not client then
    return
  end
  state.origin_win = api.nvim_get_current_win()
  return client_mod.exec(client, bufnr, "httplens.sendAll", { uri = uri(bufnr) }, function(err, result)
    -- The server sums the requests up itself (`window/showMessage`), naming each
    -- response document and any request that got no response.
    client_mod.refresh_lenses(bufnr)
    local function done()
      if cb then
        cb(err, result)
      end
    end
    if not err and type(result) == "table" and #result > 1 then
      M.pick_response(result, done)
    else
      done()
    end
  end, { progress = true })
end

---Cancel every request or sign-in still running.
function M.cancel()
  local n = client_mod.cancel_all()
  if n == 0 then
    notify("nothing is running")
  end
  return n
end

---Names of the auth profiles the server knows for the current buffer, optionally only
---those signed in (`true`) or out (`false`).
---@param signed_in boolean|nil
function M.profiles(signed_in, bufnr)
  local st = M.state(bufnr) or M.state_sync(bufnr, 1000)
  local names = {}
  for _, p in ipairs(st and st.profiles or {}) do
    if signed_in == nil or (p.signedIn == true) == signed_in then
      table.insert(names, p.id)
    end
  end
  return names
end

---Names of the environments of the current buffer's workspace.
function M.environments(bufnr)
  local st = M.state(bufnr) or M.state_sync(bufnr, 1000)
  return st and st.environments or {}
end

---Let the user pick one of `items` (none to pick from: an error; one: taken as is).
local function pick(items, prompt, what, cb)
  if #items == 0 then
    notify(what, ERROR)
  elseif #items == 1 then
    cb(items[1])
  else
    vim.ui.select(items, { prompt = prompt }, function(choice)
      if choice then
        cb(choice)
      end
    end)
  end
end

---Sign in to an auth profile (picked from the signed-out ones when not given). The server
---opens the browser and shows the authorize URL; `:HttpSignInComplete` takes a pasted one.
function M.sign_in(profile, cb)
  local client, bufnr = current()
  if not client then
    return
  end
  local function go(p)
    state.signing_in[p] = true
    notify(("signing in to %s: waiting for the browser (:HttpSignInComplete to paste the redirected URL)"):format(p))
    client_mod.exec(client, bufnr, "httplens.signIn", { profile = p, uri = uri(bufnr) }, function(err, result)
      state.signing_in[p] = nil
      if not err then
        local who = type(result) == "table" and result.account
        notify(("signed in to %s%s"):format(p, (who and who ~= vim.NIL) and (" as " .. who) or ""))
      end
      client_mod.fetch_state(client, bufnr)
      client_mod.refresh_lenses(bufnr)
      if cb then
        cb(err, result)
      end
    end, { progress = true })
  end
  if profile and profile ~= "" then
    go(profile)
  else
    pick(M.profiles(false, bufnr), "Sign in to:", "no signed-out auth profile in this workspace", go)
  end
end

---Finish a sign-in with the URL the browser was redirected to (when it could not come back
---by itself, e.g. on a remote machine). Prompts for what is not given.
function M.complete_sign_in(profile, redirect_url, cb)
  local client, bufnr = current()
  if not client then
    return
  end
  local function with_url(p)
    local function go(url)
      if not url or vim.trim(url) == "" then
        return
      end
      client_mod.exec(
        client,
        bufnr,
        "httplens.completeSignIn",
        { profile = p, redirectUrl = vim.trim(url) },
        function(err, result)
          if not err then
            notify(("sign-in to %s completed"):format(p))
          end
          client_mod.fetch_state(client, bufnr)
          client_mod.refresh_lenses(bufnr)
          if cb then
            cb(err, result)
          end
        end
      )
    end
    if redirect_url then
      go(redirect_url)
    else
      vim.ui.input({ prompt = ("Redirected URL for %s: "):format(p) }, go)
    end
  end
  if profile and profile ~= "" then
    with_url(profile)
  else
    local pending = vim.tbl_keys(state.signing_in)
    if #pending == 0 then
      pending = M.profiles(false, bufnr)
    end
    table.sort(pending)
    pick(pending, "Complete sign-in to:", "no sign-in is waiting", with_url)
  end
end

---Sign out of a profile (picked from the signed-in ones when not given).
function M.sign_out(profile, cb)
  local client, bufnr = current()
  if not client then
    return
  end
  local function go(p)
    client_mod.exec(client, bufnr, "httplens.signOut", { profile = p, uri = uri(bufnr) }, function(err, result)
      if not err then
        notify(("signed out of %s"):format(p))
      end
      client_mod.fetch_state(client, bufnr)
      client_mod.refresh_lenses(bufnr)
      if cb then
        cb(err, result)
      end
    end)
  end
  if profile and profile ~= "" then
    go(profile)
  else
    pick(M.profiles(true, bufnr), "Sign out of:", "no auth profile is signed in", go)
  end
end

---Select the environment (picked with vim.ui.select when no name is given).
function M.select_environment(name, cb)
  local client, bufnr = current()
  if not client then
    return
  end
  local function go(n)
    client_mod.exec(client, bufnr, "httplens.selectEnvironment", { uri = uri(bufnr), name = n }, function(err, result)
      if not err then
        notify("environment: " .. n)
      end
      client_mod.fetch_state(client, bufnr, function()
        client_mod.refresh_client_lenses(client)
        if cb then
          cb(err, result)
        end
      end)
    end)
  end
  if name and name ~= "" then
    go(name)
  else
    pick(M.environments(bufnr), "Environment:", "no environments: add an http-client.env.json beside your requests", go)
  end
end

---Copy the request under the cursor as a curl command line into the `+` and `"` registers.
---Secrets are masked unless `reveal`.
function M.copy_curl(reveal, cb)
  return M.copy_code("curl", reveal, cb)
end

local CODE_NAMES = { curl = "curl command", python = "Python requests code", javascript = "JavaScript fetch code" }

---The languages `copy_code` knows.
M.code_languages = { "curl", "python", "javascript" }

---Copy the request under the cursor as code (`language`: curl, python or javascript) into
---the `+` and `"` registers. Secrets are masked unless `reveal`.
function M.copy_code(language, reveal, cb)
  local client, bufnr = current()
  if not client then
    return
  end
  local what = CODE_NAMES[language]
  if not what then
    notify("copy as what? one of: " .. table.concat(M.code_languages, ", "), ERROR)
    return
  end
  local line = api.nvim_win_get_cursor(0)[1] - 1
  local arg = { uri = uri(bufnr), line = line, language = language }
  if reveal then
    arg.reveal = true
  end
  return client_mod.exec(client, bufnr, "httplens.copyAsCode", arg, function(err, result)
    if not err and type(result) == "string" then
      vim.fn.setreg('"', result)
      -- The `+` register needs a clipboard provider; without one the unnamed register
      -- still holds the command (and Neovim would only complain about the provider).
      local ok = vim.fn.has("clipboard") == 1 and pcall(vim.fn.setreg, "+", result)
      notify(ok and (what .. " copied") or (what .. " copied to the \" register (no clipboard)"))
    elseif not err then
      notify("the server returned no " .. what, ERROR)
    end
    if cb then
      cb(err, result)
    end
  end)
end

---Open the two responses of the current response document's request side by side.
function M.compare_with_previous(cb)
  local client, bufnr = current()
  if not client then
    return
  end
  return client_mod.exec(client, bufnr, "httplens.compareWithPrevious", { responseUri = uri(bufnr) }, function(err, result)
    if not err then
      if type(result) == "string" and result ~= "" then
        local path = result:match("^file://") and vim.uri_to_fname(result) or result
        vim.cmd("diffthis")
        vim.cmd("vertical diffsplit " .. vim.fn.fnameescape(path))
      else
        notify("no earlier response to compare with")
      end
    end
    if cb then
      cb(err, result)
    end
  end)
end

---Show the request a response document came from.
function M.open_request()
  local client, bufnr = current()
  if not client then
    return
  end
  return client_mod.exec(client, bufnr, "httplens.openRequest", { responseUri = uri(bufnr) })
end

---Run a lens command of the server through the functions above, so a lens does what the
---matching :Http* command does (progress, the response split, pickers instead of prompts).
function M._exec_lens_command(client, bufnr, command, cb)
  local arg = (command.arguments or {})[1] or {}
  local name = command.command
  local function in_buf(fn)
    return api.nvim_buf_call(bufnr, fn)
  end
  if name == "httplens.send" then
    return in_buf(function()
      return M.send({ uri = arg.uri, line = arg.line, version = arg.version }, cb)
    end)
  elseif name == "httplens.sendAll" then
    return in_buf(function()
      return M.send_all(cb)
    end)
  elseif name == "httplens.selectEnvironment" then
    return in_buf(function()
      return M.select_environment(arg.name, cb)
    end)
  elseif name == "httplens.signIn" then
    return in_buf(function()
      return M.sign_in(arg.profile, cb)
    end)
  elseif name == "httplens.signOut" then
    return in_buf(function()
      return M.sign_out(arg.profile, cb)
    end)
  elseif name == "httplens.compareWithPrevious" then
    return in_buf(function()
      return M.compare_with_previous(cb)
    end)
  end
  state.origin_win = api.nvim_get_current_win()
  return client_mod.exec(client, bufnr, name, arg, cb, { progress = true })
end

local LENS_COMMANDS = {
  "httplens.send",
  "httplens.sendAll",
  "httplens.selectEnvironment",
  "httplens.signIn",
  "httplens.signOut",
  "httplens.compareWithPrevious",
}

---Status line text for the current buffer: the environment and each profile's sign-in
---state as the server words it, e.g. `env: dev | shop: signed in as jane@example.com, 52
---min left`; empty outside httplens buffers.
function M.statusline()
  local client = client_mod.get(0)
  if not client then
    return ""
  end
  local st = state.server[client.id]
  if not st then
    return "httplens"
  end
  local env = st.environment
  local parts = { "env: " .. ((env and env ~= vim.NIL) and env or "none") }
  for _, p in ipairs(st.profiles or {}) do
    -- The server's words (`summary`), e.g. `signed in as jane@example.com, 52 min left`.
    table.insert(parts, p.id .. ": " .. (type(p.summary) == "string" and p.summary or "?"))
  end
  return table.concat(parts, " | ")
end

local progress_group = api.nvim_create_augroup("httplens.progress", { clear = true })

---Show `$/progress` of this plugin's commands while they run.
local function watch_progress()
  api.nvim_clear_autocmds({ group = progress_group })
  if not state.config.progress then
    return
  end
  api.nvim_create_autocmd("LspProgress", {
    group = progress_group,
    callback = function(ev)
      local data = ev.data or {}
      local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
      if not client or client.name ~= client_mod.NAME then
        return
      end
      local value = (data.params or {}).value
      if type(value) ~= "table" then
        return
      end
      local text = value.title or "working"
      if value.message and value.message ~= "" then
        text = text .. ": " .. value.message
      end
      if type(value.percentage) == "number" then
        text = ("%s (%d%%)"):format(text, value.percentage)
      end
      if value.kind == "end" and not (value.message and value.message ~= "") then
        text = text .. ": done"
      end
      if state.config.progress == "notify" then
        notify(text)
      else
        api.nvim_echo({ { "httplens: " .. text } }, false, {})
      end
    end,
  })
end

local setup_group = api.nvim_create_augroup("httplens.setup", { clear = true })

---Configure the plugin and start the server for http buffers (already open ones too).
---@param opts table|nil see `:help httplens-setup`
function M.setup(opts)
  state.config = config.resolve(opts)
  state.response_win = nil -- the next response opens as the (maybe new) `open` says
  api.nvim_clear_autocmds({ group = setup_group })
  api.nvim_create_autocmd("FileType", {
    group = setup_group,
    pattern = state.config.filetypes,
    callback = function(ev)
      client_mod.start(ev.buf)
    end,
  })
  for _, name in ipairs(LENS_COMMANDS) do
    vim.lsp.commands[name] = function(command, ctx)
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      if client then
        M._exec_lens_command(client, ctx.bufnr, command)
      end
    end
  end
  watch_progress()
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) and vim.tbl_contains(state.config.filetypes, vim.bo[buf].filetype) then
      client_mod.start(buf)
    end
  end
end

---Run setup() with defaults when a command is used before it was called.
function M.ensure_setup()
  if not state.config then
    M.setup({})
  end
end

return M
