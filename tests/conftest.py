"""Shared fixtures: migrated databases on SQLite and PostgreSQL, a hand-checkable dataset
and a generated one, and Streamlit cache hygiene.

PostgreSQL: tests use a fresh database created on the server named by TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
Without a server they skip with the reason; under CI=true a missing server fails.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from dashboard.data import db
from dashboard.demo import demo_data
from dashboard.demo.accounts import create_demo_users
from tests import handmade

AS_OF = date(2026, 10, 31)
SEED = 7
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_unavailable_reason() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def pg_admin():
    """An AUTOCOMMIT engine on the PostgreSQL server, or skip (fail under CI)."""
    reason = _pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def new_pg_url(pg_admin):
    """A factory of fresh, empty PostgreSQL databases, dropped at the end of the session."""
    made: list[str] = []

    def make() -> str:
        name = f"dash_test_{uuid.uuid4().hex[:12]}"
        for attempt in range(5):  # template1 may be busy with another CREATE DATABASE
            try:
                with pg_admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                break
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield make
    for name in made:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _url(backend: str, tmp_path_factory, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return request.getfixturevalue("new_pg_url")()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def generated_engine(request, tmp_path_factory):
    """A migrated database filled by the demo generator (small scale, fixed seed, as of
    2026-10-31), on SQLite and on PostgreSQL."""
    url = _url(request.param, tmp_path_factory, request)
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo_data.generate(engine, seed=SEED, as_of=AS_OF, scale=demo_data.small_scale())
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def hand_engine(request, tmp_path_factory):
    """A migrated database holding the small hand-checkable dataset of tests/handmade.py."""
    url = _url(request.param, tmp_path_factory, request)
    engine = db.make_engine(url)
    db.upgrade(engine)
    handmade.load(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_sqlite_url(tmp_path_factory) -> str:
    """A SQLite file with small-scale generated data, for page tests (AppTest)."""
    path = tmp_path_factory.mktemp("app") / "demo.sqlite"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo_data.generate(engine, seed=SEED, as_of=AS_OF, scale=demo_data.small_scale())
    with engine.begin() as conn:
        create_demo_users(conn)
    engine.dispose()
    return url


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """Streamlit caches live in the process: clear them so tests cannot leak into others."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
