#!/usr/bin/env bash
# The VS Code tests: builds the .vsix and the httplens binary, checks the grammar on the
# shared corpus (grammar.mjs), installs the extension into a fresh code-server
# user/extensions folder, and runs e2e.mjs (which starts code-server on a free 127.0.0.1
# port, drives it with headless Chromium and kills everything it started). Exits non-zero
# on failure; the last line is `N passed, N failed`.
#
#   test/run.sh [--update-docs-image]
#
# --update-docs-image copies the screenshot of a passing run to docs/images/vscode-send.png.
# HTTPLENS_BIN=/path/to/httplens skips building the server binary.
# HTTPLENS_CORPUS overrides where the real .http files are (default ../shared/corpus/http).
# HTTPLENS_E2E_TIMEOUT caps the whole e2e.mjs run in seconds (default 1200);
# HTTPLENS_E2E_CHECK_TIMEOUT_MS caps each of its checks (default 120000).
set -euo pipefail

update_docs_image=false
for arg in "$@"; do
    case "$arg" in
        --update-docs-image) update_docs_image=true ;;
        *)
            echo "run.sh: unknown argument '$arg' (expected --update-docs-image)." >&2
            exit 2
            ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(cd "$here/.." && pwd)"
repo="$(cd "$ext/../.." && pwd)"
artifacts="$here/artifacts"

fail_early() {
    echo "run.sh: $1" >&2
    echo "0 passed, 1 failed"
    exit 1
}

peers="$("$here/setup.sh" | tail -n 1)" || fail_early "setup.sh failed: the test peers are not installed."

# The extension: npm ci only when the lockfile changed since the last install.
cd "$ext"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund >&2 || fail_early "npm ci failed in editors/vscode."
fi

# The server.
if [[ -n "${HTTPLENS_BIN:-}" ]]; then
    server="$HTTPLENS_BIN"
else
    (cd "$repo" && cargo build --quiet --bin httplens >&2) || fail_early "cargo build of the httplens binary failed."
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    server="$target_dir/debug/httplens"
fi
[[ -x "$server" ]] || fail_early "the server binary $server is missing."

scratch="$(mktemp -d "${TMPDIR:-/tmp}/httplens-vscode-e2e.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/user" "$scratch/exts" "$scratch/home" "$scratch/bundle" "$artifacts"
rm -f "$artifacts"/*.png "$artifacts"/*.log

# The .vsix carries the server as bin/httplens, as the release .vsix does (`npm run
# package` builds the release binary). Here the bundled binary is a transparent shim
# around the debug build: it records that the extension started `httplens lsp` and
# keeps the protocol traffic and the server's stderr in the artifacts.
shim="$scratch/bundle/httplens"
cat >"$shim" <<SHIM
#!/bin/bash
echo "\$*" >> '$scratch/server-invocations.log'
exec '$server' "\$@" < <(tee -a '$artifacts/lsp-in.log') > >(tee -a '$artifacts/lsp-out.log') 2>> '$artifacts/server-stderr.log'
SHIM
chmod 755 "$shim"
HTTPLENS_BUNDLE_BIN="$shim" npm run package >&2 || fail_early "npm run package failed: the .vsix was not built."
vsix="$ext/httplens.vsix"
# The extension must find its own server: nothing named httplens on PATH.
if command -v httplens >/dev/null; then
    fail_early "httplens is on PATH ($(command -v httplens)): the test must prove the bundled binary is used."
fi

# Install the .vsix the way a user would, into this run's own folders.
HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share" \
    "$peers/node_modules/.bin/code-server" \
    --user-data-dir "$scratch/user" --extensions-dir "$scratch/exts" \
    --install-extension "$vsix" >"$artifacts/install.log" 2>&1 \
    || fail_early "code-server could not install $vsix (see $artifacts/install.log)."
ls -d "$scratch/exts"/httplens.httplens-* >/dev/null 2>&1 \
    || fail_early "the extension is not in the extensions folder after --install-extension."
bundled=("$scratch/exts"/httplens.httplens-*/bin/httplens)
[[ -x "${bundled[0]}" ]] || fail_early "the installed extension has no executable bin/httplens."

# Two scripts, one summary: the grammar check (no editor needed) and the editor test.
corpus="${HTTPLENS_CORPUS:-$repo/../shared/corpus/http}"
# Neither may hang the suite: each is stopped after a hard limit (e2e.mjs also bounds each
# of its checks); on SIGTERM e2e.mjs still prints which check it was in and its summary.
e2e_limit="${HTTPLENS_E2E_TIMEOUT:-1200}"
status=0
HTTPLENS_E2E_PEERS="$peers" HTTPLENS_CORPUS="$corpus" \
    timeout --kill-after=30 300 node "$here/grammar.mjs" | tee "$artifacts/grammar.log" || status=$?
[[ "$status" -ne 124 && "$status" -ne 137 ]] || echo "run.sh: grammar.mjs did not finish within 300 s and was stopped." >&2
e2e_status=0
HTTPLENS_E2E_PEERS="$peers" HTTPLENS_E2E_DIR="$scratch" HTTPLENS_E2E_SERVER="$server" HTTPLENS_E2E_BUNDLED=1 \
    HTTPLENS_E2E_ARTIFACTS="$artifacts" timeout --kill-after=30 "$e2e_limit" node "$here/e2e.mjs" \
    | tee "$artifacts/e2e.log" || e2e_status=$?
[[ "$e2e_status" -ne 124 && "$e2e_status" -ne 137 ]] \
    || echo "run.sh: e2e.mjs did not finish within $e2e_limit s and was stopped." >&2
[[ "$e2e_status" -eq 0 ]] || status=$e2e_status

# Add up the two `N passed, N failed[, N skipped]` lines; a script that crashed before
# printing its line counts as one failure.
passed=0 failed=0 skipped=0
for log in "$artifacts/grammar.log" "$artifacts/e2e.log"; do
    line="$(tail -n 1 "$log")"
    if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
    else
        failed=$((failed + 1))
        [[ "$status" -ne 0 ]] || status=1
    fi
done
echo
if [[ "$skipped" -gt 0 ]]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi

if [[ "$status" -eq 0 && "$update_docs_image" == true ]]; then
    mkdir -p "$repo/docs/images"
    cp "$artifacts/vscode-send.png" "$repo/docs/images/vscode-send.png"
    echo "run.sh: updated docs/images/vscode-send.png" >&2
fi
exit "$status"
