#!/usr/bin/env bash
# Runs the httplens.nvim tests in a real headless Neovim 0.11 against the real server.
#   editors/nvim/test/run.sh [NAME...]   (NAME: a test file in cases/, without _test.lua)
# $HTTPLENS_BIN: the server binary (default target/debug/httplens from the repo root).
# $NVIM: the Neovim to use (default: the one setup.sh installs in the CI cache).
# Starts a local echo server on 127.0.0.1, gives every test file its own HOME, XDG and
# httplens folders, and ends with `N passed, N failed`; exits 1 on any failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
BIN="${HTTPLENS_BIN:-$ROOT/target/debug/httplens}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
PER_FILE_TIMEOUT="${HTTPLENS_NVIM_TEST_TIMEOUT:-120}"

fail_all() {
  echo "run.sh: $1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

if [ -z "${NVIM:-}" ]; then
  NVIM="$("$HERE/setup.sh" | tail -n1)" || fail_all "could not install Neovim (editors/nvim/test/setup.sh failed)"
fi
[ -x "$NVIM" ] || fail_all "Neovim not found at $NVIM"
[ -x "$BIN" ] || fail_all "server binary $BIN not found: run cargo build first or set HTTPLENS_BIN"
command -v python3 >/dev/null || fail_all "python3 is needed for the echo server"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/httplens-nvim-test.XXXXXX")"
ECHO_PID=""
cleanup() {
  if [ -n "$ECHO_PID" ]; then
    kill -- "-$ECHO_PID" 2>/dev/null || kill "$ECHO_PID" 2>/dev/null
    wait "$ECHO_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The echo server: its own process group (setsid) so cleanup ends it and its threads.
setsid python3 "$HERE/echo_server.py" --port-file "$TMP/port" >"$TMP/echo.log" 2>&1 &
ECHO_PID=$!
for _ in $(seq 1 500); do # up to 10 s, polling every 20 ms
  [ -s "$TMP/port" ] && break
  kill -0 "$ECHO_PID" 2>/dev/null || break
  sleep 0.02
done
[ -s "$TMP/port" ] || fail_all "the echo server did not start: $(cat "$TMP/echo.log")"
PORT="$(cat "$TMP/port")"

if [ "$#" -gt 0 ]; then
  FILES=()
  for name in "$@"; do FILES+=("$HERE/cases/${name%_test.lua}_test.lua"); done
else
  mapfile -t FILES < <(ls "$HERE"/cases/*_test.lua | sort)
fi

PASSED=0
FAILED=0
for file in "${FILES[@]}"; do
  name="$(basename "$file" _test.lua)"
  if [ ! -f "$file" ]; then
    echo "not ok - $name: no such test file $file"
    FAILED=$((FAILED + 1))
    continue
  fi
  home="$TMP/$name"
  mkdir -p "$home/home" "$home/cache" "$home/config" "$home/data" "$home/state" "$home/work"
  log="$TMP/$name.log"
  res="$TMP/$name.results"
  : >"$res"
  echo "# $name"
  start=$(date +%s%N)
  (
    cd "$home/work" &&
      env HOME="$home/home" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
        XDG_DATA_HOME="$home/data" XDG_STATE_HOME="$home/state" \
        HTTPLENS_CACHE_DIR="$home/cache/httplens" HTTPLENS_CONFIG_DIR="$home/config/httplens" \
        HTTPLENS_TOKEN_STORE="${HTTPLENS_TOKEN_STORE:-memory}" \
        HTTPLENS_TEST_PORT="$PORT" HTTPLENS_BIN="$BIN" HTTPLENS_TEST_TMP="$home/work" \
        HTTPLENS_TEST_ROOT="$ROOT" HTTPLENS_TEST_RESULTS="$res" \
        HTTPLENS_BROWSER="$HERE/browser_stub.py" PATH="$(dirname "$BIN"):$PATH" \
        timeout -k 5 "$PER_FILE_TIMEOUT" "$NVIM" --headless -u NONE -i NONE -n \
        -l "$HERE/harness.lua" "$file"
  ) >"$log" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  p=$(grep -c '^ok - ' "$res")
  f=$(grep -c '^not ok - ' "$res")
  grep -E '^(ok|not ok) - |^#   ' "$res"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name: Neovim exited with $rc$([ "$rc" -eq 124 ] && echo " (timed out after ${PER_FILE_TIMEOUT}s)")"
    f=1
  fi
  if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "# --- $name log (last 40 lines) ---"
    grep -vE '^(ok|not ok) - |^#   ' "$log" | tail -n 40 | sed 's/^/#   | /'
  fi
  echo "# $name: ${ms} ms"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
