--- :checkhealth httplens against the real server: found, its version, the token store.
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
