"""The importer: every deliberately bad file gives its row-level messages and writes
nothing; good files insert, update or leave rows alone by natural key; a crash half-way
leaves the database exactly as it was. Checked against raw SQL, not the importer's code."""

# the fixtures engine and example_db come from tests.import_helpers, so tests name them again
# ruff: noqa: F811

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date

import pytest
from sqlalchemy import inspect, text

from dashboard.__main__ import main as cli
from dashboard.commands.imports import ImportExtract, import_file
from dashboard.core.config import PROJECT_ROOT
from dashboard.data import db
from dashboard.data.schema import NATURAL_REF_COLUMNS
from dashboard.ingest import export_extracts, extract_formats, formats_doc, writing
from tests.import_helpers import (  # noqa: F401 - engine and example_db are fixtures
    APPT_HEADER,
    EXAMPLES,
    engine,
    example_db,
    last_import_audit,
    load_examples,
    runs,
    scalar,
    snapshot,
    workbook,
    write,
)

# --- the example files and the reference page are current ---------------------------------

def test_examples_and_formats_doc_are_generated_from_the_specs():
    for table in extract_formats.FORMATS:
        assert (EXAMPLES / f"{table}.csv").read_text() == export_extracts.example_csv(table)
    doc = (PROJECT_ROOT / "docs" / "IMPORT_FORMATS.md").read_text(encoding="utf-8")
    assert doc == formats_doc.format_reference_markdown(), (
        "regenerate: python -m dashboard import --formats-doc docs/IMPORT_FORMATS.md")


def test_example_files_load_into_an_empty_database(example_db):
    eng = db.make_engine(f"sqlite:///{example_db}")
    counts = {t: scalar(eng, f'SELECT COUNT(*) FROM "{t}"') for t in extract_formats.FORMATS}
    expected = {t: len(extract_formats.FORMATS[t].examples) for t in extract_formats.FORMATS}
    assert counts == expected
    assert scalar(eng, "SELECT value FROM dataset_info WHERE key = 'data_as_of'") == "2026-10-19"
    eng.dispose()


# --- deliberately bad files: row-level messages, nothing written ---------------------------
# Every kind of bad file, with its rows, fields and messages, is one table in
# tests/test_bad_inputs.py (KINDS); here, how the importer shows and stops on them.


def test_huge_cell_is_shown_cut_short(engine, tmp_path):
    content = ("release_ref,crn,prison,reception_date,release_date\n"
               f"R7,X0010000002,{'x' * 1_000_000},2026-01-01,2026-03-01\n")
    report = ImportExtract(engine, write(tmp_path, "huge.csv", content), "custody_release").check()
    shown = [p.value for p in report.problems if p.column == "prison"][0]
    assert shown.startswith("xxxx") and shown.endswith("(1,000,000 characters)")
    assert len(shown) < 100


def test_xlsx_sheet_named_after_the_table_is_read_with_sheet_row_numbers(engine, tmp_path):
    header = APPT_HEADER.strip().split(",")
    rows = [header, ["X1", "X0010000001", date(2026, 10, 1), "kept", False],
            [None] * 5,  # a blank row keeps its number
            ["X2", "X0010000001", "2026-10-40", "kept", True]]
    path = workbook(tmp_path, "book.xlsx", {"Notes": [["ignore me"]], "appointment": rows})
    before = snapshot(engine)
    report = import_file(engine, path, "appointment")
    assert report.status == "rejected"
    assert [(p.row, p.column) for p in report.problems] == [(4, "appointment_date")]
    assert snapshot(engine) == before
    rows[3][2] = date(2026, 10, 9)
    path = workbook(tmp_path, "fixed.xlsx", {"Notes": [["ignore me"]], "appointment": rows})
    report = import_file(engine, path, "appointment")
    assert (report.status, report.inserted) == ("succeeded", 2)
    assert scalar(engine, "SELECT enforcement_action FROM appointment WHERE source_ref = "
                  "'X2'") in (1, True)


def test_bom_and_windows_line_endings_import_cleanly(engine, tmp_path):
    content = (b"\xef\xbb\xbf" + APPT_HEADER.replace("\n", "\r\n").encode()
               + b"W1,X0010000001,05/10/2026,Kept,YES\r\n")
    report = import_file(engine, write(tmp_path, "w.csv", content), "appointment")
    assert (report.status, report.inserted) == ("succeeded", 1)
    row = dict(next(iter(engine.connect().execute(text(
        "SELECT appointment_date, outcome, enforcement_action FROM appointment "
        "WHERE source_ref = 'W1'")).mappings())))
    assert row == {"appointment_date": "2026-10-05", "outcome": "kept",
                   "enforcement_action": 1}


