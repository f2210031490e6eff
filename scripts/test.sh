#!/usr/bin/env bash
# The project's single test command (CI runs it through .ci/run):
#
#   ./scripts/test.sh                      # everything
#   ./scripts/test.sh -m ckan              # only the tests against the real CKAN
#   ./scripts/test.sh tests/integration -x # any other pytest arguments
#   CKAN_VERSION=2.12.0 ./scripts/test.sh  # against another CKAN release
#
# On a bare Debian machine it installs what is missing (Debian packages, .venv, CKAN in
# .ckan/), lints (ruff), type-checks (mypy), starts a real CKAN portal on loopback, runs
# pytest with the extra arguments given, and always stops the services it started.
# Lint and type errors do not stop the run (you still get the test results), but any
# failure makes the exit status non-zero. Running it again reuses .venv and CKAN's venv.
# See docs/testing.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(postgresql redis-server chromium chromium-driver build-essential libpq-dev)
VENV="$ROOT/.venv"
START=$SECONDS
FAILED=()

section() { printf '\n==== %s ====\n' "$*"; }
took() { printf '(%d s)\n' "$((SECONDS - $1))"; }

# Run a check; record its failure instead of stopping, so every stage reports.
check() {
    local name="$1"
    shift
    if "$@"; then
        echo "$name: OK"
    else
        echo "$name: FAILED"
        FAILED+=("$name")
    fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --------------------------------------------------------------------------------------
section "System packages"
t=$SECONDS
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
# Debian's own python3 cannot create a venv without python3-venv (no ensurepip).
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "all present: ${APT_PACKAGES[*]}"
fi
took "$t"

# --------------------------------------------------------------------------------------
section "Python environment (.venv)"
t=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    python3 -m venv "$VENV"
fi
# Reinstall only when pyproject.toml changed (or the checkout moved: editable install).
stamp="$VENV/.opengov-dev-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $ROOT"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "up to date (pyproject.toml unchanged)"
else
    echo "pip install -e .[dev]"
    # Build back-end warnings are noise here: pip's output is shown only if it fails.
    pip_log="$VENV/opengov-pip-install.log"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[dev]" >"$pip_log" 2>&1; then
        tail -n 40 "$pip_log"
        echo "pip install failed; full output in $pip_log"
        exit 1
    fi
    printf '%s\n' "$want" >"$stamp"
fi
# An editable install leaves opengov's modules to be compiled at import; with
# PYTHONDONTWRITEBYTECODE set, every command would compile them again (~0.2 s each).
"$VENV/bin/python" -m compileall -q src >/dev/null
export PATH="$VENV/bin:$PATH"
took "$t"

# --------------------------------------------------------------------------------------
section "axe-core (npm registry) for the accessibility tests"
t=$SECONDS
AXE="$ROOT/.cache/axe/node_modules/axe-core/axe.min.js"
if [ -f "$AXE" ]; then
    echo "present: $(head -c 40 "$AXE" | tr -d '/*!\n')"
else
    if ! command -v npm >/dev/null; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    if npm install --no-audit --no-fund --prefix "$ROOT/.cache/axe" axe-core@4 >/dev/null; then
        echo "installed into .cache/axe: $(head -c 40 "$AXE" | tr -d '/*!\n')"
    else
        echo "npm install axe-core@4 failed: the browser tests will fail"
        FAILED+=("axe-core")
    fi
fi
took "$t"

# --------------------------------------------------------------------------------------
section "frictionless-py's test data (PyPI sdist) for the parity test"
t=$SECONDS
# Downloads frictionless' sdist into .cache/ once and records frictionless' own outcome for
# each case (about two minutes the first time); tests/test_frictionless_parity.py fails, never
# skips, when this could not be done.
check "frictionless corpus" python tests/frictionless_corpus.py
took "$t"

# --------------------------------------------------------------------------------------
section "Lint: ruff"
t=$SECONDS
check "ruff check" ruff check src tests benchmarks scripts
check "ruff format" ruff format --check src tests benchmarks scripts
took "$t"

section "Types: mypy"
t=$SECONDS
check "mypy" mypy
took "$t"

# --------------------------------------------------------------------------------------
section "CKAN portal (CKAN_VERSION=${CKAN_VERSION:-2.11.6})"
t=$SECONDS
stop_portal() {
    section "Stopping the CKAN portal"
    "$ROOT/scripts/ckan-portal.sh" stop || true
}
trap stop_portal EXIT
# An interrupted run still stops what it started (the EXIT trap runs on `exit`).
trap 'exit 130' INT
trap 'exit 143' TERM
"$ROOT/scripts/ckan-portal.sh" start
set -a
# shellcheck disable=SC1091  # written by ckan-portal.sh start
source "$ROOT/.ckan/env"
set +a
took "$t"

# --------------------------------------------------------------------------------------
section "pytest ${*:-(all of tests/)}"
t=$SECONDS
pytest_log="$(mktemp)"
color=()
[ -t 1 ] && color=(--color=yes)
set +e
pytest "${color[@]}" "$@" 2>&1 | tee "$pytest_log"
rc=${PIPESTATUS[0]}
set -e
case "$rc" in
    0) ;;
    5)
        echo "pytest collected no tests: that counts as a failure"
        FAILED+=("pytest (no tests)")
        ;;
    *) FAILED+=("pytest (exit $rc)") ;;
esac
# pytest's closing line ("=== 12 passed in 3.4s ==="), repeated as this script's last line.
pytest_result="$(sed 's/\x1b\[[0-9;]*m//g' "$pytest_log" \
    | grep -E '^=+ .* in [0-9.]+s.* =+$' | tail -n 1 || true)"
rm -f "$pytest_log"
took "$t"

# --------------------------------------------------------------------------------------
trap - EXIT
stop_portal

section "Summary"
if [ "${#FAILED[@]}" -gt 0 ]; then
    printf 'FAILED: %s\n' "${FAILED[@]}"
else
    echo "all checks passed"
fi
printf 'total %d s\n' "$((SECONDS - START))"
[ -n "$pytest_result" ] && echo "$pytest_result"
[ "${#FAILED[@]}" -eq 0 ]
