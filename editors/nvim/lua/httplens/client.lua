--- httplens.nvim: starts `httplens lsp` for http buffers, finds a buffer's client, and
--- talks to it (commands with progress tokens, `httplens/state`, server-to-client handlers).
local state = require("httplens.state")
local config = require("httplens.config")

local M = {}

M.NAME = "httplens"

local uv = vim.uv or vim.loop
local has_011 = vim.fn.has("nvim-0.11") == 1

---Call a client method: 0.11 made them methods (`client:request`), 0.10 has plain fields.
---@param client vim.lsp.Client
---@param method string
function M.call(client, method, ...)
  if has_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

---@param msg string
---@param level integer|nil
function M.notify(msg, level)
  vim.notify("httplens: " .. msg, level or vim.log.levels.INFO, { title = "httplens" })
end

---Whether a buffer shows a response document, as the server says (`isResponse` of
---`httplens/state`): the last answer for the buffer, else asked now (up to `timeout_ms`).
---@param bufnr integer
---@param timeout_ms integer|nil
function M.is_response(bufnr, timeout_ms)
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local known = state.is_response[bufnr]
  if known ~= nil then
    return known
  end
  local client = M.get(bufnr)
  if not client then
    return false
  end
  M.fetch_state_sync(client, bufnr, timeout_ms or 2000)
  return state.is_response[bufnr] == true
end

