--- httplens.nvim: the plugin's mutable state, in one place so every module sees the same.
return {
  ---@type httplens.Config|nil set by setup()
  config = nil,
  ---client id -> last `httplens/state` result
  server = {},
  ---buffer -> `isResponse` of the server's last `httplens/state` answer for it
  is_response = {},
  ---request id -> { client_id, command, token } for commands still running
  inflight = {},
  ---progress token -> command name, for tokens this plugin handed to the server
  tokens = {},
  ---the window the last send was started from (responses open beside it)
  origin_win = nil,
  ---the window showing responses, reused for the next one
  response_win = nil,
  ---the client that last asked to show a response (response buffers attach to it)
  last_client_id = nil,
  ---recent `window/showMessage` texts, newest last (the sign-in URL arrives this way)
  messages = {},
  ---profiles whose sign-in is waiting for the browser or a pasted URL
  signing_in = {},
  ---a `:checkhealth`-friendly note of why the server could not start, if it could not
  start_error = nil,
}
