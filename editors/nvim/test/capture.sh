#!/usr/bin/env bash
# Records what a person sees: Neovim with httplens.nvim in tmux, an example request sent
# with :HttpSend against the local echo server, and the screen saved with
# `tmux capture-pane -p` to docs/images/nvim-capture.txt (for the README).
#   editors/nvim/test/capture.sh [OUTPUT]
# Needs tmux (scripts/apt-packages.txt), python3, and the server ($HTTPLENS_BIN, default
# target/debug/httplens). Every wait is bounded; it cleans up its tmux server and peers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN="$(dirname "$HERE")"
ROOT="$(cd "$PLUGIN/../.." && pwd)"
BIN="${HTTPLENS_BIN:-$ROOT/target/debug/httplens}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
OUT="${1:-$ROOT/docs/images/nvim-capture.txt}"
NVIM="${NVIM:-$("$HERE/setup.sh" | tail -n1)}"
command -v tmux >/dev/null || { echo "capture.sh: tmux is not installed (apt-get install tmux)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "capture.sh: $BIN not found: run cargo build first" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/httplens-capture.XXXXXX")"
SOCK="httplens-capture-$$"
ECHO_PID=""
cleanup() {
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  if [ -n "$ECHO_PID" ]; then kill -- "-$ECHO_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

setsid python3 "$HERE/echo_server.py" --port-file "$TMP/port" >/dev/null 2>&1 &
ECHO_PID=$!
for _ in $(seq 1 500); do [ -s "$TMP/port" ] && break; sleep 0.02; done
[ -s "$TMP/port" ] || { echo "capture.sh: the echo server did not start" >&2; exit 1; }
PORT="$(cat "$TMP/port")"

WS="$TMP/shop-api"
mkdir -p "$WS/.git" "$TMP/home" "$TMP/cache"
cat >"$WS/api.http" <<HTTP
@greeting = hello

### List products
# @name products
GET {{host}}/products?limit=2&greeting={{greeting}}
Accept: application/json

### Create a product
POST {{host}}/products
Content-Type: application/json

{"name": "Lamp", "price": 25}
HTTP
cat >"$WS/http-client.env.json" <<JSON
{ "dev": { "host": "http://127.0.0.1:$PORT" }, "staging": { "host": "http://127.0.0.1:$PORT" } }
JSON
cat >"$TMP/init.lua" <<LUA
vim.opt.rtp:prepend("$PLUGIN")
vim.o.swapfile = false
vim.o.laststatus = 2
vim.o.statusline = " %f %= %{v:lua.require'httplens'.statusline()} "
vim.cmd("runtime plugin/httplens.lua")
require("httplens").setup({ cmd = { "$BIN", "lsp" }, environment = "dev" })
LUA

tmux -L "$SOCK" -f /dev/null new-session -d -s capture -x 120 -y 32 \
  "cd '$WS' && env HOME='$TMP/home' XDG_CONFIG_HOME='$TMP/home/.config' XDG_CACHE_HOME='$TMP/cache' \
   XDG_DATA_HOME='$TMP/home/.local/share' XDG_STATE_HOME='$TMP/home/.local/state' \
   HTTPLENS_CACHE_DIR='$TMP/cache/httplens' HTTPLENS_TOKEN_STORE=memory TERM=xterm-256color \
   '$NVIM' -u '$TMP/init.lua' -i NONE api.http"

# Poll the screen for `needle`, up to `tries` x 0.1 s.
wait_for() {
  local needle="$1" tries="$2"
  for _ in $(seq 1 "$tries"); do
    if tmux -L "$SOCK" capture-pane -p -t capture | grep -qF "$needle"; then return 0; fi
    sleep 0.1
  done
  echo "capture.sh: timed out waiting for \"$needle\" on the screen:" >&2
  tmux -L "$SOCK" capture-pane -p -t capture >&2
  return 1
}

wait_for "Send request" 100
tmux -L "$SOCK" send-keys -t capture "5G" ":HttpSend" Enter
wait_for "HTTP/1.1 200" 100
wait_for "HTTP 200 in" 50
mkdir -p "$(dirname "$OUT")"
# The temp folder and port differ per run: write stable placeholders instead.
tmux -L "$SOCK" capture-pane -p -t capture | sed -e "s#$TMP#/tmp/demo#g" >"$OUT"
echo "capture.sh: wrote $OUT"
