#!/usr/bin/env bash
# Create .venv (installing Debian's python3-venv if the interpreter lacks it) and install the project.
# Usage: scripts/venv.sh EXTRAS   e.g. scripts/venv.sh embedded  or  scripts/venv.sh dev,embedded
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-embedded}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "installing python3-venv from Debian" >&2
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    "$python" -m venv .venv
  fi
fi
stamp=".venv/.installed-$extras-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
