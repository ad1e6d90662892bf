"""Databases on the backend a module fixture is parametrised over
(params=["sqlite", "postgresql"]), so each fixture only says what it loads: an empty,
migrated one, or the small generated demo with its demo accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dashboard.data import db


def migrated_engine(request, tmp_path_factory, name: str) -> Engine:
    """A new database at the latest migration: a SQLite file in a fresh temporary folder
    called `name`, or a fresh PostgreSQL database (the new_pg_url fixture). The caller
    disposes of it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.sqlite'}"
    else:
        url = request.getfixturevalue("new_pg_url")()
    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


def small_demo_with_users(request, tmp_path_factory, name: str, seed: int, as_of,
                          users: bool = True) -> Engine:
    """``migrated_engine`` holding the small generated demo (``seed``, ``as_of``) and, when
    ``users``, the demo accounts (auditors, quality lead, ...). The caller disposes of it."""
    from dashboard.demo import demo_data
    from dashboard.demo.accounts import create_demo_users

    engine = migrated_engine(request, tmp_path_factory, name)
    demo_data.generate(engine, seed=seed, as_of=as_of, scale=demo_data.small_scale())
    if users:
        with engine.begin() as conn:
            create_demo_users(conn)
    return engine


def small_demo_fixture(name: str, seed: int, as_of, users: bool = False):
    """A module-scoped fixture, on SQLite and on PostgreSQL, holding a small generated demo
    of the module's own (for tests that change rows): ``engine = small_demo_fixture(...)``
    at module level. Disposed of after the module."""

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def _small_demo(request, tmp_path_factory):
        engine = small_demo_with_users(request, tmp_path_factory, name, seed, as_of, users)
        yield engine
        engine.dispose()

    return _small_demo
