"""Round trip: export the demo database's tables in the documented formats, import them
into an empty database, and every figure the dashboard shows is the same. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.commands.imports import import_file
from dashboard.core.filters import parse_filters
from dashboard.data import db
from dashboard.data.schema import dataset_info
from dashboard.ingest import export_extracts, extract_formats
from queries import data_quality, gate, overview, payback, quality, reference, staffing, supervision

# URL parameters of the views compared: the default (last 12 months, region), an area, an
# office over one month, and the whole history.
VIEWS = [{}, {"area": "KENT"}, {"office": "GUI", "from": "2026-03", "to": "2026-03"},
         {"from": "2024-11", "to": "2026-10"}]


def facts(engine) -> dict[str, str]:
    return db.read_dataset_info(engine)


def figures(engine) -> dict[str, pd.DataFrame]:
    """What the pages show for each view: every measure at every level, monthly trends."""
    info = facts(engine)
    as_of, start = (date.fromisoformat(info[k]) for k in ("data_as_of", "history_start"))
    out = {}
    with engine.connect() as conn:
        offices = reference.offices(conn)
        for n, params in enumerate(VIEWS):
            parsed = parse_filters(params, offices, as_of, start)
            assert not parsed.problems
            f = parsed.filters
            for level in ("office", "area", "region"):
                out[f"{n}:overview:{level}"] = overview.measure_frame(conn, f, level)
            out[f"{n}:appointments"] = supervision.appointments(conn, f, "office", by_month=True)
            out[f"{n}:hours"] = payback.hours_worked(conn, f, "area", by_month=True)
            out[f"{n}:gate"] = gate.coverage(conn, f, "office", by_month=True)
            out[f"{n}:questions"] = quality.key_question_counts(conn, f, "office")
            out[f"{n}:absence"] = staffing.absence(conn, f, "office")
            out[f"{n}:gaps"] = staffing.gaps_by_month(conn, f, "office", by_grade=True)
            out[f"{n}:missing"] = data_quality.missing_values(conn, f)
        out["targets"] = reference.targets(conn)
    return out


@pytest.fixture(scope="module")
def round_trip(generated_engine, tmp_path_factory, request):
    """(source engine, imported engine, import reports, export directory)."""
    source = generated_engine
    folder = tmp_path_factory.mktemp("extracts")
    exported = export_extracts.export_all(source, folder)
    if source.dialect.name == "postgresql":
        url = request.getfixturevalue("new_pg_url")()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('empty') / 'imported.sqlite'}"
    target = db.make_engine(url)
    db.upgrade(target)
    reports = {t: import_file(target, path, t, username="roundtrip")
               for t, (path, _rows) in exported.items()}
    yield source, target, reports, exported
    target.dispose()


def test_every_extract_imports_into_an_empty_database(round_trip):
    _source, _target, reports, exported = round_trip
    for table, report in reports.items():
        assert report.status == "succeeded", (table, report.problems[:5])
        if table == "case_allocation":
            # the people extract already gave each person an allocation from their start
            # date: the allocation extract updates those (or leaves them) and adds the rest
            people = reports["person_on_probation"].inserted
            assert report.inserted == report.rows_read - people, table
            assert report.updated + report.unchanged == people, table
            continue
        assert report.inserted == report.rows_read == exported[table][1], table
    assert exported["appointment"][1] > 10_000  # a real test, not an empty one


def test_the_dashboard_figures_are_identical(round_trip):
    source, target, _reports, _exported = round_trip
    for key in ("data_as_of", "history_start"):
        assert facts(target)[key] == facts(source)[key]
    want, got = figures(source), figures(target)
    assert want.keys() == got.keys()
    for key in want:
        assert not want[key].empty or key.endswith(("missing", "absence")), key
        pd.testing.assert_frame_equal(got[key], want[key], check_dtype=False, obj=key)


def test_exporting_the_imported_database_gives_the_same_files(round_trip, tmp_path):
    _source, target, _reports, exported = round_trip
    again = export_extracts.export_all(target, tmp_path)
    for table, (path, rows) in exported.items():
        assert again[table][1] == rows
        assert again[table][0].read_bytes() == path.read_bytes(), table


def test_importing_the_same_extracts_again_changes_nothing(round_trip):
    _source, target, _reports, exported = round_trip
    with target.connect() as conn:
        version = conn.execute(select(dataset_info.c.value).where(
            dataset_info.c.key == "data_version")).scalar()
    for table in extract_formats.LOAD_ORDER:
        report = import_file(target, exported[table][0], table)
        assert (report.status, report.inserted, report.updated) == ("succeeded", 0, 0), table
        assert report.unchanged == exported[table][1]
    with target.connect() as conn:
        assert conn.execute(select(dataset_info.c.value).where(
            dataset_info.c.key == "data_version")).scalar() == version
        assert conn.execute(select(func.count()).select_from(
            data_quality.import_run)).scalar() == 2 * len(extract_formats.LOAD_ORDER)


def test_an_update_keeps_the_monthly_summaries_true(demo_sqlite_url, tmp_path):
    """Rows moved to other months and changed outcomes: the summary tables the pages read
    agree with the raw rows after the import (old and new months both recomputed)."""
    copy = tmp_path / "demo.sqlite"
    copy.write_bytes(Path(demo_sqlite_url.split("///", 1)[1]).read_bytes())
    engine = db.make_engine(f"sqlite:///{copy}")
    exported = export_extracts.export_all(engine, tmp_path / "out",
                                          ["appointment", "custody_release", "upw_session"])
    changes = {
        "appointment": lambda df: df.assign(
            appointment_date=(pd.to_datetime(df["appointment_date"]) - pd.Timedelta(days=45))
            .dt.strftime("%Y-%m-%d"), outcome="failed"),
        "custody_release": lambda df: df.assign(accommodation_on_release="no_fixed_abode",
                                                first_appointment_kept="false"),
        "upw_session": lambda df: df.assign(attended="false", hours_worked="0"),
    }
    for table, change in changes.items():
        frame = pd.read_csv(exported[table][0], dtype=str, keep_default_na=False)
        picked = frame.iloc[::7].copy()  # every seventh row
        path = tmp_path / f"{table}_changed.csv"
        change(picked).to_csv(path, index=False)
        report = import_file(engine, path, table)
        assert report.status == "succeeded" and report.updated > 0, report.problems[:3]
    info = facts(engine)
    as_of, start = (date.fromisoformat(info[k]) for k in ("data_as_of", "history_start"))
    with engine.connect() as conn:
        offices = reference.offices(conn)
        for params in VIEWS:
            f = parse_filters(params, offices, as_of, start).filters
            for served, raw in [(supervision.appointments, supervision.appointments_from_rows),
                                (gate.coverage, gate.coverage_from_rows),
                                (payback.hours_worked, payback.hours_worked_from_rows)]:
                pd.testing.assert_frame_equal(served(conn, f, "office", by_month=True),
                                              raw(conn, f, "office", by_month=True),
                                              check_dtype=False)
    engine.dispose()
