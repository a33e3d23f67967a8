--- httplens.nvim: loaded at startup. Registers the `.http`/`.rest` filetype and the
--- :Http* commands; the server starts once `require("httplens").setup()` has run (a
--- command used before that runs it with defaults).
if vim.g.loaded_httplens then
  return
end
vim.g.loaded_httplens = true

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.notify("httplens: Neovim 0.10 or newer is required", vim.log.levels.ERROR)
  return
end

-- Neovim knows `.http`; `.rest` (REST Client) is the same language.
vim.filetype.add({ extension = { http = "http", rest = "http" } })

require("httplens.commands").create()
