"""Migration 0004 upgrades a database in place: every figure stays as it was.

A database at revision 0003 (no allocation history: every figure counts a case where
person_on_probation.office_id says) is made by copying the generated rows, without the
allocation tables and the staff team column, into a fresh database migrated to 0003. Its
figures are computed there with hand-written SQL over the raw rows by the person's office
(tests/test_allocations.raw_figures(by_person=True)); after ``alembic upgrade`` the pages'
queries give exactly those figures, through the raw rows and through rebuilt summaries.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import inspect, select, text

from dashboard.data import db, schema, summaries
from dashboard.data import summary_schema as ss
from tests.test_allocations import AS_OF, SUSSEX_PAIR, page_figures, raw_figures

NEW_TABLES = {"team", "case_allocation"}
SKIP = NEW_TABLES | {t.name for t in ss.SUMMARY_TABLES} | {"summary_state", "alembic_version"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def old_database(request, tmp_path_factory):
    """(engine at revision 0003 holding the generated rows, the source engine)."""
    from dashboard.demo import demo_data

    def url(name):
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp(name) / 'db.sqlite'}"
        return request.getfixturevalue("new_pg_url")()

    source = db.make_engine(url("source"))
    db.upgrade(source)
    demo_data.generate(source, seed=12, as_of=AS_OF, scale=SUSSEX_PAIR)
    old = db.make_engine(url("old"))
    db.upgrade(old, "0003")
    existing = set(inspect(old).get_table_names())
    with source.connect() as src, old.begin() as dst:
        for table in schema.metadata.sorted_tables:
            if table.name in SKIP or table.name not in existing:
                continue
            # only the columns 0003 has (later migrations add team_id, sample method, ...)
            held = {c["name"] for c in inspect(old).get_columns(table.name)}
            columns = [c for c in table.c if c.name in held]
            rows = [dict(r) for r in src.execute(select(*columns)).mappings()]
            if rows:
                dst.execute(table.insert(), rows)
        if dst.dialect.name == "postgresql":  # serials past the copied ids
            for name in sorted(existing - SKIP):
                if "id" in schema.metadata.tables[name].c:
                    dst.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"))
    yield old, source
    old.dispose()
    source.dispose()


def test_upgrade_keeps_every_figure(old_database):
    old, _source = old_database
    with old.connect() as conn:
        assert "case_allocation" not in inspect(conn).get_table_names()
        people = conn.execute(text("SELECT COUNT(*) FROM person_on_probation")).scalar_one()
        expected = raw_figures(conn, by_person=True)  # what 0003's queries counted
    assert len(expected) > 500
    db.upgrade(old)
    with old.connect() as conn:
        backfilled = pd.read_sql(text(
            "SELECT c.person_id, c.office_id, c.officer_id, c.end_date, p.office_id AS now, "
            "p.officer_id AS officer_now FROM case_allocation c "
            "JOIN person_on_probation p ON p.id = c.person_id"), conn)
        from_rows = page_figures(conn)  # no summaries yet: the raw-row queries
    assert len(backfilled) == people == backfilled["person_id"].nunique()
    assert (backfilled["office_id"] == backfilled["now"]).all()
    assert (backfilled["officer_id"].fillna(0) == backfilled["officer_now"].fillna(0)).all()
    assert backfilled["end_date"].isna().all()
    pd.testing.assert_frame_equal(from_rows, expected)
    with old.begin() as conn:
        summaries.refresh_all(conn)
    with old.connect() as conn:
        assert summaries.coverage(conn) is not None
        pd.testing.assert_frame_equal(page_figures(conn), expected)


def test_backfill_starts_no_later_than_any_event(old_database):
    old, _source = old_database
    db.upgrade(old)
    with old.connect() as conn:
        late = conn.execute(text(
            "SELECT COUNT(*) FROM appointment a JOIN case_allocation c "
            "ON c.person_id = a.person_id WHERE a.appointment_date < c.start_date")).scalar_one()
    assert late == 0
