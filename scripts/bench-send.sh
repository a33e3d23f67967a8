#!/usr/bin/env bash
# Sends 1,000 requests from one generated .http file to a local keep-alive server
# with `httplens run`, then with `httpyac send FILE --all` (httpyac@6.16.7, installed
# into the CI cache folder) and with one curl process per request, and prints the
# times and both ratios. Only 127.0.0.1 is contacted.
#
#   scripts/bench-send.sh            # N=1000
#   N=200 scripts/bench-send.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-1000}"
CACHE="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}"
PEERS="$CACHE/bench-peers"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Peers: httpyac from the committed lockfile, idempotent and fast when warm.
mkdir -p "$PEERS"
if ! cmp -s "$ROOT/scripts/bench/package-lock.json" "$PEERS/package-lock.json" \
   || [ ! -x "$PEERS/node_modules/.bin/httpyac" ]; then
  cp "$ROOT/scripts/bench/package.json" "$ROOT/scripts/bench/package-lock.json" "$PEERS/"
  (cd "$PEERS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
HTTPYAC="$PEERS/node_modules/.bin/httpyac"

# 2. httplens, optimised (HTTPLENS_BIN to measure another build).
if [ -n "${HTTPLENS_BIN:-}" ]; then
  HTTPLENS="$HTTPLENS_BIN"
else
  (cd "$ROOT" && cargo build --release --bin httplens --quiet)
  HTTPLENS="$ROOT/target/release/httplens"
fi

# 3. The server and the request file.
python3 "$ROOT/scripts/bench/server.py" > "$WORK/port" &
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT="$(head -n1 "$WORK/port")"
URL="http://127.0.0.1:$PORT/item"
FILE="$WORK/bench.http"
for i in $(seq "$N"); do
  printf 'GET %s?i=%d\n\n###\n' "$URL" "$i"
done > "$FILE"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

export HTTPLENS_CACHE_DIR="$WORK/cache"

t0=$(now)
"$HTTPLENS" run "$FILE" --no-history --format json > "$WORK/httplens.json"
t1=$(now)
HL=$(elapsed "$t0" "$t1")
ok=$(grep -c '"status": 200' "$WORK/httplens.json" || true)
[ "$ok" -eq "$N" ] || { echo "httplens: only $ok of $N requests answered 200" >&2; exit 1; }

t0=$(now)
(cd "$WORK" && "$HTTPYAC" send "$FILE" --all --output none > "$WORK/httpyac.out" 2>&1)
t1=$(now)
HY=$(elapsed "$t0" "$t1")

t0=$(now)
for i in $(seq "$N"); do
  curl -s -o /dev/null "$URL?i=$i"
done
t1=$(now)
CU=$(elapsed "$t0" "$t1")

printf '%-32s %8.2f s\n' "httplens run ($N requests)" "$HL"
printf '%-32s %8.2f s\n' "httpyac send --all" "$HY"
printf '%-32s %8.2f s\n' "curl, one process per request" "$CU"
printf 'httplens / httpyac = %.3f (target < 0.1)\n' "$(echo "$HL / $HY" | bc -l)"
printf 'httplens / curl loop = %.3f (target < 1)\n' "$(echo "$HL / $CU" | bc -l)"
