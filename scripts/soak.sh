#!/usr/bin/env bash
# Longer hardening runs, outside CI's time budget: the language-server soak (edits,
# lenses and sends in a loop; RSS and descriptors must stay flat), then the fault and
# abuse suites once more with every ignored test included, printing the FIGURE lines
# that docs/reliability.md quotes.
#
# Tests marked `#[ignore = "known bug: ..."]` fail here until their bug is fixed;
# the summary says so rather than hiding them.
#
# Usage: scripts/soak.sh [SECONDS]   (soak length, default 600)
# Everything binds 127.0.0.1 only and writes into temp folders.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export HTTPLENS_SOAK_SECONDS="${1:-${HTTPLENS_SOAK_SECONDS:-600}}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log="$(mktemp "${TMPDIR:-/tmp}/httplens-soak.XXXXXX")"
trap 'rm -f "$log"' EXIT
status=0

echo "== long soak (${HTTPLENS_SOAK_SECONDS} s)"
cargo test --locked --test lsp_soak a_long_soak_keeps_memory_flat -- --ignored --nocapture --test-threads=1 2>&1 | tee -a "$log" || status=1

echo "== faults and LSP abuse, ignored tests included, one at a time (clean figures)"
cargo test --locked --test faults -- --include-ignored --nocapture --test-threads=1 2>&1 | tee -a "$log" || status=1
cargo test --locked --test lsp_soak -- --include-ignored --nocapture --test-threads=1 --skip a_long_soak 2>&1 | tee -a "$log" || status=1

echo "== figures"
grep '^FIGURE' "$log" || true
if [ "$status" -ne 0 ]; then
    echo "soak: FAILED (see above)"
else
    echo "soak: passed"
fi
exit "$status"
