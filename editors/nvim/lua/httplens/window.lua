--- httplens.nvim: shows documents the server asks for (`window/showDocument`): responses
--- open in a split, tab or float beside the request and reuse that window next time.
local state = require("httplens.state")
local client_mod = require("httplens.client")

local M = {}

local api = vim.api

---@param win integer|nil
local function valid_win(win)
  return win ~= nil and api.nvim_win_is_valid(win)
end

---The window a response goes into when none is open yet, created per `open` mode.
---@param buf integer
---@param origin integer window the request was sent from
---@param focus boolean
local function create_window(buf, origin, focus)
  local mode = state.config.open
  if mode == "float" then
    local f = state.config.float or {}
    local columns, lines = vim.o.columns, vim.o.lines - vim.o.cmdheight - 1
    local function size(v, total)
      if type(v) == "number" and v > 0 and v <= 1 then
        return math.max(1, math.floor(total * v))
      end
      return math.max(1, math.min(total, tonumber(v) or total))
    end
    local width, height = size(f.width or 0.8, columns), size(f.height or 0.8, lines)
    return api.nvim_open_win(buf, focus, {
      relative = "editor",
      width = width,
      height = height,
      row = math.floor((lines - height) / 2),
      col = math.floor((columns - width) / 2),
      border = f.border or "rounded",
      title = " httplens ",
      title_pos = "center",
    })
  end
  local previous = api.nvim_get_current_win()
  api.nvim_set_current_win(origin)
  if mode == "tab" then
    vim.cmd("tab sbuffer " .. buf)
  elseif mode == "split" then
    vim.cmd("belowright sbuffer " .. buf)
  else
    vim.cmd("belowright vertical sbuffer " .. buf)
  end
  local win = api.nvim_get_current_win()
  if not focus and valid_win(previous) then
    api.nvim_set_current_win(previous)
  end
  return win
end

---Open `fname` in the response window (reusing it), beside the request's window.
---@param fname string
---@param opts {focus: boolean|nil, selection: table|nil}|nil
---@return integer win
function M.open_response(fname, opts)
  opts = opts or {}
  local focus = opts.focus
  if type(state.config.focus) == "boolean" then
    focus = state.config.focus
  end
  focus = focus == true
  local buf = vim.fn.bufadd(fname)
  vim.bo[buf].buflisted = true
  local origin = valid_win(state.origin_win) and state.origin_win or api.nvim_get_current_win()
  local win = state.response_win
  -- Reuse the response window while it exists and (for splits) sits in the current tab.
  local reusable = valid_win(win)
    and (state.config.open == "tab" or api.nvim_win_get_tabpage(win) == api.nvim_get_current_tabpage())
  if reusable then
    api.nvim_win_set_buf(win, buf)
    if focus then
      api.nvim_set_current_win(win)
      if state.config.open == "tab" then
        api.nvim_set_current_tabpage(api.nvim_win_get_tabpage(win))
      end
    end
  else
    if valid_win(origin) and api.nvim_win_get_config(origin).relative ~= "" then
      origin = api.nvim_get_current_win() -- never split a floating window
    end
    win = create_window(buf, origin, focus)
    state.response_win = win
  end
  -- A fresh response is read from its top (the status line), not where the cursor was.
  local line = 1
  if opts.selection and opts.selection.start then
    line = opts.selection.start.line + 1
  end
  pcall(api.nvim_win_set_cursor, win, { math.min(line, api.nvim_buf_line_count(buf)), 0 })
  return win
end

---Open a browser page (the sign-in URL): `browser` from setup(), else `$HTTPLENS_BROWSER`
---(a program run directly with the URL as its one argument, as the CLI does), else
---vim.ui.open. Never waits for the browser to exit.
---@param uri string
function M.open_external(uri)
  local browser = state.config.browser
  if browser == nil or browser == "" then
    browser = os.getenv("HTTPLENS_BROWSER")
  end
  local ok, err
  if browser and browser ~= "" then
    local cmd = type(browser) == "table" and vim.list_extend(vim.deepcopy(browser), { uri }) or { browser, uri }
    ok, err = pcall(vim.system, cmd, { detach = true, stdout = false, stderr = false })
  else
    local handle
    ok, handle, err = pcall(vim.ui.open, uri)
    ok = ok and handle ~= nil
  end
  if not ok then
    client_mod.notify(
      ("could not open a browser (%s); open this URL yourself: %s"):format(tostring(err or "no opener"), uri),
      vim.log.levels.WARN
    )
    return { success = false, error = { code = -32603, message = tostring(err or "no browser") } }
  end
  return { success = true }
end

---Handler of `window/showDocument` for the httplens clients.
function M.show_document(err, params, ctx)
  if params.external then
    return M.open_external(params.uri)
  end
  state.last_client_id = ctx.client_id
  local fname = vim.uri_to_fname(params.uri)
  -- The server writes response documents to its `responsesDir`; anything else it shows
  -- (the request behind a response) is not one.
  local is_response = client_mod.in_responses_dir(fname)
  if is_response then
    local ok, win = pcall(M.open_response, fname, { focus = params.takeFocus, selection = params.selection })
    if not ok then
      return { success = false }
    end
    return { success = win ~= nil }
  end
  -- Anything else (the request behind a response, `Open request`) opens like a jump:
  -- in the window already showing it, else the request side, not the response window.
  local target = state.origin_win
  if valid_win(target) and api.nvim_get_current_win() == state.response_win then
    api.nvim_set_current_win(target)
  end
  return vim.lsp.handlers["window/showDocument"](err, params, ctx)
end

return M
