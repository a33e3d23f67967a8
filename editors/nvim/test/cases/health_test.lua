--- :checkhealth httplens against the real server: found (from cmd, the repository's build or
--- PATH), its version, the token store; and the README's lazy.nvim spec.
local httplens = require("httplens")

local ws = T.api_workspace("health")

T.test(":checkhealth httplens reports OK with the version and token store", function()
  httplens.setup({ cmd = { T.bin, "lsp" } })
  vim.cmd.edit(ws .. "/api.http")
  T.client(0)
  local version = vim.trim(vim.fn.system({ T.bin, "--version" }))
  T.ok(version:match("^httplens %d"), "httplens --version said " .. version)
  vim.cmd("checkhealth httplens")
  local text = T.text(0)
  T.has(text, "OK server found: " .. T.bin, "health")
  T.has(text, "OK version: " .. version, "health")
  -- run.sh sets HTTPLENS_TOKEN_STORE=memory: the server must say so, as a warning.
  T.has(text, "token store: memory", "health")
  T.ok(text:find("server for " .. ws .. ": version", 1, true), "no running server section:\n" .. text)
  T.ok(not text:find("ERROR", 1, true), "health reports an error:\n" .. text)
end)

T.test(":checkhealth httplens reports a missing server as an ERROR", function()
  vim.cmd("tabnew")
  httplens.setup({ cmd = { "/nonexistent/httplens-nowhere", "lsp" } })
  vim.cmd("checkhealth httplens")
  local text = T.text(0)
  T.has(text, "ERROR server `/nonexistent/httplens-nowhere` not found", "health")
end)

local config = require("httplens.config")
local uv = vim.uv or vim.loop
local version = vim.trim(vim.fn.system({ T.bin, "--version" }))

---:checkhealth httplens in a fresh tab, with the plugin's repository at `root`.
local function health_with_repo(root, setup_opts)
  local real_root = config.repo_root
  config.repo_root = function()
    return root
  end
  local ok, text = pcall(function()
    httplens.setup(setup_opts or {})
    vim.cmd("tabnew")
    vim.cmd("checkhealth httplens")
    return T.text(0)
  end)
  config.repo_root = real_root
  assert(ok, text)
  return text
end

T.test(":checkhealth httplens without cmd names the binary built in the repository and its version", function()
  -- lazy.nvim's build leaves it in <repository>/target/release/httplens.
  local repo = T.workspace("built-repo", {})
  vim.fn.mkdir(repo .. "/target/release", "p")
  local built = repo .. "/target/release/httplens"
  assert(uv.fs_symlink(T.bin, built))
  local text = health_with_repo(repo)
  T.has(text, "OK server found: " .. built .. " (built in the plugin's repository", "health")
  T.ok(text:match("OK version: httplens %d+%.%d+%.%d+"), "no version string in:\n" .. text)
  T.has(text, "OK version: " .. version, "health")
end)

T.test(":checkhealth httplens without cmd and without a build finds httplens on PATH", function()
  -- run.sh puts the folder of the binary under test first on PATH.
  local on_path = vim.fn.exepath("httplens")
  T.eq(T.bin, on_path, "httplens on PATH")
  local text = health_with_repo(T.workspace("unbuilt-repo", {}))
  T.has(text, "OK server found: " .. T.bin .. " (on PATH)", "health")
  T.ok(text:match("OK version: httplens %d+%.%d+%.%d+"), "no version string in:\n" .. text)
end)

T.test("the lazy.nvim spec of the README builds the binary and sets the plugin up from the repository", function()
  local root = os.getenv("HTTPLENS_TEST_ROOT")
  local f = assert(io.open(root .. "/editors/nvim/README.md"))
  local readme = f:read("*a")
  f:close()
  local code = readme:match("```lua\n(return {.-\n})\n```")
  T.ok(code, "no `return { ... }` lazy.nvim spec in editors/nvim/README.md")
  local spec = assert(loadstring(code))()
  T.eq("cargo build --release", spec.build, "build")
  T.eq("httplens", spec.name, "name (for :Lazy build httplens)")
  T.ok(vim.tbl_contains(spec.ft, "http"), "loads for http buffers")
  -- What lazy.nvim does when the plugin loads: config(plugin, opts) with its clone's
  -- folder (here a stand-in clone whose editors/nvim is this plugin).
  local clone = T.workspace("lazy-clone", {})
  vim.fn.mkdir(clone .. "/editors", "p")
  assert(uv.fs_symlink(root .. "/editors/nvim", clone .. "/editors/nvim"))
  require("httplens.state").config = nil
  spec.config({ dir = clone, name = "httplens" }, vim.deepcopy(spec.opts))
  T.ok(vim.tbl_contains(vim.opt.rtp:get(), clone .. "/editors/nvim"), "the clone's editors/nvim is not on the runtimepath")
  T.ok(require("httplens.state").config ~= nil, "setup() was not called")
end)