---Whether `fname` lies in the folder a running server writes response documents to
---(`responsesDir` of its `httplens/state`), for a file that is not open yet.
---@param fname string
function M.in_responses_dir(fname)
  if fname == "" then
    return false
  end
  local real = uv.fs_realpath(fname) or vim.fs.normalize(fname)
  for _, st in pairs(state.server) do
    local dir = type(st.responsesDir) == "string" and st.responsesDir or nil
    if dir and dir ~= "" then
      dir = uv.fs_realpath(dir) or vim.fs.normalize(dir)
      if real:sub(1, #dir + 1) == dir .. "/" then
        return true
      end
    end
  end
  return false
end

---The workspace root of a buffer: the nearest folder holding the first root marker found
---(`.git` before the env files), else the file's own folder.
---@param bufnr integer
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  for _, marker in ipairs(state.config.root_markers) do
    local root = vim.fs.root(bufnr, marker)
    if root then
      return root
    end
  end
  if name == "" then
    return uv.cwd()
  end
  return vim.fs.dirname(vim.fs.normalize(name))
end

---The httplens client attached to a buffer, if any.
---@param bufnr integer|nil
---@return vim.lsp.Client|nil
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  return vim.lsp.get_clients({ bufnr = bufnr, name = M.NAME })[1]
end

---Every running httplens client.
function M.all()
  return vim.lsp.get_clients({ name = M.NAME })
end

---Neovim's capabilities plus what this server uses that Neovim does not offer by itself.
function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.workspace = caps.workspace or {}
  -- Neovim handles `workspace/codeLens/refresh` only through this plugin (below), so it
  -- must say it can: the server then refreshes lenses after a sign-in or env switch.
  caps.workspace.codeLens = { refreshSupport = true }
  -- This plugin answers `httplens/prompt` (the values of `# @prompt` variables).
  caps.experimental = caps.experimental or {}
  caps.experimental.httplensPrompt = true
  if state.config.capabilities then
    caps = vim.tbl_deep_extend("force", caps, state.config.capabilities)
  end
  return caps
end

-- Lens refresh, debounced per buffer so typing does not flood the server.
local timers = {}

---@param bufnr integer
---@param delay integer|nil milliseconds
function M.refresh_lenses(bufnr, delay)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local function run()
    if vim.api.nvim_buf_is_valid(bufnr) and M.get(bufnr) then
      vim.lsp.codelens.refresh({ bufnr = bufnr })
    end
  end
  if not delay or delay == 0 then
    run()
    return
  end
  local t = timers[bufnr]
  if not t then
    t = uv.new_timer()
    timers[bufnr] = t
  end
  t:stop()
  t:start(delay, 0, vim.schedule_wrap(run))
end

---Refresh the lenses of every buffer attached to a client.
---@param client vim.lsp.Client
function M.refresh_client_lenses(client)
  for bufnr in pairs(client.attached_buffers or {}) do
    M.refresh_lenses(bufnr)
  end
end

---Any buffer attached to the client, to name a document in requests that need one.
---@param client vim.lsp.Client
local function any_buffer(client)
  local current = vim.api.nvim_get_current_buf()
  if client.attached_buffers and client.attached_buffers[current] then
    return current
  end
  for bufnr in pairs(client.attached_buffers or {}) do
    return bufnr
  end
end

---Ask the server for `httplens/state` and cache it; `cb(err, state)` when given.
---@param client vim.lsp.Client
---@param bufnr integer|nil
---@param cb fun(err: table|nil, result: table|nil)|nil
function M.fetch_state(client, bufnr, cb)
  bufnr = bufnr or any_buffer(client)
  if not bufnr then
    if cb then
      cb({ message = "no buffer is attached to the server" }, nil)
    end
    return
  end
  local params = { uri = vim.uri_from_bufnr(bufnr) }
  M.call(client, "request", "httplens/state", params, function(err, result)
    if not err and type(result) == "table" then
      state.server[client.id] = result
      state.is_response[bufnr] = result.isResponse == true
      vim.schedule(function()
        pcall(vim.cmd.redrawstatus, { bang = true })
        vim.api.nvim_exec_autocmds("User", {
          pattern = "HttplensStateChanged",
          modeline = false,
          data = { client_id = client.id, state = result },
        })
      end)
    end
    if cb then
      cb(err, result)
    end
  end, bufnr)
end

---Same, waiting up to `timeout_ms` (for `:checkhealth`, command-line completion).
---@return table|nil result, string|nil error
function M.fetch_state_sync(client, bufnr, timeout_ms)
  bufnr = bufnr or any_buffer(client)
  if not bufnr then
    return nil, "no buffer is attached to the server"
  end
  local resp, err =
    M.call(client, "request_sync", "httplens/state", { uri = vim.uri_from_bufnr(bufnr) }, timeout_ms or 2000, bufnr)
  if not resp then
    return nil, err or "no answer"
  end
  if resp.err then
    return nil, resp.err.message
  end
  if type(resp.result) == "table" then
    state.server[client.id] = resp.result
    state.is_response[bufnr] = resp.result.isResponse == true
  end
  return resp.result, nil
end

---Whether the server showed this text in a recent `window/showMessage`.
---@param msg string
function M.recently_shown(msg)
  for i = #state.messages, math.max(1, #state.messages - 4), -1 do
    if state.messages[i] == msg then
      return true
    end
  end
  return false
end

local next_token = 0

---Run `workspace/executeCommand` with one object argument. `opts.progress` hands the
---server a work-done token so it reports `$/progress`. `on_done(err, result)` runs when
---the server answers; errors are shown unless `opts.quiet`.
---@return integer|nil request_id
function M.exec(client, bufnr, command, arg, on_done, opts)
  opts = opts or {}
  local params = { command = command, arguments = { arg } }
  local token
  if opts.progress then
    next_token = next_token + 1
    token = ("httplens-%d-%d"):format(uv.os_getpid(), next_token)
    state.tokens[token] = command
    params.workDoneToken = token
  end
  local request_id
  local finished = false
  -- Runs once: from the server's answer, or from cancel_all (Neovim drops the answer to a
  -- cancelled request, so the caller would otherwise never hear back).
  local function finish(err, result)
    if finished then
      return
    end
    finished = true
    if request_id then
      state.inflight[request_id] = nil
    end
    if token then
      state.tokens[token] = nil
    end
    if err and not opts.quiet then
      local msg = err.message or vim.inspect(err)
      if err.code == -32800 then
        M.notify("cancelled")
      elseif not M.recently_shown(msg) then
        -- (The server often says it already with window/showMessage: say it once.)
        M.notify(msg, vim.log.levels.ERROR)
      end
    end
    if on_done then
      on_done(err, result)
    end
  end
  local ok, id = M.call(client, "request", "workspace/executeCommand", params, finish, bufnr)
  if not ok then
    M.notify("the server is not running; reopen the file or run :LspRestart", vim.log.levels.ERROR)
    return nil
  end
  request_id = id
  state.inflight[id] = { client_id = client.id, command = command, token = token, finish = finish }
  return id
end

---Cancel every command still running (sends `$/cancelRequest`).
---@return integer how many were cancelled
function M.cancel_all()
  local n = 0
  for id, info in pairs(state.inflight) do
    local client = vim.lsp.get_client_by_id(info.client_id)
    if client then
      if info.token then
        -- The gentle way first: the server stops the work, ends its progress and answers.
        -- `$/cancelRequest` follows shortly for a server that ignores it.
        M.call(client, "notify", "window/workDoneProgress/cancel", { token = info.token })
        vim.defer_fn(function()
          if not M.call(client, "is_stopped") then
            M.call(client, "cancel_request", id)
          end
        end, 2000)
      else
        M.call(client, "cancel_request", id)
      end
      n = n + 1
    end
    state.inflight[id] = nil
    info.finish({ code = -32800, message = "cancelled" }, nil)
  end
  return n
end

-- Server-to-client handlers of this server's clients.
local handlers = {}

handlers["window/showDocument"] = function(err, params, ctx)
  return require("httplens.window").show_document(err, params, ctx)
end

