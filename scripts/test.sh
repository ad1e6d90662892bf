#!/usr/bin/env bash
# Run the whole test suite: unit, query, PostgreSQL, page (AppTest) and browser tests.
# Installs what it needs: the Python packages, and Debian's chromium and nginx for the browser
# tests (nginx: tests/browser/test_replicas.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh requirements-dev.txt
# Debian packages for the browser tests (chromium) and the replica test (nginx)
missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages for the browser tests:$missing ..." >&2
    # shellcheck disable=SC2086 - one word per package
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) \
      >/tmp/apt-test-packages.log 2>&1 || { cat /tmp/apt-test-packages.log >&2; exit 1; }
  else
    echo "Note:$missing missing; the tests that need it will skip (not under CI)." >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
