"""Database engines and schema migrations (alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, select

from dashboard.config import PROJECT_ROOT, database_url, is_sqlite
from dashboard.schema import dataset_info

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def make_engine(url: str | None = None) -> Engine:
    """An engine for url (default: DATABASE_URL or the demo SQLite file).

    SQLite gets foreign keys switched on and a write-ahead log, so readers and the
    importer do not block each other.
    """
    url = url or database_url()
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to revision with the alembic migrations."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def has_data(engine: Engine) -> bool:
    """True when the schema exists and a dataset has been loaded (dataset_info filled)."""
    if "dataset_info" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        return conn.execute(select(dataset_info.c.key).limit(1)).first() is not None


def read_dataset_info(engine: Engine) -> dict[str, str]:
    """Facts about the loaded data (data_as_of, mode, seed) as a dict of strings."""
    with engine.connect() as conn:
        return dict(conn.execute(select(dataset_info.c.key, dataset_info.c.value)).all())