handlers["workspace/codeLens/refresh"] = function(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    vim.schedule(function()
      M.refresh_client_lenses(client)
    end)
  end
  return vim.NIL
end

handlers["httplens/stateChanged"] = function(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  local bufnr
  if type(params) == "table" and params.uri then
    local b = vim.uri_to_bufnr(params.uri)
    if client.attached_buffers[b] then
      bufnr = b
    end
  end
  M.fetch_state(client, bufnr)
  vim.schedule(function()
    M.refresh_client_lenses(client)
  end)
end

---Asks for a secret without echo; `on_confirm(nil)` when dismissed. Replaceable (a UI
---plugin, or a test); `vim.ui.input` has no secret mode.
function M.input_secret(prompt, on_confirm)
  local ok, value = pcall(vim.fn.inputsecret, prompt)
  -- <Esc> and an empty answer both give "": take it as "not given".
  on_confirm((ok and value ~= "") and value or nil)
end

---Calls `ask(on_confirm)` and returns what it confirms: waits in the coroutine the
---server's request is handled in, whether `ask` answers at once or later.
local function await(ask)
  local co = coroutine.running()
  local done, answer, waiting = false, nil, false
  ask(function(value)
    done, answer = true, value
    if waiting then
      coroutine.resume(co)
    end
  end)
  if not done and co then
    waiting = true
    coroutine.yield()
  end
  return answer
end

-- `# @prompt name description`: the value, or null (then nothing is sent).
handlers["httplens/prompt"] = function(_, params)
  local label = (params.description ~= nil and params.description ~= "") and params.description
    or ("A value for " .. params.name .. " (# @prompt)")
  local value = await(function(on_confirm)
    if params.secret then
      M.input_secret(label .. ": ", on_confirm)
    else
      vim.ui.input({ prompt = label .. ": " }, on_confirm)
    end
  end)
  if value == nil then
    return vim.NIL
  end
  return { value = value }
end

handlers["window/showMessage"] = function(err, params, ctx, ...)
  if type(params) == "table" and params.message then
    table.insert(state.messages, params.message)
    if #state.messages > 20 then
      table.remove(state.messages, 1)
    end
  end
  return vim.lsp.handlers["window/showMessage"](err, params, ctx, ...)
end

-- Buffer-local autocmds that keep lenses fresh after edits.
local group = vim.api.nvim_create_augroup("httplens.lenses", { clear = true })
local attached_lines = {}

local function on_attach(client, bufnr)
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
  vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.refresh_lenses(bufnr)
    end,
  })
  -- Every change, typed or made by a plugin or the API, moves lenses: refresh shortly after
  -- the last one (Neovim sends the pending didChange before the codeLens request).
  if not attached_lines[bufnr] then
    attached_lines[bufnr] = true
    vim.api.nvim_buf_attach(bufnr, false, {
      on_lines = function()
        if not M.get(bufnr) then
          attached_lines[bufnr] = nil
          return true -- detach: the server is gone from this buffer
        end
        M.refresh_lenses(bufnr, 300)
      end,
      on_detach = function()
        attached_lines[bufnr] = nil
      end,
    })
  end
  M.refresh_lenses(bufnr)
  -- Every buffer's own answer: whether it is a response document is the server's word.
  M.fetch_state(client, bufnr)
  if state.config.on_attach then
    state.config.on_attach(client, bufnr)
  end
end

local warned_missing = false

---Start (or reuse) the server for a buffer. Response documents join the client that
---asked to show them instead of starting one of their own.
---@param bufnr integer
---@return integer|nil client_id
function M.start(bufnr)
  local cfg = state.config
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  if vim.fn.executable(cfg.cmd[1]) ~= 1 then
    state.start_error = ("the server `%s` was not found; install httplens or set `cmd` in setup()"):format(
      cfg.cmd[1]
    )
    if not warned_missing then
      warned_missing = true
      M.notify(state.start_error, vim.log.levels.WARN)
    end
    return nil
  end
  state.start_error = nil
  -- Not attached yet, so not asked yet: a file in a running server's responses folder.
  local response = M.in_responses_dir(vim.api.nvim_buf_get_name(bufnr))
  local root = M.root_dir(bufnr)
  local settings = config.settings(cfg)
  local lsp_config = {
    name = M.NAME,
    cmd = cfg.cmd,
    root_dir = root,
    init_options = settings,
    settings = { httplens = settings },
    capabilities = M.capabilities(),
    handlers = handlers,
    on_attach = on_attach,
  }
  return vim.lsp.start(lsp_config, {
    bufnr = bufnr,
    reuse_client = function(client, conf)
      if client.name ~= M.NAME or (client.is_stopped and M.call(client, "is_stopped")) then
        return false
      end
      if response then
        -- Prefer the client that showed it; any httplens client knows response documents.
        return state.last_client_id == nil
          or client.id == state.last_client_id
          or not vim.lsp.get_client_by_id(state.last_client_id)
      end
      return client.root_dir == conf.root_dir
    end,
  })
end

return M
