--- httplens.nvim: the :Http* user commands and their argument completion.
local M = {}

local function h()
  return require("httplens")
end

---Complete from `list` by prefix.
local function complete_from(list, lead)
  local out = {}
  for _, item in ipairs(list) do
    if vim.startswith(item, lead) then
      table.insert(out, item)
    end
  end
  table.sort(out)
  return out
end

local function arg(opts)
  local a = vim.trim(opts.args or "")
  return a ~= "" and a or nil
end

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd("HttpSend", function()
    h().send()
  end, { desc = "httplens: send the request under the cursor" })
  cmd("HttpSendAll", function()
    h().send_all()
  end, { desc = "httplens: send every request of the file" })
  cmd("HttpCancel", function()
    h().cancel()
  end, { desc = "httplens: cancel running requests and sign-ins" })
  cmd("HttpSignIn", function(o)
    h().sign_in(arg(o))
  end, {
    nargs = "?",
    desc = "httplens: sign in to an auth profile",
    complete = function(lead)
      return complete_from(h().profiles(nil), lead)
    end,
  })
  cmd("HttpSignInComplete", function(o)
    h().complete_sign_in(arg(o))
  end, {
    nargs = "?",
    desc = "httplens: finish a sign-in with the pasted redirected URL",
    complete = function(lead)
      return complete_from(h().profiles(false), lead)
    end,
  })
  cmd("HttpSignOut", function(o)
    h().sign_out(arg(o))
  end, {
    nargs = "?",
    desc = "httplens: sign out of an auth profile",
    complete = function(lead)
      return complete_from(h().profiles(nil), lead)
    end,
  })
  cmd("HttpEnv", function(o)
    h().select_environment(arg(o))
  end, {
    nargs = "?",
    desc = "httplens: select the environment",
    complete = function(lead)
      return complete_from(h().environments(), lead)
    end,
  })
  cmd("HttpCopyCurl", function(o)
    h().copy_curl(o.bang)
  end, { bang = true, desc = "httplens: copy the request as curl (! reveals secrets)" })
  cmd("HttpCopyCode", function(o)
    h().copy_code(o.args ~= "" and o.args or "curl", o.bang)
  end, {
    bang = true,
    nargs = "?",
    desc = "httplens: copy the request as curl, python or javascript (! reveals secrets)",
    complete = function(lead)
      return complete_from(h().code_languages, lead)
    end,
  })
  cmd("HttpCompare", function()
    h().compare_with_previous()
  end, { desc = "httplens: diff this response with the previous one" })
  cmd("HttpOpenRequest", function()
    h().open_request()
  end, { desc = "httplens: open the request this response came from" })
end

return M
