"""The same generated dataset on SQLite and PostgreSQL gives the same rows and the same
headline figures: the generator and the queries behave alike on both backends."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import Boolean, Date, DateTime, Float, func, select

from dashboard.core.filters import Filters
from dashboard.data import db, schema
from dashboard.demo import demo_data
from queries import LEVELS, overview

AS_OF = date(2026, 10, 31)
SEED = 7


@pytest.fixture(scope="module")
def both(tmp_path_factory, new_pg_url):
    """Fresh SQLite and PostgreSQL databases, each filled by one small-scale generation."""
    engines = {
        "sqlite": db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('agree') / 'a.sqlite'}"),
        "postgresql": db.make_engine(new_pg_url()),
    }
    counts = {}
    for name, engine in engines.items():
        db.upgrade(engine)
        counts[name] = demo_data.generate(engine, seed=SEED, as_of=AS_OF,
                                          scale=demo_data.small_scale())
    yield engines, counts
    for engine in engines.values():
        engine.dispose()


def periods(engine) -> dict[str, Filters]:
    with engine.connect() as conn:
        kent = tuple(sorted(conn.execute(
            select(schema.office.c.id).join(schema.area, schema.area.c.id
                                            == schema.office.c.area_id)
            .where(schema.area.c.code == "KENT")).scalars()))
    return {
        "region_12m": Filters(date(2025, 11, 1), date(2026, 10, 31)),
        "kent_3m": Filters(date(2026, 7, 1), date(2026, 9, 30), office_ids=kent,
                           area_code="KENT"),
        "whole_history": Filters(date(2024, 11, 1), date(2026, 10, 31)),
    }


def test_generator_reports_the_same_counts(both):
    _engines, counts = both
    assert counts["sqlite"] == counts["postgresql"]


def test_every_table_has_the_same_row_count(both):
    engines, _counts = both
    got = {}
    for name, engine in engines.items():
        with engine.connect() as conn:
            got[name] = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                         for t in schema.metadata.sorted_tables}
    assert got["sqlite"] == got["postgresql"]
    assert got["sqlite"]["person_on_probation"] > 0


def _table(conn, table) -> pd.DataFrame:
    """A table's rows in primary-key order with dates, booleans and floats normalised."""
    rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
    df = pd.DataFrame(rows, columns=[c.name for c in table.c])
    for col in table.c:
        if isinstance(col.type, Date | DateTime):
            df[col.name] = pd.to_datetime(df[col.name])
        elif isinstance(col.type, Boolean):
            df[col.name] = df[col.name].map(lambda v: None if v is None else bool(v))
        elif isinstance(col.type, Float):
            df[col.name] = df[col.name].astype(float)
    return df


@pytest.mark.parametrize("table", [t.name for t in schema.metadata.sorted_tables])
def test_every_table_has_the_same_rows(both, table):
    engines, _counts = both
    frames = {}
    for name, engine in engines.items():
        with engine.connect() as conn:
            frames[name] = _table(conn, schema.metadata.tables[table])
    pdt.assert_frame_equal(frames["sqlite"], frames["postgresql"], check_dtype=False,
                           rtol=1e-12)


@pytest.mark.parametrize("period", ["region_12m", "kent_3m", "whole_history"])
@pytest.mark.parametrize("level", LEVELS)
def test_measure_frame_is_the_same(both, level, period):
    engines, _counts = both
    frames = {}
    for name, engine in engines.items():
        with engine.connect() as conn:
            frame = overview.measure_frame(conn, periods(engine)[period], level)
        keys = [c for c in ("area", "office", "office_code") if c in frame.columns]
        frames[name] = frame.sort_values(keys).reset_index(drop=True) if keys else frame
    units = {"office": 2, "area": 1} if period == "kent_3m" else {"office": 4, "area": 2}
    assert len(frames["sqlite"]) == units.get(level, 1)
    pdt.assert_frame_equal(frames["sqlite"], frames["postgresql"], check_dtype=False,
                           rtol=1e-9)
