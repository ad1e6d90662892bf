"""An empty, migrated database on the backend a module fixture is parametrised over
(params=["sqlite", "postgresql"]), so each fixture only says what it loads."""

from __future__ import annotations

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