# --- idempotent re-import, updates by natural key ------------------------------------------

def test_loading_the_same_extract_twice_changes_nothing(engine):
    before = snapshot(engine, skip=("import_run", "audit_log"))
    reports = load_examples(engine)
    assert all(r.status == "succeeded" and r.inserted == r.updated == 0 for r in reports)
    assert [r.unchanged for r in reports] == [
        len(extract_formats.FORMATS[t].examples) for t in extract_formats.LOAD_ORDER]
    assert snapshot(engine, skip=("import_run", "audit_log")) == before  # data_version too


def test_newer_extract_updates_by_natural_key(engine, tmp_path):
    version = scalar(engine, "SELECT value FROM dataset_info WHERE key = 'data_version'")
    path = write(tmp_path, "newer.csv", APPT_HEADER
                 + "APT-0000001,X0010000001,2026-10-05,kept,false\n"  # as stored
                 + "APT-0000002,X0010000001,2026-10-19,acceptable_absence,false\n"  # changed
                 + "APT-0000003,X0010000002,2026-10-20,kept,false\n")  # new
    report = import_file(engine, path, "appointment", username="tester")
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 0)
    rows = engine.connect().execute(text(
        "SELECT source_ref, outcome, enforcement_action FROM appointment ORDER BY source_ref"
    )).all()
    assert [tuple(r) for r in rows] == [("APT-0000001", "kept", 0),
                                        ("APT-0000002", "acceptable_absence", 0),
                                        ("APT-0000003", "kept", 0)]
    assert scalar(engine, "SELECT value FROM dataset_info WHERE key = 'data_version'") != version
    assert scalar(engine, "SELECT value FROM dataset_info WHERE key = 'data_as_of'") == \
        "2026-10-20"


def test_a_column_left_out_is_not_changed(engine, tmp_path):
    path = write(tmp_path, "rel.csv", "release_ref,crn,prison,reception_date,release_date\n"
                 "REL-000001,X0010000002,HMP Lewes,2025-11-03,2026-03-02\n")
    report = import_file(engine, path, "custody_release")
    assert (report.updated, report.inserted) == (1, 0)
    row = engine.connect().execute(text(
        "SELECT prison, screening_date, accommodation_on_release FROM custody_release")).one()
    assert tuple(row) == ("HMP Lewes", "2025-11-06", "settled")


def test_dates_after_today_do_not_move_data_as_of_past_today(engine, tmp_path):
    path = write(tmp_path, "future.csv", APPT_HEADER + "F1,X0010000001,2027-01-04,kept,false\n")
    import_file(engine, path, "appointment")
    assert scalar(engine, "SELECT value FROM dataset_info WHERE key = 'data_as_of'") == \
        max(date.today(), date(2026, 10, 19)).isoformat()
    assert scalar(engine, "SELECT MAX(day) FROM calendar_day") >= "2027-12-31"


# --- keep the valid rows, download the rejected ones ---------------------------------------

def test_keep_valid_loads_good_rows_and_writes_the_rejects(engine, tmp_path):
    path = write(tmp_path, "mixed.csv", APPT_HEADER
                 + "K1,X0010000001,2026-10-01,kept,false\n"
                 + "K2,X0010000001,2026-10-02,lost,false\n"
                 + "K3,X0010000002,2026-10-03,failed,true\n"
                 + "K4,NOBODY,2026-10-04,kept,false\n"
                 + "K5,X0010000002,2026-10-05,kept,false\n")
    rejects = tmp_path / "rejects.csv"
    report = import_file(engine, path, "appointment", keep_valid=True,
                         rejects_path=rejects)
    assert (report.status, report.inserted, report.rejected) == ("partial", 3, 2)
    refs = engine.connect().execute(text(
        "SELECT source_ref FROM appointment WHERE source_ref LIKE 'K%' ORDER BY 1")).scalars()
    assert list(refs) == ["K1", "K3", "K5"]
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["appointment_ref"], r["rejected_row"]) for r in rows] == [("K2", "3"),
                                                                         ("K4", "5")]
    assert "outcome: is not one of" in rows[0]["rejected_because"]
    assert "no person on probation with crn 'NOBODY'" in rows[1]["rejected_because"]
    # corrected in place, the rejects file imports (its two extra columns are ignored)
    rows[0]["outcome"], rows[1]["crn"] = "kept", "X0010000001"
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    again = import_file(engine, fixed, "appointment")
    assert (again.status, again.inserted) == ("succeeded", 2)


