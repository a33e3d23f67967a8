#!/usr/bin/env bash
# Installs the peers of the VS Code end-to-end test (code-server 4.100.3 and
# playwright-core, pinned by test/peer/package-lock.json) into the CI cache folder.
#
# Idempotent: a warm cache (same lockfile) returns in well under a second. A cold install
# takes about two minutes, most of it code-server's own postinstall.
#
# Needs the Debian packages chromium, libkrb5-dev and ripgrep (scripts/apt-packages.txt).
# Prints the install folder as its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}/vscode"
stamp="$cache/.installed"
want="$(sha256sum "$here/peer/package-lock.json" | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" \
    && -x "$cache/node_modules/.bin/code-server" \
    && -d "$cache/node_modules/code-server/lib/vscode/node_modules" ]]; then
    echo "$cache"
    exit 0
fi

for tool in rg chromium; do
    if ! command -v "$tool" >/dev/null; then
        echo "setup.sh: '$tool' is missing: install the Debian packages in scripts/apt-packages.txt (chromium libkrb5-dev ripgrep)." >&2
        exit 1
    fi
done

# code-server's ripgrep dependency downloads a prebuilt binary, which cannot be fetched
# here: seed the download cache it checks first with Debian's rg.
rgc="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rgc"
rgtar="$rgc/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
[[ -s "$rgtar" ]] || tar czf "$rgtar" -C "$(dirname "$(command -v rg)")" rg

rm -f "$stamp"
mkdir -p "$cache"
cp "$here/peer/package.json" "$here/peer/package-lock.json" "$cache/"
cd "$cache"
echo "setup.sh: installing code-server and playwright-core into $cache" >&2
npm ci --ignore-scripts --no-audit --no-fund >&2
# code-server's own setup (installs VS Code's node modules); its scripts are skipped above
# because npm 11 refuses install scripts unless told otherwise.
(
    cd node_modules/code-server
    # postinstall.sh reads npm's user agent to pick the package manager and the Node major.
    npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" \
        npm_config_yes=true npm_config_dangerously_allow_all_scripts=true \
        npm_config_unsafe_perm=true sh ./postinstall.sh >&2
)
npm_config_dangerously_allow_all_scripts=true npm rebuild argon2 >&2

# A throwaway config folder: code-server writes a default config on first start.
probe="$(mktemp -d)"
XDG_CONFIG_HOME="$probe" XDG_DATA_HOME="$probe" "$cache/node_modules/.bin/code-server" --version >&2
rm -rf "$probe"
echo "$want" >"$stamp"
echo "$cache"
