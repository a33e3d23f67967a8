--- httplens.nvim: the options `setup()` accepts, their defaults, and their validation.
local M = {}

---@class httplens.Config
---@field cmd string[] command line that starts the language server
---@field cmd_source string|nil where `cmd` came from (for :checkhealth)
---@field open "vsplit"|"split"|"tab"|"float" where response documents open
---@field focus boolean|nil move the cursor into the response window (nil: as the server asks)
---@field environment string|nil default environment (`httplens.environment` setting)
---@field token_store string|nil `httplens.tokenStore` setting (keychain, file, memory)
---@field timeout_seconds integer|nil `httplens.timeoutSeconds` setting
---@field history_size integer|nil `httplens.historySize` setting
---@field trace "off"|"messages"|"verbose"|nil `httplens.trace.server` setting
---@field filetypes string[] buffers of these filetypes get the server
---@field root_markers string[] folders holding one of these are the workspace root (first wins)
---@field progress "echo"|"notify"|false how `$/progress` of a running request is shown
---@field float table window options for `open = "float"`
---@field browser string|string[]|nil program that opens sign-in pages (default: $HTTPLENS_BROWSER, else vim.ui.open)
---@field on_attach fun(client: vim.lsp.Client, bufnr: integer)|nil
---@field capabilities table|nil extra client capabilities, merged over Neovim's
M.defaults = {
  cmd = { "httplens", "lsp" },
  open = "vsplit",
  focus = false,
  environment = nil,
  token_store = nil,
  timeout_seconds = nil,
  history_size = nil,
  trace = nil,
  filetypes = { "http" },
  root_markers = { ".git", "http-client.env.json", "http-client.private.env.json" },
  progress = "echo",
  float = { width = 0.8, height = 0.8, border = "rounded" },
  browser = nil,
  on_attach = nil,
  capabilities = nil,
}

local OPEN_MODES = { vsplit = true, split = true, tab = true, float = true }

---The httplens repository this plugin sits in (`<repo>/editors/nvim/lua/httplens/config.lua`),
---where lazy.nvim's `build = "cargo build --release"` leaves the binary. A function, so
---tests can point it elsewhere.
---@return string
function M.repo_root()
  local source = debug.getinfo(1, "S").source:sub(2)
  local dir = vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(source, ":p")))
  for _ = 1, 4 do -- httplens -> lua -> nvim -> editors -> the repository
    dir = vim.fs.dirname(dir)
  end
  return dir
end

---Where the server binary is when setup() has no `cmd`: the release build in the plugin's
---own repository (kept in step with this Lua code by lazy.nvim's `build`), else
---`httplens` on PATH. nil when neither is there.
---@return {path: string, source: string}|nil
function M.find_server()
  local exe = vim.fn.has("win32") == 1 and "httplens.exe" or "httplens"
  local built = vim.fs.joinpath(M.repo_root(), "target", "release", exe)
  if vim.fn.executable(built) == 1 then
    return { path = built, source = "built in the plugin's repository (cargo build --release)" }
  end
  local on_path = vim.fn.exepath("httplens")
  if on_path ~= "" then
    return { path = on_path, source = "on PATH" }
  end
  return nil
end

---Merge user options over the defaults and check them; errors name the bad option.
---@param opts table|nil
---@return httplens.Config
function M.resolve(opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error("httplens: setup() takes a table of options", 0)
  end
  local cfg = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- `cmd` is a list: deep_extend would merge it index by index, so take the user's whole.
  if opts.cmd ~= nil then
    cfg.cmd = opts.cmd
    cfg.cmd_source = "cmd in setup()"
  else
    local found = M.find_server()
    if found then
      cfg.cmd = { found.path, "lsp" }
      cfg.cmd_source = found.source
    end
  end
  if opts.filetypes ~= nil then
    cfg.filetypes = opts.filetypes
  end
  if opts.root_markers ~= nil then
    cfg.root_markers = opts.root_markers
  end
  if type(cfg.cmd) == "string" then
    cfg.cmd = { cfg.cmd, "lsp" }
  end
  if type(cfg.cmd) ~= "table" or type(cfg.cmd[1]) ~= "string" then
    error("httplens: option `cmd` must be a list of strings such as { \"httplens\", \"lsp\" }", 0)
  end
  if not OPEN_MODES[cfg.open] then
    error(
      ("httplens: option `open` must be one of vsplit, split, tab, float (got %s)"):format(
        vim.inspect(cfg.open)
      ),
      0
    )
  end
  if cfg.progress ~= false and cfg.progress ~= "echo" and cfg.progress ~= "notify" then
    error("httplens: option `progress` must be \"echo\", \"notify\" or false", 0)
  end
  return cfg
end

---The `httplens` settings section, as sent in `initializationOptions` and returned for
---`workspace/configuration`. Unset options are left out so the server keeps its defaults.
---@param cfg httplens.Config
function M.settings(cfg)
  local s = {
    environment = cfg.environment,
    tokenStore = cfg.token_store,
    timeoutSeconds = cfg.timeout_seconds,
    historySize = cfg.history_size,
  }
  if cfg.trace then
    s.trace = { server = cfg.trace }
  end
  return s
end

return M
