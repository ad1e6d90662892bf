"""Fixtures for the tests of accounts and their commands: a database with two areas and
two offices, a fast password hasher, and an area manager for Kent; and the pieces other
account-side tests build their own databases from (ENGINES, add_places, log_count).

A test module imports the fixture functions it uses (``from tests.accounts import
engine_fixture  # noqa: F401``); pytest knows them by their names: engine, fast_hasher,
kent.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from dashboard.access import auth
from dashboard.commands.users import AddUser
from dashboard.data.schema import area, office
from dashboard.data.schema import audit_log as audit_log_table
from tests.backend_engines import migrated_engine

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
def engine_fixture(request, tmp_path_factory):
    """A migrated database with areas KENT (1) and SURREY (2) and offices Ashford (10,
    Kent) and Guildford (20, Surrey); SQLite, and PostgreSQL when the test server runs."""
    engine = migrated_engine(request, tmp_path_factory, "accounts")
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
