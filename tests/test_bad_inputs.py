"""The bad-input suite: hostile and careless files against the importer.

Each kind of file must be refused with a message naming the file, the row and the field,
write nothing (every row of every table is compared before and after; import_run gains
exactly the one "rejected" row that records the attempt) and be refused quickly (bombs in
a few seconds). The table of kinds, messages, rows written and seconds is written to
test-artefacts/bad_inputs.md for the closing note.

Then: a SIGKILL half-way through a large valid import's write leaves every table as it
was, on SQLite and PostgreSQL, and the run is marked failed at the next start."""

# the fixture engine comes from tests.import_helpers, so tests name it again
# ruff: noqa: F811

from __future__ import annotations

import io
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.commands.imports import ImportExtract, import_file
from dashboard.core.config import PROJECT_ROOT
from dashboard.data import db
from dashboard.ingest.checking import PROBLEMS_PER_KIND
from dashboard.ingest.import_runs import fail_abandoned_runs, running_message
from dashboard.ingest.limits import LIMITS
from tests.import_helpers import (  # noqa: F401 - engine and example_db are fixtures
    APPT_HEADER,
    assert_problems,
    audit_rows,
    engine,
    example_db,
    last_import_audit,
    load_examples,
    runs,
    snapshot,
    workbook_bytes,
    write,
)

APPT = APPT_HEADER
REL = "release_ref,crn,prison,reception_date,release_date\n"
ANS = "audit_ref,key_question,standard,answer,reason\n"
RESULTS: list[tuple[str, str, int, float]] = []
ARTEFACTS = PROJECT_ROOT / "test-artefacts"


def xlsx(rows: list[list], sheets: tuple[str, ...] = ("appointment",),
         patch=None) -> bytes:
    """A workbook of rows (on each sheet); patch(xml bytes) -> bytes rewrites sheet 1."""
    raw = workbook_bytes({title: rows for title in sheets})
    if patch is None:
        return raw
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = patch(data)
            dst.writestr(item.filename, data)
    return out.getvalue()


GOOD_ROWS = [APPT.strip().split(","), ["X1", "X0010000001", "2026-10-01", "kept", "false"]]


def dimension_bomb(xml: bytes) -> bytes:
    """The sheet claims the whole grid: openpyxl's own iterator would make 17 billion
    cells from it."""
    assert b"<dimension " in xml
    xml = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v>'
                       b"</c></row></sheetData>")


def far_cell(xml: bytes) -> bytes:
    """No dimension, but a cell at the sheet's last column: openpyxl would pad every row."""
    xml = re.sub(rb'<dimension ref="[^"]*" ?/>', b"", xml)
    return xml.replace(b"</sheetData>", b'<row r="3"><c r="XFD3" t="n"><v>1</v></c></row>'
                       b"</sheetData>")


def compression_bomb(tmp_path: Path, unpacked_mb: int) -> Path:
    """An XLSX whose sheet unpacks to unpacked_mb MB of blanks (about 1,000 to 1)."""
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(io.BytesIO(xlsx(GOOD_ROWS))) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item.filename, src.read(item.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                     b'2006/main"><sheetData>')
            block = b" " * (1024 * 1024)
            for _ in range(unpacked_mb):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


def lying_sizes() -> bytes:
    """A workbook whose sheet declares 200 bytes unpacked but holds far more: zipfile
    stops at the declared size, so the lie ends in a CRC error, not in a bomb."""
    rows = GOOD_ROWS + [[f"L{i}", "X0010000001", "2026-10-01", "kept", "false"]
                        for i in range(2000)]
    data = bytearray(xlsx(rows))
    name = b"xl/worksheets/sheet1.xml"
    local = 0
    while True:  # the local header and the central directory entry of the sheet
        local = data.find(b"PK\x03\x04", local)
        if data[local + 30:local + 30 + len(name)] == name:
            break
        local += 4
    struct.pack_into("<I", data, local + 22, 200)
    central = data.find(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 200)
    return bytes(data)


def broken_xml(xml: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b"<row r='3'><c r='A3'><v>1</v></sheetData>")


