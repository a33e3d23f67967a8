#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` execs this script).
#
# Installs what the tests need (Debian packages listed in scripts/apt-packages.txt, the
# peers of each area through their own setup scripts, cargo-fuzz and cargo-deny), then
# checks formatting and lints, runs every test including the ignored ones (inside a
# private D-Bus session with an unlocked gnome-keyring and a fresh kernel session
# keyring), the editor clients' tests, short fuzz runs and the supply-chain check.
#
# Every step is timed and bounded; a failing step does not stop the later ones, and the
# last line printed is the honest count of passed and failed steps.
#
# Usage: scripts/test-all.sh [STEP...]   (no argument: every step; names in the summary)
# Environment:
#   HTTPLENS_CI_CACHE       cache folder for tools and peers (default ~/.cache/httplens-ci)
#   HTTPLENS_FUZZ_SECONDS   seconds per fuzz target (default 30)
#   HTTPLENS_CI_BUDGET_SECONDS  time for the whole run (default 5100 = 85 min); each step
#                           is also bounded by its own limit
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export HTTPLENS_CI_CACHE="${HTTPLENS_CI_CACHE:-$HOME/.cache/httplens-ci}"
export TOOLS="$HTTPLENS_CI_CACHE/tools"
export PATH="$TOOLS/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export FUZZ_SECONDS="${HTTPLENS_FUZZ_SECONDS:-30}"
export SHARED_CORPUS="$ROOT/../shared/corpus/http"
export ROOT
# Pinned tool versions: a new release must not change CI by surprise.
export CARGO_FUZZ_VERSION=0.13.2
export CARGO_DENY_VERSION=0.20.2
mkdir -p "$HTTPLENS_CI_CACHE" "$TOOLS"

# In CI every run is a fresh clone: keep the build folders in the cache so a warm run
# compiles only what changed. Locally the ordinary ./target is used.
if [ "${CI:-}" = "true" ]; then
    for dir in target fuzz/target; do
        if [ ! -e "$ROOT/$dir" ] && [ -d "$(dirname "$ROOT/$dir")" ]; then
            mkdir -p "$HTTPLENS_CI_CACHE/build/${dir//\//-}"
            ln -s "$HTTPLENS_CI_CACHE/build/${dir//\//-}" "$ROOT/$dir"
        fi
    done
fi

# ---------------------------------------------------------------------------------------
# Step bodies. Each runs in its own bash with `set -euo pipefail`, under `timeout`.

# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring (the real Secret
# Service) and, when keyutils is installed, a fresh kernel session keyring (containers
# often refuse the inherited one). The daemon keeps its keyring files in a temp folder, so
# a developer's own login keyring is never opened, created or changed.
with_keyring() {
    # shellcheck disable=SC2016 # expanded by the inner sh
    local inner='d=$(mktemp -d); trap '"'"'rm -rf "$d"'"'"' EXIT
printf pw | XDG_DATA_HOME="$d" gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$d/gkd.log" \
    || { echo "warning: gnome-keyring-daemon did not start:" >&2; cat "$d/gkd.log" >&2; }
# The daemon forks before it owns its bus name; a client that comes too early would start a
# second, locked daemon through D-Bus activation. Wait (at most 10 s) for the name.
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then echo "warning: the Secret Service did not appear on the bus" >&2; break; fi
    sleep 0.1
done
"$@"'
    if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
        echo "dbus-run-session or gnome-keyring-daemon is missing: the apt step installs them" >&2
        return 1
    fi
    if command -v keyctl >/dev/null; then
        keyctl session - dbus-run-session -- sh -c "$inner" keyring "$@"
    else
        dbus-run-session -- sh -c "$inner" keyring "$@"
    fi
}

step_apt() {
    local wanted=() missing=()
    # Every area lists what it needs there (the harness: the keychain session and the C++
    # compiler libFuzzer is built with).
    mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/apt-packages.txt | grep -v '^$' | sort -u)
    for pkg in "${wanted[@]}"; do
        # A removed package can stay known to dpkg ("config-files"): ask for installed.
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "all ${#wanted[@]} Debian packages already installed"
        return 0
    fi
    echo "installing: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "not root and no sudo: install ${missing[*]} by hand" >&2; return 1; }
        sudo=(sudo -n)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Installs a cargo subcommand at a pinned version into $TOOLS unless it is already there.
install_tool() {
    local crate="$1" version="$2" bin="$3"
    if [ -x "$TOOLS/bin/$bin" ] && "$TOOLS/bin/$bin" --version 2>/dev/null | grep -qF "$version"; then
        echo "$crate $version already in $TOOLS"
        return 0
    fi
    cargo install --locked --version "$version" --root "$TOOLS" "$crate"
}

step_tools() {
    install_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz
    install_tool cargo-deny "$CARGO_DENY_VERSION" cargo-deny
}

