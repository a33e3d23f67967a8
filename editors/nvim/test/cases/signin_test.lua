--- Sign-in from Neovim against a real local OAuth provider: the one `httplens demo` runs
--- (the IMS double), with browser_stub.py as the browser. :HttpSignIn through the
--- browser, the status line, :HttpSignOut, and the paste fallback (:HttpSignInComplete).
local httplens = require("httplens")
local uv = vim.uv or vim.loop

local demo_dir = vim.fs.joinpath(T.tmp, "demo")
local demo, demo_out = nil, {}
local req_buf, profile

---Stop at once when an earlier step did not get this far (instead of waiting in vain).
local function need(what, value)
  if not value then
    error("not reached: " .. what .. " (an earlier test failed)", 2)
  end
  return value
end

---The demo workspace's request file, once the demo has written it with its ports.
local function demo_files()
  local env = vim.fs.joinpath(demo_dir, "http-client.env.json")
  local f = io.open(env, "r")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  if not text:find("127.0.0.1", 1, true) then
    return nil
  end
  local https = vim.fn.glob(demo_dir .. "/*.http", false, true)
  return #https > 0 and https[1] or nil
end

T.test("httplens demo starts a local provider and workspace", function()
  demo = vim.system({ T.bin, "demo", "--dir", demo_dir }, {
    text = true,
    stdin = false,
    stdout = function(_, data)
      table.insert(demo_out, data)
    end,
    stderr = function(_, data)
      table.insert(demo_out, data)
    end,
  })
  T.cleanup(function()
    demo:kill(15)
    demo:wait(3000)
  end)
  local http_file = T.wait(30000, function()
    if demo:is_closing() then
      error("httplens demo exited: " .. table.concat(demo_out, ""))
    end
    return demo_files()
  end, "the demo workspace (" .. demo_dir .. ")")
  httplens.setup({ cmd = { T.bin, "lsp" } })
  vim.cmd.edit(http_file)
  req_buf = vim.api.nvim_get_current_buf()
  T.client(req_buf)
end)

T.test("the demo's auth profile is listed as signed out", function()
  need("the demo workspace", req_buf)
  local st = T.wait(10000, function()
    local s = httplens.state_sync(req_buf, 2000)
    return s and s.profiles and #s.profiles > 0 and s
  end, "httplens/state with profiles")
  for _, p in ipairs(st.profiles) do
    if p.grant ~= "client_credentials" and not tostring(p.grant):lower():find("client") then
      profile = p.id
      T.eq(false, p.signedIn, "signedIn of " .. p.id)
      break
    end
  end
  T.ok(profile, "no interactive profile in " .. vim.inspect(st.profiles))
  -- The server's words, shown as they are.
  T.wait(5000, function()
    return httplens.statusline():find(profile .. ": not signed in", 1, true)
  end, "statusline with the server's 'not signed in' (got " .. httplens.statusline() .. ")")
end)

T.test(":HttpSignIn signs in through the browser and the statusline shows the account", function()
  need("a signed-out profile", profile)
  vim.cmd("HttpSignIn " .. profile)
  local p = T.wait(30000, function()
    for _, e in ipairs(T.errors()) do
      error(e)
    end
    local st = httplens.state(req_buf)
    for _, pr in ipairs(st and st.profiles or {}) do
      if pr.id == profile and pr.signedIn then
        return pr
      end
    end
  end, "the profile to be signed in")
  T.ok(p.account and p.account ~= vim.NIL, "no account: " .. vim.inspect(p))
  -- The server's summary (account and time left, worded by the server) as it is.
  T.ok(type(p.summary) == "string" and p.summary:find("^signed in as " .. vim.pesc(p.account) .. ", %d+ %a+ left"),
    "summary: " .. vim.inspect(p.summary))
  T.wait(5000, function()
    local line = httplens.statusline()
    for _, pr in ipairs(httplens.state(req_buf).profiles) do
      if pr.id == profile and line:find(profile .. ": " .. pr.summary, 1, true) then
        return line:find(profile .. ": signed in as " .. p.account .. ", ", 1, true)
      end
    end
  end, "statusline with the server's summary (got " .. httplens.statusline() .. ")")
  local log = io.open(vim.fs.joinpath(T.tmp, "browser.log")):read("*a")
  T.has(log, "http://127.0.0.1:", "the browser was sent to the local provider")
  T.ok(T.noted("signed in to " .. profile), "no 'signed in' notification")
end)

T.test("the sign-in lens says who is signed in", function()
  need("a profile", profile)
  local lenses = T.lenses(req_buf, function(ls)
    for _, l in ipairs(ls) do
      if l.command and l.command.title:find(profile .. ": signed in", 1, true) then
        return true
      end
    end
  end, "a '" .. tostring(profile) .. ": signed in' lens")
  T.ok(#lenses > 0)
end)

T.test(":HttpSignOut signs out", function()
  need("a profile", profile)
  vim.cmd("HttpSignOut " .. profile)
  T.wait(10000, function()
    local st = httplens.state(req_buf)
    for _, pr in ipairs(st and st.profiles or {}) do
      if pr.id == profile then
        return pr.signedIn == false
      end
    end
  end, "the profile to be signed out")
  T.wait(5000, function()
    return httplens.statusline():find(profile .. ": not signed in", 1, true)
  end, "statusline with 'not signed in' (got " .. httplens.statusline() .. ")")
end)

T.test(":HttpSignInComplete finishes a sign-in from a pasted redirect URL", function()
  need("a profile", profile)
  local mode = io.open(vim.fs.joinpath(T.tmp, "browser-mode"), "w")
  mode:write("capture")
  mode:close()
  T.cleanup(function()
    os.remove(vim.fs.joinpath(T.tmp, "browser-mode"))
  end)
  vim.cmd("HttpSignIn " .. profile)
  local url_file = vim.fs.joinpath(T.tmp, "redirect-url")
  local url = T.wait(20000, function()
    local f = io.open(url_file, "r")
    local u = f and f:read("*a")
    if f then
      f:close()
    end
    return u and u ~= "" and u
  end, "the browser stub to capture the redirect URL")
  T.has(url, "code=", "captured redirect")
  -- The sign-in waits for the pasted URL: the server says "signing in" (stateChanged).
  T.wait(5000, function()
    return httplens.statusline():find(profile .. ": signing in", 1, true)
  end, "statusline with the server's 'signing in' (got " .. httplens.statusline() .. ")")
  local prompted
  local real_input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm(url)
  end
  vim.cmd("HttpSignInComplete " .. profile)
  vim.ui.input = real_input
  T.ok(prompted and prompted:find(profile, 1, true), "no prompt naming the profile: " .. tostring(prompted))
  T.wait(20000, function()
    for _, e in ipairs(T.errors()) do
      error(e)
    end
    local st = httplens.state(req_buf)
    for _, pr in ipairs(st and st.profiles or {}) do
      if pr.id == profile and pr.signedIn then
        return true
      end
    end
  end, "the pasted URL to sign the profile in")
end)
