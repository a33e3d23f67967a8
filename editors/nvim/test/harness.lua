--- httplens.nvim tests: runs one test file inside this headless Neovim. The file calls
--- `T.test(name, fn)`; each test prints `ok - name` or `not ok - name: why`, and the
--- process exits 1 when any failed. run.sh counts those lines.
local here = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, "S").source:sub(2)))
local plugin_root = vim.fs.dirname(here)
local file = arg[1]
assert(file, "usage: nvim --headless -u NONE -l harness.lua TEST_FILE")

vim.opt.rtp:prepend(plugin_root)
vim.o.swapfile = false
vim.o.shadafile = "NONE"
vim.cmd("filetype on")
vim.cmd.runtime("plugin/httplens.lua")

local uv = vim.uv or vim.loop

local T = { tests = {}, notes = {}, cleanups = {} }
_G.T = T

-- Results go to their own file (run.sh reads it): Neovim's messages on stderr would
-- otherwise interleave with them.
local results = os.getenv("HTTPLENS_TEST_RESULTS")
local results_file = results and assert(io.open(results, "a")) or nil
local function out(line)
  io.stdout:write(line .. "\n")
  io.stdout:flush()
  if results_file then
    results_file:write(line .. "\n")
    results_file:flush()
  end
end

-- Record what the plugin tells the user, so tests can assert on it.
local real_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(T.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
  if os.getenv("HTTPLENS_TEST_VERBOSE") then
    real_notify(msg, level, opts)
  end
end

---Run `fn` when the file's tests are done (stop child processes).
function T.cleanup(fn)
  table.insert(T.cleanups, fn)
end

function T.test(name, fn)
  table.insert(T.tests, { name = name, fn = fn })
end

---Fail with `msg` unless `cond`.
function T.ok(cond, msg)
  if not cond then
    error(msg or "assertion failed", 2)
  end
  return cond
end

function T.eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(("%s: want %s, got %s"):format(what or "value", vim.inspect(want), vim.inspect(got)), 2)
  end
end

---`text` contains `needle` (plain search).
function T.has(text, needle, what)
  if type(text) ~= "string" or not text:find(needle, 1, true) then
    error(("%s: %s not found in %s"):format(what or "text", vim.inspect(needle), vim.inspect(text)), 2)
  end
end

---Wait (event loop running) until `pred()` is truthy; fail after `ms` naming `what`.
function T.wait(ms, pred, what)
  local value, failure
  local ok = vim.wait(ms, function()
    local pok, v = pcall(pred)
    if not pok then
      failure = v -- an error() inside pred ends the wait with that message
      return true
    end
    value = v
    return value ~= nil and value ~= false
  end, 10)
  if failure then
    error(failure, 2)
  end
  if not ok then
    error(("timed out after %d ms waiting for %s"):format(ms, what or "a condition"), 2)
  end
  return value
end

---Notifications so far whose text contains `needle`.
function T.noted(needle)
  for _, n in ipairs(T.notes) do
    if n.msg:find(needle, 1, true) then
      return n
    end
  end
end

---Errors the plugin reported so far.
function T.errors()
  local errs = {}
  for _, n in ipairs(T.notes) do
    if n.level == vim.log.levels.ERROR then
      table.insert(errs, n.msg)
    end
  end
  return errs
end

T.port = tonumber(os.getenv("HTTPLENS_TEST_PORT") or "")
T.bin = os.getenv("HTTPLENS_BIN")
T.tmp = os.getenv("HTTPLENS_TEST_TMP") or vim.fn.tempname()

---Write a workspace (a folder with `.git` and the given files) and return its path.
---`{{PORT}}` in the contents becomes the echo server's port.
---@param name string
---@param files table<string, string>
function T.workspace(name, files)
  local dir = vim.fs.joinpath(T.tmp, name)
  vim.fn.mkdir(vim.fs.joinpath(dir, ".git"), "p")
  for rel, text in pairs(files) do
    local path = vim.fs.joinpath(dir, rel)
    vim.fn.mkdir(vim.fs.dirname(path), "p")
    local f = assert(io.open(path, "w"))
    f:write((text:gsub("{{PORT}}", tostring(T.port))))
    f:close()
  end
  return uv.fs_realpath(dir) or dir
end

---The standard workspace: two environments that differ in what the echo server sees.
function T.api_workspace(name)
  return T.workspace(name, {
    ["api.http"] = table.concat({
      "@greeting = file-default",
      "",
      "### echo",
      "# @name echo",
      "GET {{host}}/echo?g={{greeting}}",
      "Accept: application/json",
      "",
      "### create",
      "POST {{host}}/items",
      "Content-Type: application/json",
      "",
      '{"name": "{{greeting}}"}',
      "",
    }, "\n"),
    ["http-client.env.json"] = vim.json.encode({
      dev = { host = "http://127.0.0.1:{{PORT}}", greeting = "hello-dev" },
      other = { host = "http://127.0.0.1:{{PORT}}", greeting = "hello-other" },
    }),
  })
end

---The httplens client of a buffer, once attached.
function T.client(bufnr)
  return T.wait(10000, function()
    return vim.lsp.get_clients({ bufnr = bufnr or 0, name = "httplens" })[1]
  end, "the httplens server to attach")
end

---Open a file and wait for the server to attach.
function T.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  return bufnr, T.client(bufnr)
end

---Lenses of a buffer once the server has sent some (the titles, in line order).
function T.lenses(bufnr, pred, what)
  local lenses
  T.wait(10000, function()
    lenses = vim.lsp.codelens.get(bufnr)
    if #lenses == 0 then
      vim.lsp.codelens.refresh({ bufnr = bufnr })
      return false
    end
    local resolved = vim.tbl_filter(function(l)
      return l.command ~= nil
    end, lenses)
    return #resolved == #lenses and (not pred or pred(lenses))
  end, what or "code lenses")
  table.sort(lenses, function(a, b)
    return a.range.start.line < b.range.start.line
  end)
  return lenses
end

---Windows of the current tab showing a response document (under HTTPLENS_CACHE_DIR).
function T.response_wins()
  local dir = uv.fs_realpath(os.getenv("HTTPLENS_CACHE_DIR") or "") or os.getenv("HTTPLENS_CACHE_DIR") or "\0"
  local wins = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
    local real = uv.fs_realpath(name) or name
    if real:sub(1, #dir) == dir and real:find("/responses/", 1, true) then
      table.insert(wins, win)
    end
  end
  return wins
end

---Text of a buffer.
function T.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

-- Run the file's tests in order. A test that errors fails alone; the next one still runs.
local ok, load_err = pcall(dofile, file)
if not ok then
  out("not ok - load " .. file .. ": " .. tostring(load_err))
  os.exit(1)
end

local passed, failed = 0, 0
for _, t in ipairs(T.tests) do
  local started = uv.hrtime()
  local tok, terr = xpcall(t.fn, function(e)
    -- The message plus where in the test file it failed; the full trace is noise.
    local where = {}
    for line in debug.traceback("", 2):gmatch("[^\n]+") do
      if line:find("_test.lua", 1, true) then
        table.insert(where, vim.trim(line))
      end
    end
    return tostring(e) .. (#where > 0 and ("\n" .. table.concat(where, "\n")) or "")
  end)
  local ms = (uv.hrtime() - started) / 1e6
  if tok then
    passed = passed + 1
    out(("ok - %s (%.0f ms)"):format(t.name, ms))
  else
    failed = failed + 1
    out(("not ok - %s (%.0f ms): %s"):format(t.name, ms, tostring(terr):gsub("\n", "\n#   ")))
  end
end

for _, fn in ipairs(T.cleanups) do
  pcall(fn)
end
for _, client in ipairs(vim.lsp.get_clients()) do
  pcall(function()
    client:stop(true)
  end)
end
out(("# %s: %d passed, %d failed"):format(vim.fs.basename(file), passed, failed))
os.exit(failed == 0 and 0 or 1)
