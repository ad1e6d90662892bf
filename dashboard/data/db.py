"""Database engines and schema migrations (alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError

from dashboard.core.config import PROJECT_ROOT, database_url, is_sqlite
from dashboard.data.schema import dataset_info

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
BUSY_TIMEOUT_S = 20.0  # longer than the write transaction of any import within the limits
BUSY_MESSAGE = ("The database is busy (an import is being written). Nothing was lost; "
                "try again in a moment.")
T = TypeVar("T")


def make_engine(url: str | None = None) -> Engine:
    """An engine for url (default: DATABASE_URL or the demo SQLite file).

    SQLite gets foreign keys switched on, a write-ahead log (readers never wait for a
    writer) and a busy timeout (a writer waits for another's transaction to end).
    PostgreSQL sessions run with JIT compilation off.
    """
    url = url or database_url()
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # timeout: a writer waits up to BUSY_TIMEOUT_S for another's short write
        # transaction (an import's is a few seconds) instead of failing at once
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            cur.close()

        return engine
    # jit=off: PostgreSQL's JIT compiler starts when a plan's estimated cost passes
    # jit_above_cost, and the overview's one statement of eleven left-joined summaries is
    # estimated at ~10^9 rows for one office: 1.8 s of compiling for a query that runs in
    # 2 ms. The dashboard's queries are short; none gains from JIT.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"options": "-c jit=off"})


class DatabaseBusy(Exception):
    """The database stayed busy (locked by a writer) past the busy timeout and retries."""

    def __init__(self) -> None:
        super().__init__(BUSY_MESSAGE)


def is_busy(exc: BaseException) -> bool:
    """True for "try again later" errors: SQLite's database is locked/busy, PostgreSQL's
    lock timeout, deadlock or serialisation failure. Never true for a real fault."""
    if isinstance(exc, DatabaseBusy):
        return True
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).lower()
    if "database is locked" in text or "database is busy" in text or "database table is " \
            "locked" in text:
        return True
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in ("55P03", "40P01", "40001")


def write_retrying(engine: Engine, work: Callable[[Connection], T], attempts: int = 3,
                   pause: float = 0.5) -> T:
    """work(conn) in its own transaction, run again (up to attempts times in all) when the
    database is busy; DatabaseBusy if it stays busy. For short writes that must not fail
    because an import or another user is writing at that moment (sign-in, audit rows)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (OperationalError, DBAPIError) as exc:
            if not is_busy(exc):
                raise
            if attempt == attempts - 1:
                raise DatabaseBusy() from exc
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


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
