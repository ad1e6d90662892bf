"""A busy database (another connection holding SQLite's write lock, as a long write would)
gives sign-in and pages a plain "busy, try again", never a crash or a traceback; and a
failed import's message holds no SQL and no row values (issue 20, item 6)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dashboard.commands.imports import import_file
from dashboard.data import db
from dashboard.ingest import writing
from tests.pages.apphelp import open_app


@pytest.fixture
def demo_copy(demo_sqlite_url, tmp_path, monkeypatch) -> tuple[str, Path]:
    path = tmp_path / "demo.sqlite"
    path.write_bytes(Path(demo_sqlite_url.split("///", 1)[1]).read_bytes())
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.3)  # the test need not wait 20 s
    return f"sqlite:///{path}", path


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer in the middle of its transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE dataset_info SET value = value WHERE key = 'data_as_of'")
    return other


def test_sign_in_while_the_database_is_busy_says_try_again(demo_copy):
    url, path = demo_copy
    at = open_app(url, user=None)
    other = _hold_write_lock(path)
    try:
        at.text_input[0].set_value("chief.exec")
        at.text_input[1].set_value("demo-chief-2026!")
        at.button[0].click().run()
        assert not at.exception
        assert [w.value for w in at.warning] == [db.BUSY_MESSAGE]
        assert not at.metric  # not signed in
    finally:
        other.rollback() if other.in_transaction else None
        other.close()
    # the writer has finished: the same sign-in now succeeds (the form clears on submit)
    at.text_input[0].set_value("chief.exec")
    at.text_input[1].set_value("demo-chief-2026!")
    at.button[0].click().run()
    # (a success hands the browser to the cookie-binding route, which AppTest cannot follow)
    assert not at.exception
    assert [m.value for m in at.markdown if "/_bind?" in m.value]  # the bind link


def test_a_page_that_writes_while_the_database_is_busy_says_try_again(demo_copy):
    url, path = demo_copy
    at = open_app(url, user="chief.exec")
    assert not at.exception
    other = _hold_write_lock(path)
    try:
        at.switch_page("pages/cases.py").run()  # logs the person-level view: a write
        assert not at.exception
        assert db.BUSY_MESSAGE in [w.value for w in at.warning]
        assert not [e.value for e in at.error if "went wrong" in e.value]
    finally:
        other.rollback() if other.in_transaction else None
        other.close()


def test_an_import_that_meets_a_conflict_says_so_without_sql_or_values(demo_copy, tmp_path,
                                                                         monkeypatch):
    """The same new rows written by another import between checking and writing: the
    database refuses them; the run says what happened in words only."""
    url, _ = demo_copy
    eng = db.make_engine(url)
    with eng.connect() as conn:
        crn = conn.exec_driver_sql("SELECT crn FROM person_on_probation LIMIT 1").scalar()
    path = tmp_path / "same.csv"
    path.write_text("appointment_ref,crn,appointment_date,outcome,enforcement_action\n"
                    f"TWICE1,{crn},2026-10-01,kept,false\n")
    real_apply = writing.apply_plan

    def other_import_first(*args, **kwargs):
        monkeypatch.setattr(writing, "apply_plan", real_apply)
        assert import_file(eng, path, "appointment").status == "succeeded"
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(writing, "apply_plan", other_import_first)
    with pytest.raises(Exception, match="UNIQUE|unique"):
        import_file(eng, path, "appointment")
    with eng.connect() as conn:
        status, message = conn.exec_driver_sql(
            "SELECT status, message FROM import_run WHERE file_name = 'same.csv' ORDER BY id "
            "LIMIT 1").one()  # the outer import: it started first
    assert status == "failed"
    assert "another import or an edit changed the same rows" in message
    for leak in ("INSERT", "appointment (", "TWICE1", crn, "UNIQUE"):
        assert leak not in message
    eng.dispose()
