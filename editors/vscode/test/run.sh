#!/usr/bin/env bash
# The VS Code end-to-end test: builds the .vsix and the httplens binary, installs the
# extension into a fresh code-server user/extensions folder, and runs e2e.mjs (which
# starts code-server on a free 127.0.0.1 port, drives it with headless Chromium and kills
# everything it started). Exits non-zero on failure; the last line is `N passed, N failed`.
#
#   test/run.sh [--update-docs-image]
#
# --update-docs-image copies the screenshot of a passing run to docs/images/vscode-send.png.
# HTTPLENS_BIN=/path/to/httplens skips building the server binary.
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
npm run package >&2 || fail_early "npm run package failed: the .vsix was not built."
vsix="$ext/httplens.vsix"

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
mkdir -p "$scratch/user" "$scratch/exts" "$scratch/home" "$artifacts"
rm -f "$artifacts"/*.png "$artifacts"/*.log

# Install the .vsix the way a user would, into this run's own folders.
HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share" \
    "$peers/node_modules/.bin/code-server" \
    --user-data-dir "$scratch/user" --extensions-dir "$scratch/exts" \
    --install-extension "$vsix" >"$artifacts/install.log" 2>&1 \
    || fail_early "code-server could not install $vsix (see $artifacts/install.log)."
ls -d "$scratch/exts"/httplens.httplens-* >/dev/null 2>&1 \
    || fail_early "the extension is not in the extensions folder after --install-extension."

status=0
HTTPLENS_E2E_PEERS="$peers" HTTPLENS_E2E_DIR="$scratch" HTTPLENS_E2E_SERVER="$server" \
    HTTPLENS_E2E_ARTIFACTS="$artifacts" node "$here/e2e.mjs" | tee "$artifacts/e2e.log" || status=$?
# A crash before e2e.mjs could count still ends with the summary line.
if ! tail -n 1 "$artifacts/e2e.log" | grep -Eq '^[0-9]+ passed, [0-9]+ failed'; then
    [[ "$status" -ne 0 ]] || status=1
    echo "0 passed, 1 failed"
fi

if [[ "$status" -eq 0 && "$update_docs_image" == true ]]; then
    mkdir -p "$repo/docs/images"
    cp "$artifacts/vscode-send.png" "$repo/docs/images/vscode-send.png"
    echo "run.sh: updated docs/images/vscode-send.png" >&2
fi
exit "$status"
