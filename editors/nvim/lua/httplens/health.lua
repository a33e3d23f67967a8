--- httplens.nvim: `:checkhealth httplens` (server found, its version, the token store).
local M = {}

local health = vim.health

function M.check()
  local state = require("httplens.state")
  local client_mod = require("httplens.client")

  health.start("httplens: Neovim")
  if vim.fn.has("nvim-0.10") == 1 then
    local v = vim.version()
    health.ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
  else
    health.error("Neovim 0.10 or newer is required")
  end
  if state.config then
    health.ok("setup() was called (responses open in: " .. state.config.open .. ")")
  else
    health.warn("setup() was not called", { 'add require("httplens").setup({}) to your config' })
  end

  health.start("httplens: server")
  local cfg = state.config or require("httplens.config").resolve({})
  local exe = vim.fn.exepath(cfg.cmd[1])
  if exe == "" then
    health.error(("server `%s` not found"):format(cfg.cmd[1]), {
      'with lazy.nvim, build = "cargo build --release" builds it in the repository (:Lazy build httplens)',
      "or install httplens (cargo install --path . in its repository) and put it on PATH",
      'or set cmd = { "/path/to/httplens", "lsp" } in setup()',
    })
    return
  end
  health.ok(("server found: %s%s"):format(exe, cfg.cmd_source and (" (" .. cfg.cmd_source .. ")") or ""))
  local ok, res = pcall(function()
    return vim.system({ exe, "--version" }, { text = true }):wait(5000)
  end)
  if ok and res and res.code == 0 and (res.stdout or ""):match("%S") then
    health.ok("version: " .. vim.trim(res.stdout))
  else
    health.error(
      ("`%s --version` failed%s"):format(exe, (ok and res and res.stderr and res.stderr ~= "") and (": " .. vim.trim(res.stderr)) or ""),
      { "reinstall httplens" }
    )
  end

  health.start("httplens: running servers")
  local clients = client_mod.all()
  if #clients == 0 then
    health.info("no server is running: open an .http file to check the token store and environments")
    return
  end
  for _, client in ipairs(clients) do
    local where = client.root_dir or "?"
    local st, err = client_mod.fetch_state_sync(client, nil, 3000)
    if not st then
      health.error(("server for %s did not answer httplens/state: %s"):format(where, err or "no answer"))
    else
      health.ok(("server for %s: version %s"):format(where, tostring(st.version)))
      local store = st.tokenStore
      if store == "unavailable" or store == nil or store == vim.NIL then
        health.error("token store: unavailable", {
          "start a Secret Service (gnome-keyring) or set token_store = \"file\" in setup()",
        })
      elseif store == "memory" then
        health.warn("token store: memory (tokens are forgotten when the server stops)")
      else
        health.ok("token store: " .. store)
      end
      local envs = st.environments or {}
      local env = st.environment
      health.ok(
        ("environment: %s (of %s)"):format(
          (env and env ~= vim.NIL) and env or "none",
          #envs > 0 and table.concat(envs, ", ") or "none defined"
        )
      )
      for _, p in ipairs(st.profiles or {}) do
        health.info(("profile %s (%s): %s"):format(p.id, tostring(p.grant), tostring(p.summary)))
      end
    end
  end
end

return M
