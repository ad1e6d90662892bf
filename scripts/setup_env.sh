#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the pinned requirements file given as $1,
# only when it changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
fi
stamp=".venv/.installed-$(basename "$req")"
want="$(cat "$req" requirements*.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Python packages from $req ..." >&2
  .venv/bin/python -m pip install -q -r "$req"
  echo "$want" > "$stamp"
fi
