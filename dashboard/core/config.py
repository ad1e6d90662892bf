"""Configuration read from the environment, with defaults for the embedded demo."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "demo.sqlite"


def database_url() -> str:
    """The SQLAlchemy URL: ``DATABASE_URL`` if set, else the embedded SQLite demo file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")
