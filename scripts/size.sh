#!/usr/bin/env bash
# The size of the binary users get, against its limit (docs/performance.md, "Binary
# size"): builds the release profile (what `cargo install` builds) and prints its size;
# exits 1 when it is over HTTPLENS_SIZE_LIMIT bytes (default 12,000,000).
#
#   scripts/size.sh            the release binary's size against the limit
#   scripts/size.sh --crates   also what takes the space, per crate: cargo-bloat (pinned,
#                              installed into the cache folder) on a release build
#                              without LTO and unstripped (LTO blurs which crate code
#                              came from; the shares are what to trim, not the total)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}"
LIMIT="${HTTPLENS_SIZE_LIMIT:-12000000}"
BLOAT_VERSION=0.12.1
cd "$ROOT"

if [ "${1:-}" = "--crates" ]; then
  if ! "$CACHE/tools/bin/cargo-bloat" --version 2>/dev/null | grep -q "$BLOAT_VERSION"; then
    cargo install --locked cargo-bloat --version "$BLOAT_VERSION" --root "$CACHE/tools"
  fi
  PATH="$CACHE/tools/bin:$PATH" CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_STRIP=false cargo bloat --release --bin httplens --crates -n 40
  # The build above replaced target/release/httplens: build the real one again below.
fi

cargo build --release --locked --bin httplens
bin="${CARGO_TARGET_DIR:-target}/release/httplens"
size=$(stat -c %s "$bin")
printf '%s: %s bytes (%s MiB), limit %s bytes\n' "$bin" "$size" \
  "$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')" "$LIMIT"
if [ "$size" -gt "$LIMIT" ]; then
  echo "size.sh: the release binary is over its limit by $((size - LIMIT)) bytes: see what takes the space with scripts/size.sh --crates" >&2
  exit 1
fi