def many_cells() -> str:
    return APPT + "W1,X0010000001,2026-10-01,kept,false" + ",x" * 70 + "\n"


# kind -> (table, file name, content (str, bytes, or a function of tmp_path giving a path),
#          [(row, column, words)], limits or None)
KINDS: dict[str, tuple] = {
    "wrong_types": ("appointment", "a.csv", APPT + "T1,X0010000001,01-10-2026,kept,false\n"
                    "T2,X0010000001,2026-10-02,kpt,maybe\nT3,X0010000001,2026-13-01,kept,false\n"
                    "T4,X0010000001,yesterday,kept,false\nT5,X0010000001,2026-10-02,kept,true\n",
                    [(2, "appointment_date", "is not a date"),
                     (3, "outcome", "is not one of: kept, acceptable_absence, failed"),
                     (3, "enforcement_action", "is not true or false"),
                     (4, "appointment_date", "is not a date"),
                     (5, "appointment_date", "is not a date")], None),
    "wrong_numbers": ("upw_order", "o.csv", "order_ref,crn,sentence_date,hours_ordered\n"
                      "O1,X0010000001,2026-02-01,12.5\nO2,X0010000001,2026-02-01,ten\n"
                      "O3,X0010000001,2026-02-01,400\nO4,X0010000001,2026-02-01,100\n",
                      [(2, "hours_ordered", "is not a whole number"),
                       (3, "hours_ordered", "is not a whole number"),
                       (4, "hours_ordered", "must be at most 300")], None),
    "impossible_date": ("appointment", "a.csv", APPT + "T1,X0010000001,2026-02-30,kept,false\n",
                        [(2, "appointment_date", "is not a date")], None),
    "year_out_of_range": ("appointment", "a.csv", APPT + "T1,X0010000001,1890-02-03,kept,no\n",
                          [(2, "appointment_date", "outside the years 1950 to 2099")], None),
    "reversed_dates": ("custody_release", "r.csv",
                       "release_ref,crn,prison,reception_date,screening_date,release_date\n"
                       "R1,X0010000002,HMP Elmley,2026-03-01,2026-03-02,2026-02-01\n"
                       "R2,X0010000002,HMP Elmley,2026-03-01,2026-02-27,2026-04-01\n",
                       [(2, "release_date", "release_date is before reception_date"),
                        (3, "screening_date", "screening_date is before reception_date")],
                       None),
    "unknown_office": ("staff_member", "s.csv", "staff_ref,office_code,grade,fte,start_date\n"
                       "S9,ZZZ,PO,1,2026-01-05\nS10,ash,PO,1,2026-01-05\n",
                       [(2, "office_code", "no office with code 'ZZZ' is stored")], None),
    "unknown_area": ("office", "o.csv", "code,name,area_code\nNEW,Newtown,MARS\n",
                     [(2, "area_code", "no area with code 'MARS' is stored")], None),
    "unknown_crn": ("appointment", "a.csv", APPT + "T1,X999,2026-10-01,kept,false\n",
                    [(2, "crn", "no person on probation with crn 'X999'")], None),
    "unknown_officer": ("person_on_probation", "p.csv",
                        "crn,office_code,officer_staff_ref,sentence_type,start_date,end_date,"
                        "tier,rosh_level,gender\nX1,ASH,S404,licence,2026-01-01,2026-12-01,A,"
                        "high,male\n",
                        [(2, "officer_staff_ref", "no staff member with staff_ref 'S404'")],
                        None),
    "enum_not_allowed": ("person_on_probation", "p.csv",
                         "crn,office_code,sentence_type,start_date,end_date,tier,rosh_level,"
                         "gender\nX1,ASH,licence,2026-01-01,2026-12-01,Z,extreme,male\n",
                         [(2, "tier", "is not one of"), (2, "rosh_level", "is not one of")],
                         None),
    "duplicates_in_file": ("appointment", "a.csv", APPT + "D1,X0010000001,2026-10-01,kept,no\n"
                           "D2,X0010000001,2026-10-02,kept,no\n"
                           "D1,X0010000001,2026-10-03,failed,true\n",
                           [(2, "appointment_ref", "duplicate key in the file: also on row(s) "
                             "4"), (4, "appointment_ref", "also on row(s) 2")], None),
    "duplicate_of_stored_name": ("office", "o.csv", "code,name,area_code\nAAA,Dover,KENT\n"
                                 "BBB,Dover,KENT\nCCC,Guildford,SURREY\n",
                                 [(2, "name", "duplicate value in the file: also on row(s) 3"),
                                  (4, "name", "is already the name of office GUI")], None),
    "missing_columns": ("appointment", "a.csv",
                        "appointment_ref,crn,appointment_date\nT1,X0010000001,2026-10-01\n",
                        [(1, "outcome", "required column is missing"),
                         (1, "enforcement_action", "required column is missing")], None),
    "unknown_column": ("appointment", "a.csv", APPT.strip() + ",secret\nT1,X0010000001,"
                       "2026-10-01,kept,false,x\n", [(1, "secret", "is not a column")], None),
    "misspelt_column": ("appointment", "a.csv", "appointment_ref,crn,appointment_date,outcom,"
                        "enforcement_action\nT1,X0010000001,2026-10-01,kept,false\n",
                        [(1, "outcom", "is not a column of the appointment format (did you "
                          "mean outcome?)")], None),
    "session_before_sentence": ("upw_session", "sessions.csv",
                                "session_ref,order_ref,session_date,attended,hours_worked\n"
                                "X1,UPW-000001,2026-01-05,true,7\n",
                                [(2, "session_date",
                                  "session_date is before the order's sentence_date")], None),
    "bom_and_crlf": ("appointment", "windows.csv",
                     b"\xef\xbb\xbf" + APPT.replace("\n", "\r\n").encode()
                     + b"W1,X0010000001,2026-10-01,kept,false\r\n"
                     + b"W2,X0010000001,2026-10-02,kpt,false\r\n",
                     [(3, "outcome", "is not one of")], None),
    "month_not_first_day": ("establishment", "est.csv",
                            "office_code,grade,month,budgeted_fte\nASH,PO,2026-11-15,3\n"
                            "ASH,XX,2026-11,3\n",
                            [(2, "month", "is not the first day of a month"),
                             (3, "grade", "is not one of: PO, PSO, SPO, TRAINEE")], None),
    "target_bands": ("target", "targets.csv",
                     "measure,office_code,green_from,amber_from,higher_is_better\n"
                     "appointments_kept,ASH,70,80,true\nnot_a_measure,,1,2,false\n",
                     [(2, "green_from+amber_from+higher_is_better",
                       "green_from must be on the better side of amber_from"),
                      (3, "measure", "is not one of")], None),
    "empty_file": ("appointment", "a.csv", b"", [(None, "", "The file is empty")], None),
    "header_only": ("appointment", "a.csv", APPT, [(None, "", "header but no data rows")],
                    None),
    "latin1_bytes": ("custody_release", "r.csv", (REL + "R5,X0010000002,HMP Lewes caf\u00e9,"
                     "2026-01-01,2026-03-01\n").encode("latin-1"),
                     [(None, "", "not UTF-8")], None),
    "nul_byte": ("custody_release", "r.csv", REL + "R5,X0010000002,HMP\x00Lewes,2026-01-01,"
                 "2026-03-01\n", [(2, "prison", "contains a NUL character")], None),
    "ragged_rows": ("appointment", "a.csv", APPT + "G1,X0010000001,2026-10-01,kept,false,x\n"
                    "G2,X0010000001,2026-10-01\n",
                    [(2, "", "has more values than the header's 5 columns"),
                     (3, "", "has fewer values than the header's 5 columns"),
                     (3, "outcome", "is required")], None),
    "ten_mb_cell": ("custody_release", "r.csv", REL + "R7,X0010000002," + "x" * 1_000_000
                    + ",2026-01-01,2026-03-01\n",
                    [(2, "prison", "is 1,000,000 characters long; at most 64 allowed")], None),
    "cell_beyond_read_limit": ("custody_release", "r.csv", REL + "R7,X0010000002,"
                               + "x" * 2_000_000 + ",2026-01-01,2026-03-01\n",
                               [(2, "", "Row 2 cannot be read as CSV")], None),
    "line_too_long": ("custody_release", "r.csv", REL + "R7,X0010000002," + "x" * 5_000_000
                      + ",2026-01-01,2026-03-01\n", [(2, "", "is longer than 4 MB")], None),
    "too_many_values_in_a_row": ("appointment", "a.csv", many_cells(),
                                 [(2, "", "Row 2 has 75 values; at most 64")], None),
    "unclosed_quote": ("area", "areas.csv", 'code,name\nQQ1,"unterminated\nQQ2,Two\nQQ3,Three\n',
                       [(2, "", "opens a quote that is never closed")], None),
    "line_break_in_a_value": ("area", "areas.csv", 'code,name\nQQ1,"two\nlines"\nQQ2,Two\n',
                              [(2, "name", "contains a line break")], None),
    "rows_swallowed_by_an_open_quote": ("audit_answer", "ans.csv", ANS
                                        + 'AUD-0001,2.1a,2.1,not_sufficient,"open\n'
                                        'AUD-0001,2.1b,2.1,sufficient,x,"\n',
                                        [(2, "reason", "look like rows of their own")], None),
    "text_after_closing_quote": ("area", "areas.csv", 'code,name\nQQ1,"Kent"x\n',
                                 [(2, "", "cannot be read as CSV")], None),
    "formula_hyperlink": ("office", "o.csv", 'code,name,area_code\nEVL,"=HYPERLINK(""http://'
                          'evil.example/"",""click me"")",KENT\n',
                          [(2, "name", "a spreadsheet would run it as a formula")], None),
    # the other payloads (=cmd, +, @) in this and four more free-text fields, each refused
    # with nothing written: test_spreadsheet_safe.test_importer_refuses_formulas_in_free_text
    "code_starting_with_dash": ("area", "areas.csv", "code,name\n-1+1,Somewhere\n",
                                [(2, "code", "may not start with '-'")], None),
    "unknown_scheme": ("case_audit", "audits.csv", "audit_ref,crn,auditor,audit_date,status,"
                       "scheme\nAUD-9,X0010000001,auditor.ken1,2026-10-14,complete,crc_1999\n",
                       [(2, "scheme", "is not one of: crc_2018")], None),
    "key_question_not_in_scheme": ("audit_answer", "ans.csv", ANS + "AUD-0001,2.1d,2.1,"
                                   "sufficient,\nAUD-0001,2.1g,2.1,sufficient,\n",
                                   [(2, "key_question", "is not a key question of that "
                                     "standard in the audit's scheme"),
                                    (3, "key_question", "is not a key question")], None),
    "key_question_under_wrong_standard": ("audit_answer", "ans.csv", ANS + "AUD-0001,2.1a,2.3,"
                                          "sufficient,\n",
                                          [(2, "key_question", "is not a key question")],
                                          None),
    "file_too_big": ("appointment", "a.csv", APPT + "T1,X0010000001,2026-10-01,kept,false\n"
                     * 100, [(None, "", "The file is 3 KB; at most 1 KB are allowed")],
                     replace(LIMITS, max_file_bytes=1000)),
    "too_many_rows": ("appointment", "a.csv", APPT + "".join(
        f"T{i},X0010000001,2026-10-01,kept,false\n" for i in range(30)),
        [(12, "", "more than 10 data rows")], replace(LIMITS, max_rows=10)),
    "over_the_wall_clock": ("appointment", "a.csv", APPT + "T1,X0010000001,2026-10-01,kept,no\n",
                            [(None, "", "took longer than its limit")],
                            replace(LIMITS, max_seconds=0.0)),
    "xlsx_two_sheets": ("appointment", "a.xlsx", xlsx(GOOD_ROWS, ("one", "two")),
                        [(None, "", "has 2 sheets (one, two) and none is called "
                                     "'appointment'")], None),
    "xlsx_dimension_bomb": ("appointment", "a.xlsx", xlsx(GOOD_ROWS, patch=dimension_bomb),
                            [(None, "", "declares 1,048,576 rows by 16,384 columns")], None),
    "xlsx_cell_far_right": ("appointment", "a.xlsx", xlsx(GOOD_ROWS, patch=far_cell),
                            [(3, "", "has a value in column 16,384")], None),
    "xlsx_compression_bomb": ("appointment", "bomb.xlsx",
                              lambda tmp: compression_bomb(tmp, 1024),
                              [(None, "", "unpacks to 1,024 MB")], None),
    "xlsx_ratio_bomb": ("appointment", "bomb.xlsx", lambda tmp: compression_bomb(tmp, 40),
                        [(None, "", "times its size; at most 200 times")], None),
    "xlsx_lying_sizes": ("appointment", "a.xlsx", lying_sizes(),
                         [(None, "", "neither CSV text nor an XLSX workbook")], None),
    "xlsx_broken_xml": ("appointment", "a.xlsx", xlsx(GOOD_ROWS, patch=broken_xml),
                        [(None, "", "the workbook is damaged")], None),
    "zip_that_is_not_a_workbook": ("appointment", "a.xlsx", b"PK\x05\x06" + b"\x00" * 18,
                                   [(None, "", "neither CSV text nor an XLSX workbook")],
                                   None),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_bad_input_is_refused_names_the_row_and_writes_nothing(kind, engine, tmp_path):
    table, name, content, expected, limits = KINDS[kind]
    path = content(tmp_path) if callable(content) else write(tmp_path, name, content)
    before = snapshot(engine)
    runs_before = len(runs(engine))
    log_before = audit_rows(engine)
    started = time.perf_counter()
    report = import_file(engine, path, table, username="tester", limits=limits or LIMITS)
    seconds = time.perf_counter() - started
    assert report.status == "rejected", (report.status, report.problems)
    found = assert_problems(report, expected)
    frame = report.problems_frame()
    assert list(frame.columns) == ["file", "row", "column", "value", "problem"]
    assert set(frame["file"]) == {Path(path).name}
    assert report.problem_count == len(report.problems)
    after = snapshot(engine)
    assert after == before  # every row of every table, but import_run
    written = sum(len(rows) for rows in after.values()) - sum(
        len(rows) for rows in before.values())
    history = runs(engine)
    assert len(history) == runs_before + 1
    assert (history[-1]["status"], history[-1]["inserted"], history[-1]["updated"]) == (
        "rejected", 0, 0)
    logged = audit_rows(engine)[len(log_before):]  # the attempt is in the audit log, once
    assert [(r["action"], r["target"]) for r in logged] == [("import_run", Path(path).name)]
    assert '"rejected"' in logged[0]["detail"]
    assert last_import_audit(engine) == ("tester", Path(path).name, "rejected",
                                         history[-1]["id"])
    assert seconds < (5.0 if "bomb" in kind or "far" in kind else 15.0), seconds
    RESULTS.append((kind, found[0][2][:110], written, seconds))


def test_zz_write_the_table_of_bad_inputs():
    """Runs after the suite (named to sort last): the table for the closing note."""
    assert len(KINDS) >= 25
    if not RESULTS:
        pytest.skip("the suite did not run in this session")
    ARTEFACTS.mkdir(exist_ok=True)
    lines = ["| kind | message (first problem) | rows written | seconds |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {k} | {m.replace('|', '/')} | {w} | {s:.2f} |" for k, m, w, s in RESULTS]
    (ARTEFACTS / "bad_inputs.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- a duplicate-key flood is as quick as a valid file --------------------------------------

def _appointments(path: Path, rows: int, same_key: bool) -> Path:
    with open(path, "w") as fh:
        fh.write(APPT)
        for i in range(rows):
            ref = "DUP" if same_key else f"A{i}"
            fh.write(f"{ref},X0010000001,2026-{1 + i % 10:02d}-{1 + i % 28:02d},kept,false\n")
    return path


def test_duplicate_flood_is_linear_capped_and_fully_downloadable(engine, tmp_path):
    rows = 200_000
    valid = _appointments(tmp_path / "valid.csv", rows, same_key=False)
    flood = _appointments(tmp_path / "flood.csv", rows, same_key=True)
    started = time.perf_counter()
    good = ImportExtract(engine, valid, "appointment").check()
    valid_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bad = ImportExtract(engine, flood, "appointment").check()
    flood_seconds = time.perf_counter() - started
    assert good.status == "valid" and bad.status == "invalid"
    assert bad.problem_count == rows and bad.rejected == rows
    assert len(bad.problems) == PROBLEMS_PER_KIND  # capped: the first of the kind
    assert bad.problem_kinds["count"].tolist() == [rows]
    assert bad.problem_kinds["first_rows"].iloc[0] == "2, 3, 4, 5, 6"
    assert bad.problems[0].message == ("duplicate key in the file: also on row(s) 3, 4, 5, 6, "
                                       f"7 and {rows - 6:,} more")
    with open(bad.problems_path, encoding="utf-8-sig") as fh:
        assert sum(1 for _ in fh) == rows + 1  # every problem, and the header
    # linear: before, 40,000 rows took 128 s; now the flood costs about a valid file
    assert flood_seconds < 3 * valid_seconds + 5, (flood_seconds, valid_seconds)


# --- SIGKILL half-way through a large valid import ----------------------------------------

KILL_SCRIPT = """
import sys
from dashboard.data import db
from dashboard.commands.imports import import_file
engine = db.make_engine(sys.argv[1])
def say(fraction, message):
    print(message, flush=True)
import_file(engine, sys.argv[2], "appointment", username="killed", progress=say,
            chunk_rows=10_000)
print("FINISHED", flush=True)
"""


def _kill_during_write(url: str, eng, tmp_path: Path) -> None:
    path = _appointments(tmp_path / "big.csv", 150_000, same_key=False)
    before = snapshot(eng)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, url, str(path)],
                            stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.startswith("Wrote"):  # inside the write transaction, rows already sent
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, seen[-3:]
    assert "FINISHED" not in seen
    assert snapshot(eng) == before  # every table, row for row
    assert runs(eng)[-1]["status"] == "running"  # the killed process could not say
    assert fail_abandoned_runs(eng) == 1  # the next start marks it
    last = runs(eng)[-1]
    assert last["status"] == "failed" and last["inserted"] == 0
    assert "killed" in last["message"] and "X0010000001" not in last["message"]
    assert snapshot(eng) == before


def test_sigkill_during_the_write_leaves_sqlite_as_it_was(engine, tmp_path):
    _kill_during_write(str(engine.url), engine, tmp_path)


@pytest.mark.postgres
def test_sigkill_during_the_write_leaves_postgresql_as_it_was(new_pg_url, tmp_path):
    url = new_pg_url()
    eng = db.make_engine(url)
    db.upgrade(eng)
    assert all(r.status == "succeeded" for r in load_examples(eng))
    _kill_during_write(url, eng, tmp_path)
    eng.dispose()


def test_a_live_run_is_not_marked_failed(engine):
    """A run of a process still alive (this one) stays running."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO import_run (table_name, file_name, file_sha256, username, started_at,"
            " status, mode, rows_read, inserted, updated, unchanged, rejected, message) VALUES"
            " ('area', 'a.csv', 'x', 'u', CURRENT_TIMESTAMP, 'running', 'all_or_nothing', 0,"
            " 0, 0, 0, 0, :m)"), {"m": running_message()})
    assert fail_abandoned_runs(engine) == 0
    assert runs(engine)[-1]["status"] == "running"


def test_a_quoted_line_break_is_kept_where_the_column_allows_it(engine):
    path = write(engine.url.database and Path(engine.url.database).parent, "ans.csv",
                 ANS + 'AUD-0001,2.1b,2.1,not_sufficient,"No plan.\nNo review, either."\n')
    report = import_file(engine, path, "audit_answer")
    assert report.status == "succeeded", report.problems
    with engine.connect() as conn:
        assert conn.execute(text("SELECT reason FROM audit_answer WHERE key_question = "
                                 "'2.1b'")).scalar() == "No plan.\nNo review, either."
