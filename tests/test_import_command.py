"""The import command called directly: validate() raises typed errors before anything is
written; run() writes a good file in one transaction with its one audit row, and a rejected
or refused file writes nothing but its import_run row and its one audit row."""

# the fixtures engine and example_db come from tests.import_helpers, so tests name them again
# ruff: noqa: F811

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dashboard.commands.imports import (
    FileMissing,
    FileRefused,
    ImportExtract,
    ImportRefused,
    UnknownTable,
    public_message,
)
from dashboard.ingest.limits import LIMITS
from tests.import_helpers import (  # noqa: F401 - engine and example_db are fixtures
    APPT_HEADER,
    audit_rows,
    engine,
    example_db,
    runs,
    scalar,
    snapshot,
    workbook,
    write,
)

GOOD = APPT_HEADER + "C1,X0010000001,2026-10-01,kept,false\n"


def _refused(engine, tmp_path, path, table="appointment", **options) -> ImportRefused:
    """The error validate() raises; nothing at all (not even history) is written."""
    before = snapshot(engine, skip=())
    command = ImportExtract(engine, path, table, username="tester", **options)
    with pytest.raises(ImportRefused) as raised:
        command.validate()
    assert snapshot(engine, skip=()) == before
    return raised.value


def test_validate_refuses_an_unknown_table(engine, tmp_path):
    error = _refused(engine, tmp_path, write(tmp_path, "a.csv", GOOD), table="appointments")
    assert isinstance(error, UnknownTable)
    assert "No extract format called 'appointments'; choose one of: area, office" in str(error)


def test_validate_refuses_a_missing_file(engine, tmp_path):
    error = _refused(engine, tmp_path, tmp_path / "nowhere.csv")
    assert isinstance(error, FileMissing)
    assert str(error) == f"no file {tmp_path / 'nowhere.csv'}"


@pytest.mark.parametrize(("content", "options", "words"), [
    ("", {}, "The file is empty (0 bytes)."),
    (GOOD * 20, {"limits": replace(LIMITS, max_file_bytes=1000)}, "at most 1 KB are allowed"),
    ("\n\n", {}, "The file has no header row and no data."),
    (APPT_HEADER.strip() + ",outcom\n", {}, "outcom: is not a column of the appointment "
     "format (did you mean outcome?)"),
])
def test_validate_refuses_a_file_beyond_the_bounds_or_its_header(engine, tmp_path, content,
                                                                  options, words):
    error = _refused(engine, tmp_path, write(tmp_path, "a.csv", content), **options)
    assert isinstance(error, FileRefused)
    assert words in str(error)
    assert error.problems and all(p.message for p in error.problems)


def test_validate_refuses_a_workbook_without_the_sheet(engine, tmp_path):
    rows = [APPT_HEADER.strip().split(","), ["X1", "X0010000001", "2026-10-01", "kept", "no"]]
    path = workbook(tmp_path, "book.xlsx", {"appointment": rows})
    error = _refused(engine, tmp_path, path, sheet="Sheet9")
    assert isinstance(error, FileRefused)
    assert str(error) == "The workbook has no sheet called 'Sheet9' (it has appointment)."
    ImportExtract(engine, path, "appointment").validate()  # the sheet named after the table


def test_run_raises_before_anything_is_written(engine, tmp_path):
    before = snapshot(engine, skip=())
    with pytest.raises(UnknownTable):
        ImportExtract(engine, write(tmp_path, "a.csv", GOOD), "nope").run()
    with pytest.raises(FileMissing):
        ImportExtract(engine, tmp_path / "missing.csv", "appointment").run()
    assert snapshot(engine, skip=()) == before


def test_a_good_file_is_written_with_its_one_audit_row(engine, tmp_path):
    command = ImportExtract(engine, write(tmp_path, "good.csv", GOOD), "appointment",
                            username="admin")
    command.validate()
    log_before, runs_before = len(audit_rows(engine)), len(runs(engine))
    report = command.run()
    assert (report.status, report.inserted, report.updated) == ("succeeded", 1, 0)
    assert scalar(engine, "SELECT outcome FROM appointment WHERE source_ref = 'C1'") == "kept"
    assert len(runs(engine)) == runs_before + 1 and runs(engine)[-1]["id"] == report.run_id
    logged = audit_rows(engine)[log_before:]
    assert [(r["action"], r["target"]) for r in logged] == [("import_run", "good.csv")]
    detail = json.loads(logged[0]["detail"])
    assert (detail["status"], detail["run_id"], detail["inserted"]) == (
        "succeeded", report.run_id, 1)


@pytest.mark.parametrize(("name", "content", "status"), [
    ("bad.csv", GOOD + "C2,X0010000001,2026-10-02,lost,false\n", "rejected"),
    ("empty.csv", "", "rejected"),  # refused by validate(): still a run and an audit row
])
def test_a_rejected_file_writes_nothing_but_its_run_and_one_audit_row(engine, tmp_path, name,
                                                                      content, status):
    before = snapshot(engine)
    log_before, runs_before = len(audit_rows(engine)), len(runs(engine))
    report = ImportExtract(engine, write(tmp_path, name, content), "appointment",
                           username="tester").run()
    assert report.status == status and report.problem_count
    assert report.inserted == report.updated == report.unchanged == 0
    assert snapshot(engine) == before  # every row of every table but the history
    assert len(runs(engine)) == runs_before + 1
    assert runs(engine)[-1]["status"] == status
    logged = audit_rows(engine)[log_before:]
    assert [(r["action"], r["target"]) for r in logged] == [("import_run", name)]
    assert json.loads(logged[0]["detail"])["status"] == status


def test_check_writes_nothing_at_all(engine, tmp_path):
    before = snapshot(engine, skip=())
    bad = ImportExtract(engine, write(tmp_path, "bad.csv", GOOD + "C2,X0,2026-10-02,kept,no\n"),
                        "appointment").check()
    good = ImportExtract(engine, write(tmp_path, "good.csv", GOOD), "appointment").check()
    assert (bad.status, good.status) == ("invalid", "valid")
    assert snapshot(engine, skip=()) == before


def test_a_refusal_is_its_own_plain_message():
    assert public_message(FileMissing("x.csv")) == "no file x.csv"
    assert "choose one of" in public_message(UnknownTable("nope"))
