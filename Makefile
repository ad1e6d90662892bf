.PHONY: run test bench demo-data lint format audit

run:           ## start the dashboard on http://localhost:8501 (demo SQLite by default)
	bash scripts/run.sh

test:          ## the whole test suite (installs what it needs)
	bash scripts/test.sh

bench:         ## benchmark the page queries (see scripts/bench.py)
	bash scripts/setup_env.sh requirements-dev.txt && .venv/bin/python scripts/bench.py

demo-data:     ## (re)create the demo database
	bash scripts/setup_env.sh requirements.txt && .venv/bin/python -m dashboard demo-data --replace

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

audit:         ## dependency audit: fails on a known vulnerability or an unchecked package
	bash scripts/setup_env.sh requirements-dev.txt && .venv/bin/python scripts/audit_deps.py
