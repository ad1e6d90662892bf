"""Fixtures for the tests of accounts and their commands: a database with two areas and
two offices, a fast password hasher, and an area manager for Kent.

A test module imports the fixture functions it uses (``from tests.accounts import
engine_fixture  # noqa: F401``); pytest knows them by their names: engine, fast_hasher,
kent.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, insert, select

from dashboard.access import auth
from dashboard.commands.users import AddUser
from dashboard.data import db
from dashboard.data.schema import area, office
from dashboard.data.schema import audit_log as audit_log_table

PASSWORD = "Kent-office-2026"
OTHER_PASSWORD = "Surrey hills 42"


@pytest.fixture(name="fast_hasher")
def fast_hasher_fixture(monkeypatch):
    """argon2id with the cheapest sensible parameters, so the suite stays quick."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    return hasher


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
OFFICES = [
    {"id": 10, "code": "ASH", "name": "Ashford", "area_id": 1},
    {"id": 20, "code": "GUI", "name": "Guildford", "area_id": 2},
]


def migrated_engine(request, tmp_path) -> Engine:
    """A freshly migrated, empty database for request.param ("sqlite", or "postgresql":
    a fresh database on the test server, skipping when there is none)."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path}/t.sqlite")
    else:
        engine = db.make_engine(request.getfixturevalue("new_pg_url")())
    db.upgrade(engine)
    return engine


def add_places(conn, offices=OFFICES) -> None:
    """Inserts areas KENT (1) and SURREY (2) and the given offices (rows of office)."""
    conn.execute(
        insert(area),
        [
            {"id": 1, "code": "KENT", "name": "Kent"},
            {"id": 2, "code": "SURREY", "name": "Surrey"},
        ],
    )
    conn.execute(insert(office), offices)


@pytest.fixture(name="engine", params=ENGINES)
def engine_fixture(request, tmp_path):
    """A migrated database with areas KENT (1) and SURREY (2) and offices Ashford (10,
    Kent) and Guildford (20, Surrey); SQLite, and PostgreSQL when the test server runs."""
    engine = migrated_engine(request, tmp_path)
    with engine.begin() as conn:
        add_places(conn)
    yield engine
    engine.dispose()


@pytest.fixture(name="kent")
def kent_fixture(engine, fast_hasher):
    """An area manager for Kent with PASSWORD."""
    with engine.begin() as conn:
        return AddUser(
            conn,
            "am.kent",
            "Kent Manager",
            "area_manager",
            password=PASSWORD,
            email="AM.Kent@example.org",
            area_id=1,
        ).run()


def log_count(engine) -> int:
    """The number of audit_log rows."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log_table)).scalar_one()
