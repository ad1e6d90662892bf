#!/usr/bin/env bash
# Run the whole test suite: unit, query, PostgreSQL, page (AppTest) and browser tests.
# Installs what it needs: the Python packages, and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian chromium for the browser tests ..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
      >/tmp/apt-chromium.log 2>&1 || { cat /tmp/apt-chromium.log >&2; exit 1; }
  else
    echo "Note: /usr/bin/chromium is missing; browser tests will skip (not under CI)." >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
