"""PostgreSQL sessions the app opens run without JIT compilation (issue 16): the overview's
one statement of eleven left-joined summaries is estimated at ~10^9 rows for one office,
which set off 1.8 s of JIT compiling for a 2 ms query."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from dashboard.data import db
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.postgres


def test_app_engine_turns_jit_off(pg_admin):
    plain = create_engine(PG_ADMIN_URL)
    with plain.connect() as conn:  # PostgreSQL's default (on here) for any other client
        conn.execute(text("SET jit = on"))
        assert conn.execute(text("SHOW jit")).scalar_one() == "on"
    plain.dispose()
    engine = db.make_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"
    engine.dispose()