# --- a crash half-way ----------------------------------------------------------------------

def _crash_on_second_chunk(monkeypatch):
    real = writing.write_chunk
    calls = {"n": 0}

    def write_then_crash(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash half-way")
        return real(*args, **kwargs)

    monkeypatch.setattr(writing, "write_chunk", write_then_crash)
    return calls


def _crash_test(eng, tmp_path, monkeypatch):
    path = write(tmp_path, "crash.csv", APPT_HEADER + "".join(
        f"C{i},X0010000001,2026-10-{i:02d},kept,false\n" for i in range(1, 7))
        + "APT-0000001,X0010000001,2026-10-05,failed,true\n")  # an update as well
    before = snapshot(eng)
    calls = _crash_on_second_chunk(monkeypatch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        import_file(eng, path, "appointment", username="tester", chunk_rows=3)
    assert calls["n"] == 2  # the first chunk was written, inside the transaction
    assert snapshot(eng) == before
    last = runs(eng)[-1]
    # the kind of failure in plain words; the exception's own text (which may hold SQL or
    # a row's values) stays in the server log
    assert last["status"] == "failed" and "RuntimeError" in last["message"]
    assert "simulated crash" not in last["message"]
    assert (last["inserted"], last["updated"]) == (0, 0)
    assert last_import_audit(eng) == ("tester", "crash.csv", "failed", last["id"])


def test_crash_half_way_leaves_the_database_as_it_was(engine, tmp_path, monkeypatch):
    _crash_test(engine, tmp_path, monkeypatch)


@pytest.mark.postgres
def test_crash_half_way_on_postgresql(new_pg_url, tmp_path, monkeypatch):
    eng = db.make_engine(new_pg_url())
    db.upgrade(eng)
    assert all(r.status == "succeeded" for r in load_examples(eng))
    _crash_test(eng, tmp_path, monkeypatch)
    eng.dispose()


# --- history, validation only, progress and chunks --------------------------------------------

def test_history_records_user_time_file_hash_and_counts(engine, tmp_path):
    content = APPT_HEADER + "H1,X0010000001,2026-10-01,kept,false\n"
    path = write(tmp_path, "history.csv", content)
    report = import_file(engine, path, "appointment", username="admin")
    run = runs(engine)[-1]
    assert run["id"] == report.run_id
    assert (run["table_name"], run["file_name"], run["username"], run["status"]) == (
        "appointment", "history.csv", "admin", "succeeded")
    assert run["file_sha256"] == hashlib.sha256(content.encode()).hexdigest()
    assert (run["rows_read"], run["inserted"], run["updated"], run["unchanged"],
            run["rejected"]) == (1, 1, 0, 0, 0)
    assert run["started_at"] <= run["finished_at"]
    logged = engine.connect().execute(text(
        "SELECT username, target FROM audit_log WHERE action = 'import_run' "
        "ORDER BY id DESC")).first()
    assert tuple(logged) == ("admin", "history.csv")


def test_validate_only_writes_nothing_at_all(engine, tmp_path):
    path = write(tmp_path, "v.csv", APPT_HEADER + "V1,X0010000001,2026-10-01,kept,false\n")
    before = snapshot(engine, skip=())
    report = ImportExtract(engine, path, "appointment").check()
    assert report.status == "valid" and report.rows_read == 1
    assert snapshot(engine, skip=()) == before


def test_a_file_is_read_in_chunks_with_progress(engine, tmp_path):
    out = io.StringIO()
    out.write(APPT_HEADER)
    for i in range(500):
        out.write(f"P{i:04d},X001000000{1 + i % 2},2026-09-{1 + i % 30:02d},kept,false\n")
    path = write(tmp_path, "p.csv", out.getvalue())
    seen: list[float] = []
    report = import_file(engine, path, "appointment", chunk_rows=37,
                         progress=lambda f, _m: seen.append(f))
    assert (report.inserted, report.rows_read) == (500, 500)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 20
    assert scalar(engine, "SELECT COUNT(*) FROM appointment WHERE source_ref LIKE 'P%'") == 500


def test_duplicates_are_found_across_chunks(engine, tmp_path):
    lines = [f"Q{i},X0010000001,2026-09-01,kept,false\n" for i in range(40)]
    lines.append("Q3,X0010000001,2026-09-02,kept,false\n")
    path = write(tmp_path, "q.csv", APPT_HEADER + "".join(lines))
    report = import_file(engine, path, "appointment", chunk_rows=7)
    assert [(p.row, p.column) for p in report.problems] == [(5, "appointment_ref"),
                                                            (42, "appointment_ref")]


# --- the command line ------------------------------------------------------------------------

def test_command_line_import_check_keep_valid_and_formats_doc(engine, tmp_path, capsys):
    url = str(engine.url)
    good = write(tmp_path, "good.csv", APPT_HEADER + "L1,X0010000001,2026-10-01,kept,false\n")
    bad = write(tmp_path, "bad.csv", APPT_HEADER + "L2,X0010000001,2026-10-01,kept,false\n"
                "L3,X0010000001,2026-10-01,later,false\n")
    assert cli(["--database-url", url, "import", bad, "--table", "appointment", "--check"]) == 1
    assert cli(["--database-url", url, "import", bad, "--table", "appointment",
                "--user", "ops"]) == 1
    err = capsys.readouterr().err
    assert "later" in err and "is not one of" in err
    assert scalar(engine, "SELECT COUNT(*) FROM appointment WHERE source_ref LIKE 'L%'") == 0
    assert cli(["--database-url", url, "import", good, "--table", "appointment"]) == 0
    rejects = tmp_path / "out.csv"
    assert cli(["--database-url", url, "import", bad, "--table", "appointment",
                "--keep-valid", "--rejects", str(rejects)]) == 0
    assert "1 inserted" in capsys.readouterr().out
    assert rejects.read_text(encoding="utf-8-sig").count("\n") == 2
    assert runs(engine)[-3]["username"] == "ops"
    assert runs(engine)[-1]["username"].startswith("cli")
    doc = tmp_path / "formats.md"
    assert cli(["import", "--formats-doc", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8") == formats_doc.format_reference_markdown()


def test_command_line_exports_every_table(engine, tmp_path):
    assert cli(["--database-url", str(engine.url), "export-extracts", str(tmp_path)]) == 0
    for table in extract_formats.LOAD_ORDER:
        lines = (tmp_path / f"{table}.csv").read_text().splitlines()
        assert lines[0] == ",".join(extract_formats.FORMATS[table].names)
        assert len(lines) == 1 + len(extract_formats.FORMATS[table].examples)
    # the full extract holds every person: logged once, with the rows it wrote per table
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT username, target, detail FROM audit_log "
                                   "WHERE action = 'export'")).all()
    assert len(logged) == 1 and logged[0].username.startswith("cli")
    detail = json.loads(logged[0].detail)
    expected = {t: scalar(engine, f'SELECT COUNT(*) FROM "{t}"')
                for t in extract_formats.LOAD_ORDER}
    assert detail["tables"] == expected and detail["rows"] == sum(expected.values())


# --- migration 0002 ------------------------------------------------------------------------

def _migration_round_trip(url: str) -> None:
    eng = db.make_engine(url)
    db.upgrade(eng, "0002")
    insp = inspect(eng)
    assert "import_run" in insp.get_table_names()
    for table, column in NATURAL_REF_COLUMNS.items():
        assert column in [c["name"] for c in insp.get_columns(table)]
        assert any(ix["unique"] and ix["column_names"] == [column]
                   for ix in insp.get_indexes(table)), (table, column)
    db.downgrade(eng, "0001")
    insp = inspect(eng)
    assert "import_run" not in insp.get_table_names()
    assert "source_ref" not in [c["name"] for c in insp.get_columns("appointment")]
    db.upgrade(eng, "0002")
    assert "import_run" in inspect(eng).get_table_names()
    eng.dispose()


def test_migration_0002_upgrades_and_downgrades_on_sqlite(tmp_path):
    _migration_round_trip(f"sqlite:///{tmp_path / 'm.sqlite'}")


@pytest.mark.postgres
def test_migration_0002_upgrades_and_downgrades_on_postgresql(new_pg_url):
    _migration_round_trip(new_pg_url())
