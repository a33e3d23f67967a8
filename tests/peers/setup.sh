#!/usr/bin/env bash
# Installs the OAuth peers the sign-in tests run against (tests/auth_peers.rs) into
# ${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}/peers, outside the clone:
#   npm/  oidc-provider + oauth2-mock-server (from package-lock.json, `npm ci`)
#   venv/ django-oauth-toolkit (requirements.txt, pinned)
#   django.sqlite3  the migrated database the django peer copies per test run
# Idempotent: each part is redone only when its pinned inputs changed (a stamp file
# holds their hash), so a warm run takes well under a second and prints one line.
set -euo pipefail
# Keep the clone clean: no __pycache__ next to the django peer.
export PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}/peers"
mkdir -p "$cache"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# npm peers
npm_hash="$(hash_of "$here/package.json" "$here/package-lock.json")"
if [[ "$(cat "$cache/npm/.stamp" 2>/dev/null || true)" != "$npm_hash" ]]; then
  echo "peers: installing oidc-provider and oauth2-mock-server (npm ci)"
  rm -rf "$cache/npm"
  mkdir -p "$cache/npm"
  cp "$here/package.json" "$here/package-lock.json" "$cache/npm/"
  # Both want Node 22 and run on Node 20: the engine warning is expected.
  (cd "$cache/npm" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$npm_hash" > "$cache/npm/.stamp"
fi
# The shims resolve their packages from their own folder (ES modules ignore NODE_PATH).
cp "$here"/*.mjs "$cache/npm/"

# Python peer
py_hash="$(hash_of "$here/django/requirements.txt")"
if [[ "$(cat "$cache/venv/.stamp" 2>/dev/null || true)" != "$py_hash" ]]; then
  echo "peers: installing django-oauth-toolkit (venv)"
  rm -rf "$cache/venv"
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/django/requirements.txt"
  echo "$py_hash" > "$cache/venv/.stamp"
  rm -f "$cache/django.stamp"
fi

# The migrated database (schema + the test clients), made once per project change.
db_hash="$(hash_of "$here/django/requirements.txt" "$here"/django/*.py)"
if [[ "$(cat "$cache/django.stamp" 2>/dev/null || true)" != "$db_hash" ]]; then
  echo "peers: migrating the django database"
  rm -f "$cache/django.sqlite3"
  (cd "$here/django" && DJANGO_DB="$cache/django.sqlite3" "$cache/venv/bin/python" manage.py migrate --noinput >/dev/null \
    && DJANGO_DB="$cache/django.sqlite3" "$cache/venv/bin/python" manage.py shell -c "import seed; seed.run()" >/dev/null)
  echo "$db_hash" > "$cache/django.stamp"
fi

echo "peers: ready in $cache"
