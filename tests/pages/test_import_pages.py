"""Page tests: the admin's import page and the data quality page, checked against raw SQL."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from dashboard.app import import_worker
from tests.pages.apphelp import metric, open_app

HEADER = "appointment_ref,crn,appointment_date,outcome,enforcement_action\n"


@pytest.fixture
def demo_copy(demo_sqlite_url, tmp_path) -> str:
    """A private copy of the demo database, so the import tests may write to it."""
    path = tmp_path / "demo.sqlite"
    path.write_bytes(Path(demo_sqlite_url.split("///", 1)[1]).read_bytes())
    return f"sqlite:///{path}"


def count(url: str, sql: str) -> int:
    eng = create_engine(url)
    with eng.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    eng.dispose()
    return value


def crns(url: str, n: int = 2) -> list[str]:
    eng = create_engine(url)
    with eng.connect() as conn:
        found = list(conn.execute(text(
            "SELECT crn FROM person_on_probation ORDER BY id LIMIT :n"), {"n": n}).scalars())
    eng.dispose()
    return found


def upload(at, name: str, content: str, table: str = "appointment", mode: str | None = None):
    at.selectbox(key="import_table").set_value(table)
    at.file_uploader(key="import_file").set_value((name, content.encode(), "text/csv"))
    if mode:
        at.radio(key="import_mode").set_value(mode)
    at.run()
    return at


def finish(at, timeout: float = 60.0):
    """Wait for the background import worker's job, then run the page as its progress
    fragment would (the fragment's timer does not tick under AppTest)."""
    job_id = at.session_state["import_job"] if "import_job" in at.session_state else None
    job = import_worker.get(job_id)
    assert job is not None, "the page did not hand the upload to the worker"
    deadline = time.monotonic() + timeout
    while not job.done:
        assert time.monotonic() < deadline, "the import worker did not finish"
        time.sleep(0.05)
    at.run()
    assert "import_job" not in at.session_state
    return at


def test_bad_upload_lists_every_problem_and_writes_nothing(demo_copy):
    before = count(demo_copy, "SELECT COUNT(*) FROM appointment")
    crn = crns(demo_copy, 1)[0]
    at = open_app(demo_copy, page="pages/admin_import.py", user="admin")
    assert not at.exception
    content = HEADER + (f"U1,{crn},2026-10-01,kept,false\nU2,{crn},2026-10-32,kept,false\n"
                        f"U3,NOBODY,2026-10-02,gone,false\n")
    upload(at, "../../etc/bad file.csv", content).button(key="import_go").click().run()
    finish(at)
    assert not at.exception
    assert any("Nothing was written" in e.value for e in at.error)
    kinds = at.dataframe[0].value
    assert list(kinds.columns) == ["column", "problem", "example", "count", "first_rows"]
    assert kinds["count"].sum() == 3
    problems = at.dataframe[1].value
    assert list(problems.columns) == ["file", "row", "column", "value", "problem"]
    assert set(problems["file"]) == {"bad_file.csv"}  # the upload's name, made safe
    assert sorted(zip(problems["row"], problems["column"], strict=True)) == [
        (3, "appointment_date"), (4, "crn"), (4, "outcome")]
    assert metric(at, "Rejected") == "2"
    assert count(demo_copy, "SELECT COUNT(*) FROM appointment") == before
    assert count(demo_copy, "SELECT COUNT(*) FROM import_run WHERE status = 'rejected' "
                 "AND username = 'admin'") == 1


def test_good_upload_is_loaded_and_shown_in_the_history(demo_copy):
    first, second = crns(demo_copy)
    at = open_app(demo_copy, page="pages/admin_import.py", user="admin")
    content = HEADER + f"N1,{first},2026-10-01,kept,false\nN2,{second},2026-10-02,failed,true\n"
    upload(at, "new.csv", content).button(key="import_go").click().run()
    finish(at)
    assert not at.exception
    assert any("succeeded" in s.value for s in at.success)
    assert (metric(at, "Inserted"), metric(at, "Updated")) == ("2", "0")
    assert count(demo_copy, "SELECT COUNT(*) FROM appointment WHERE source_ref IN "
                 "('N1', 'N2')") == 2
    history = at.dataframe[-1].value
    assert history.iloc[0][["table_name", "file_name", "username", "status", "inserted"]
                           ].tolist() == ["appointment", "new.csv", "admin", "succeeded", 2]
    # the same file again: nothing changes
    finish(at.button(key="import_go").click().run())
    assert (metric(at, "Inserted"), metric(at, "Unchanged")) == ("0", "2")


def test_keep_valid_offers_the_rejected_rows(demo_copy):
    crn = crns(demo_copy, 1)[0]
    at = open_app(demo_copy, page="pages/admin_import.py", user="admin")
    content = HEADER + f"M1,{crn},2026-10-01,kept,false\nM2,{crn},2026-10-01,kept,maybe\n"
    upload(at, "mixed.csv", content, mode="keep_valid").button(key="import_go").click().run()
    finish(at)
    assert not at.exception
    assert any("partial" in w.value for w in at.warning)
    labels = [b.label for b in at.get("download_button")]
    assert "Download the rejected rows (CSV)" in labels
    assert count(demo_copy, "SELECT COUNT(*) FROM appointment WHERE source_ref LIKE 'M%'") == 1


def test_import_page_is_for_admins_only(demo_sqlite_url):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_app(demo_sqlite_url, page="pages/admin_import.py", user="quality.lead")


def test_data_quality_page_counts_match_the_raw_rows(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/data_quality.py", user="quality.lead")
    assert not at.exception
    fresh = at.dataframe[0].value.set_index("table")
    eng = create_engine(demo_sqlite_url)
    with eng.connect() as conn:
        for table in ("appointment", "person_on_probation", "custody_release"):
            assert fresh.loc[table, "rows"] == conn.execute(
                text(f"SELECT COUNT(*) FROM {table}")).scalar()
        people = pd.read_sql(text("SELECT * FROM person_on_probation"), conn,
                             parse_dates=["start_date", "end_date"])
        staff = pd.read_sql(text("SELECT id, end_date FROM staff_member"), conn,
                            parse_dates=["end_date"])
        releases = pd.read_sql(text("SELECT * FROM custody_release"), conn,
                               parse_dates=["release_date"])
    eng.dispose()
    start, end = pd.Timestamp("2025-11-01"), pd.Timestamp("2026-10-31")  # default period
    # missing values: screening dates of releases in the period
    in_period = releases[releases["release_date"].between(start, end)]
    missing = at.dataframe[1].value.set_index("field")
    assert missing.loc["screening_date", "records"] == len(in_period)
    assert missing.loc["screening_date", "missing"] == in_period["screening_date"].isna().sum()
    # cross-table check: open cases at the period's end whose officer had left by then
    open_cases = people[(people["start_date"] <= end) & (people["end_date"] >= end)]
    with_officer = open_cases.merge(staff, left_on="officer_id", right_on="id", how="left")
    leavers = (with_officer["end_date_y"].notna() & (with_officer["end_date_y"] < end)).sum()
    checks = at.dataframe[2].value.set_index("check")
    assert checks.loc["case_with_leaver", "checked"] == len(open_cases)
    assert checks.loc["case_with_leaver", "failing"] == leavers
    assert metric(at, "Records failing a cross-table check") == f"{checks['failing'].sum():,}"


def test_data_quality_page_is_for_admins_and_quality_leads(demo_sqlite_url):
    assert not open_app(demo_sqlite_url, page="pages/data_quality.py", user="admin").exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_app(demo_sqlite_url, page="pages/data_quality.py", user="chief.exec")