step_setup_peers() { tests/peers/setup.sh; }
step_setup_nvim() { editors/nvim/test/setup.sh; }
step_setup_vscode() { editors/vscode/test/setup.sh; }

step_fmt() {
    cargo fmt --all --check
    # The fuzz crate is its own workspace, so `--all` does not reach it.
    if [ -f fuzz/Cargo.toml ]; then cargo fmt --all --check --manifest-path fuzz/Cargo.toml; fi
}

step_clippy() { cargo clippy --locked --all-targets -- -D warnings; }

# `--all-targets` builds and runs the library, binary and integration tests and runs the
# criterion benches once each in test mode (so they at least compile and do not panic);
# doctests are not part of it, hence the separate step.
step_test() { with_keyring cargo test --locked --no-fail-fast --all-targets -- --include-ignored; }

step_doctest() { cargo test --locked --doc; }

step_nvim() { with_keyring editors/nvim/test/run.sh; }
step_vscode() { with_keyring editors/vscode/test/run.sh; }
# The release binary (the .vsix above built it) against its 12 MB limit.
step_size() { scripts/size.sh; }

fuzz_targets() {
    find fuzz/fuzz_targets -maxdepth 1 -name '*.rs' -printf '%f\n' 2>/dev/null | sed 's/\.rs$//' | sort
}

step_fuzz() {
    local targets
    targets="$(fuzz_targets)"
    [ -n "$targets" ] || { echo "no fuzz targets" >&2; return 1; }
    cargo fuzz build -s none
    # Run the binaries just built (what `cargo fuzz run` does, minus its rebuild check),
    # so every target runs exactly the code that was built once.
    local bin_dir
    bin_dir="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
    local work failed=0
    work="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: `work` is local and gone at exit
    trap "rm -rf '$work'" EXIT
    for target in $targets; do
        seed_corpus "$work/$target" "$target"
        local dict=() log="$work/$target.log" rc=0
        # A target's own dictionary when it has one (fuzz/TARGET.dict), else the .http one.
        if [ -f "fuzz/$target.dict" ]; then
            dict=("-dict=fuzz/$target.dict")
        elif [ -f fuzz/http.dict ]; then
            dict=("-dict=fuzz/http.dict")
        fi
        mkdir -p "fuzz/artifacts/$target"
        echo "--- fuzz $target for ${FUZZ_SECONDS}s ($(find "$work/$target" -type f | wc -l) seeds)"
        "$bin_dir/$target" "$work/$target" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
            -timeout=10 -artifact_prefix="fuzz/artifacts/$target/" "${dict[@]}" >"$log" 2>&1 || rc=$?
        # libFuzzer is chatty: keep the lines that say how much ran and what it found.
        grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^SUMMARY|panicked|Test unit written' "$log" || true
        if [ "$rc" -ne 0 ]; then
            tail -n 40 "$log"
            echo "fuzz target $target FAILED (exit $rc); replay: cargo fuzz run -s none $target fuzz/artifacts/$target/<file>" >&2
            failed=1
        fi
    done
    return "$failed"
}

# seed_corpus DIR TARGET: a fresh corpus folder per run, seeded with the real request and
# environment files (libFuzzer writes new inputs into the folder it is given, and the
# shared corpus is read-only), plus any committed seeds in fuzz/seeds/TARGET.
seed_corpus() {
    local dir="$1" target="$2" i=0 f
    mkdir -p "$dir"
    if [ -d "$SHARED_CORPUS" ]; then
        while IFS= read -r -d '' f; do
            i=$((i + 1))
            cp "$f" "$dir/seed-$i-$(basename "$f")"
        done < <(find "$SHARED_CORPUS" -type f ! -name '*.tsv' ! -name '*.md' -print0)
    else
        echo "warning: $SHARED_CORPUS not found, seeding $target with committed seeds only" >&2
    fi
    if [ -d "fuzz/seeds/$target" ]; then cp -r "fuzz/seeds/$target/." "$dir/"; fi
    # libFuzzer refuses to start from an empty folder on some versions: one tiny input.
    [ -n "$(ls -A "$dir")" ] || printf 'GET http://127.0.0.1/\n' >"$dir/seed-min"
}

# cargo-deny reads the manifests of every crate in Cargo.lock, including the macOS and
# Windows ones a Linux build never downloads: fetch them first (a no-op when warm).
step_deny() {
    cargo fetch --locked --quiet
    cargo deny --offline --locked check --hide-inclusion-graph licenses bans sources
}

export -f with_keyring step_apt install_tool step_tools step_setup_peers step_setup_nvim \
    step_setup_vscode step_fmt step_clippy step_test step_doctest step_nvim step_vscode step_size \
    fuzz_targets step_fuzz seed_corpus step_deny

