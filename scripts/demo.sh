#!/usr/bin/env bash
# README command 1: install opengov and publish every example package to ./portal.
#
# On a fresh machine this creates .venv, installs opengov into it, validates, redacts and
# publishes each package under datapackages/ to the static portal folder ./portal (or the
# folder given as $1), then verifies what it wrote. Running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

portal="${1:-portal}"

if [ ! -x .venv/bin/opengov ]; then
  echo "== installing opengov into .venv"
  # Debian's own python3 cannot create a venv without python3-venv (no ensurepip).
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv .venv
  # pip's output is kept in a log and shown only if the install fails.
  if ! { .venv/bin/pip install --quiet --upgrade pip &&
         .venv/bin/pip install --quiet -e .; } >.venv/opengov-install.log 2>&1; then
    tail -n 40 .venv/opengov-install.log
    echo "installing opengov failed; full output in .venv/opengov-install.log" >&2
    exit 1
  fi
fi
# An editable install leaves opengov's modules to be compiled at import (with
# PYTHONDONTWRITEBYTECODE set, at every command); compile them once, as pip does otherwise.
.venv/bin/python -m compileall -q src >/dev/null

# A signing key for the demo (a municipality keeps its own, private key elsewhere).
key=".opengov-demo/kommun.key"
if [ ! -f "$key" ]; then
  mkdir -p .opengov-demo
  .venv/bin/opengov key new --signing --out "$key" --name "Exempelby kommun (demo)" >/dev/null
fi

echo "== publishing the example packages to ./$portal, signed"
.venv/bin/opengov publish datapackages/*/ --to "$portal" --signing-key "$key"

echo "== verifying the portal's bytes, chains and signatures, the demo key pinned"
for dataset in "$portal"/*/; do
  .venv/bin/opengov verify "$dataset" --trust "$key.pub" --trust-store .opengov-demo/trust.json
done

echo
echo "Open $portal/index.html in a browser, or serve it:"
echo "  python3 -m http.server --directory $portal 8000   # then http://127.0.0.1:8000/"
