#!/usr/bin/env bash
# Run the dashboard on http://localhost:8501. Without DATABASE_URL it uses the embedded
# SQLite demo database, creating it (with demo users) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh requirements.txt
if [ -z "${DATABASE_URL:-}" ] && [ ! -f data/demo.sqlite ]; then
  echo "First run: creating the demo database in data/demo.sqlite ..." >&2
  .venv/bin/python -m dashboard demo-data
fi
exec .venv/bin/python -m dashboard serve --server.port "${PORT:-8501}" \
  --server.headless true "$@"