# ---------------------------------------------------------------------------------------
# The runner.

names=() results=() times=() missing_files=()
passed=0 failed=0 skipped=0
only=("$@")

wanted() {
    [ "${#only[@]}" -eq 0 ] && return 0
    local n
    for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}

# reap_step TOKEN: end what a step left running. `timeout` signals its process group,
# but a server or browser that made its own session (setsid) escapes it; every process a
# step starts inherits HTTPLENS_CI_STEP=TOKEN, so find those by their environment and end
# them by their id (TERM, then KILL after at most 5 s).
reap_step() {
    local token="$1" pids=() env pid i
    for env in /proc/[0-9]*/environ; do
        pid="${env#/proc/}"
        pid="${pid%/environ}"
        [ "$pid" = "$$" ] && continue
        # Processes come and go while we look: an unreadable entry is simply skipped.
        if { tr '\0' '\n' <"$env"; } 2>/dev/null | grep -qxF "HTTPLENS_CI_STEP=$token"; then
            pids+=("$pid")
        fi
    done
    [ "${#pids[@]}" -eq 0 ] && return 0
    echo "=== ending ${#pids[@]} process(es) the step left running: ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for i in 1 2 3 4 5 6 7 8 9 10; do
        local alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        [ "${#alive[@]}" -eq 0 ] && return 0
        pids=("${alive[@]}")
        [ "$i" -eq 10 ] && kill -KILL "${pids[@]}" 2>/dev/null
        sleep 0.5
    done
    return 0
}

# run_step NAME TIMEOUT_SECONDS FUNCTION [REQUIRED_FILE]
# A step whose script or manifest (REQUIRED_FILE) is missing fails: a suite that
# silently skips what it cannot find would pass without testing.
run_step() {
    local name="$1" limit="$2" fn="$3" cond="${4:-}"
    wanted "$name" || return 0
    if [ -n "$cond" ] && [ ! -e "$cond" ]; then
        names+=("$name"); results+=("FAILED ($cond is missing)"); times+=("-")
        failed=$((failed + 1))
        missing_files+=("$cond")
        return 0
    fi
    # The whole run stays inside its budget: a step gets at most the time that is left.
    local left=$(( deadline - $(date +%s) ))
    if [ "$left" -le 0 ]; then
        names+=("$name"); results+=("FAILED (not run: the ${budget}s budget is spent)"); times+=("-")
        failed=$((failed + 1))
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit="$left"
    echo
    echo "=== $name"
    local start rc
    start=$(date +%s)
    set +e
    # No stdin (CI has none; a test that waits for input must fail, not hang), and a hard
    # time limit: timeout signals the whole process group it leads.
    local token="$name-$$-$RANDOM"
    HTTPLENS_CI_STEP="$token" timeout -k 30 "$limit" bash -c "set -euo pipefail; $fn" </dev/null
    rc=$?
    set -e
    reap_step "$token"
    local took=$(( $(date +%s) - start ))
    names+=("$name"); times+=("${took}s")
    if [ "$rc" -eq 0 ]; then
        results+=("passed"); passed=$((passed + 1))
        echo "=== $name passed in ${took}s"
    else
        local why="exit $rc"
        [ "$rc" -eq 124 ] && why="timed out after ${limit}s"
        results+=("FAILED ($why)"); failed=$((failed + 1))
        echo "=== $name FAILED ($why) in ${took}s"
    fi
}

total_start=$(date +%s)
# CI allows 90 minutes for a cold run; stop starting work a little before that.
budget="${HTTPLENS_CI_BUDGET_SECONDS:-5100}"
deadline=$(( total_start + budget ))
run_step apt           900  step_apt
run_step tools         1800 step_tools
run_step setup-peers   900  step_setup_peers  tests/peers/setup.sh
run_step setup-nvim    600  step_setup_nvim   editors/nvim/test/setup.sh
run_step setup-vscode  900  step_setup_vscode editors/vscode/test/setup.sh
run_step fmt           300  step_fmt
run_step clippy        2400 step_clippy
run_step test          3000 step_test
run_step doctest       900  step_doctest
run_step nvim          300  step_nvim         editors/nvim/test/run.sh
run_step vscode        600  step_vscode       editors/vscode/test/run.sh
run_step size          2400 step_size         scripts/size.sh
run_step fuzz          $((2400 + 120 * 8 + FUZZ_SECONDS * 8)) step_fuzz fuzz/Cargo.toml
run_step deny          300  step_deny         deny.toml
total=$(( $(date +%s) - total_start ))

echo
echo "=== summary (total ${total}s)"
for i in "${!names[@]}"; do
    printf '  %-14s %-8s %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
if [ "${#missing_files[@]}" -gt 0 ]; then
    echo "missing, so their steps failed: ${missing_files[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
