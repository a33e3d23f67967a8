#!/usr/bin/env bash
# Long fuzzing runs of one target (CI only runs each target briefly, in test-all.sh).
#
# Usage: scripts/fuzz.sh TARGET [SECONDS]     (default 600 s; `scripts/fuzz.sh` lists targets)
#
# The corpus persists in fuzz/corpus/TARGET (git-ignored) so runs build on each other; an
# empty corpus is seeded with the shared real-world `.http` and env files. A crash leaves
# its input in fuzz/artifacts/TARGET/; replay it with
#   cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...
# Set HTTPLENS_FUZZ_ASAN=1 for AddressSanitizer (about 10 times slower, still on stable).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}"
export PATH="$CACHE/tools/bin:$PATH"
SHARED_CORPUS="$ROOT/../shared/corpus/http"

targets() { find fuzz/fuzz_targets -maxdepth 1 -name '*.rs' -printf '%f\n' | sed 's/\.rs$//' | sort; }

if [ $# -lt 1 ]; then
    echo "usage: scripts/fuzz.sh TARGET [SECONDS]; targets:" >&2
    targets | sed 's/^/  /' >&2
    exit 2
fi
target="$1"
seconds="${2:-600}"
if [ ! -f "fuzz/fuzz_targets/$target.rs" ]; then
    echo "no fuzz target named $target; targets: $(targets | tr '\n' ' ')" >&2
    exit 2
fi
if ! command -v cargo-fuzz >/dev/null; then
    echo "cargo-fuzz is missing: run scripts/test-all.sh tools (installs it into $CACHE/tools)" >&2
    exit 2
fi

corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ] && [ -d "$SHARED_CORPUS" ]; then
    i=0
    while IFS= read -r -d '' f; do
        i=$((i + 1))
        cp "$f" "$corpus/seed-$i-$(basename "$f")"
    done < <(find "$SHARED_CORPUS" -type f ! -name '*.tsv' ! -name '*.md' -print0)
    echo "seeded $corpus with $i files from $SHARED_CORPUS"
fi
if [ -d "fuzz/seeds/$target" ]; then cp -rn "fuzz/seeds/$target/." "$corpus/"; fi

sanitizer=(-s none)
if [ "${HTTPLENS_FUZZ_ASAN:-0}" = "1" ]; then
    sanitizer=()
    export RUSTC_BOOTSTRAP=1
fi
dict=()
if [ -f "fuzz/$target.dict" ]; then
    dict=("-dict=fuzz/$target.dict")
elif [ -f fuzz/http.dict ]; then
    dict=("-dict=fuzz/http.dict")
fi

# Several processes on bigger machines, leaving one core to the rest of the machine.
fork=()
if [ "$(nproc)" -gt 2 ]; then fork=("-fork=$(( $(nproc) - 1 ))"); fi
exec cargo fuzz run "${sanitizer[@]}" "$target" "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 "${fork[@]}" "${dict[@]}"
