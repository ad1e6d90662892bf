"""Formula injection (OWASP "CSV injection"): the importer refuses formula-like text, and
every CSV, XLSX and PDF the dashboard writes shows such text as text, never as a formula.

The four payloads of issue 19 are tried in the free-text fields an extract carries; then
the same payloads are stored the way a form would store them (bypassing the importer) and
every export is opened and read back cell by cell."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from dashboard.commands.imports import import_file
from dashboard.core import spreadsheet_safe
from dashboard.hmip import evidence, ratings, sampling
from dashboard.ingest import export_extracts
from tests.import_helpers import engine, example_db, snapshot, write  # noqa: F401 - fixtures

PAYLOADS = ['=HYPERLINK("http://evil.example/","click me")', "=cmd|' /C calc'!A0", "+1+1",
            "@SUM(1+1)"]
MORE = ["-2+3", "\t=1+1", "\r=1+1"]  # the other triggers


def _inert(cell: str) -> bool:
    """A CSV cell a spreadsheet shows as text: it does not start with a trigger."""
    return not spreadsheet_safe.formula_like(cell)


@pytest.mark.parametrize("value", PAYLOADS + MORE)
def test_formula_like_knows_every_trigger(value):
    assert spreadsheet_safe.formula_like(value)
    assert spreadsheet_safe.neutralise(value) == "'" + value
    assert not spreadsheet_safe.formula_like(spreadsheet_safe.neutralise(value))


@pytest.mark.parametrize("value", ["Ashford", "-3.5", "+44", "1e5", "", "'=already text",
                                   "a=b", "2026-10-01"])
def test_ordinary_text_and_plain_numbers_are_left_alone(value):
    assert not spreadsheet_safe.formula_like(value)
    assert spreadsheet_safe.neutralise(value) == value


def test_non_text_values_are_never_changed():
    frame = pd.DataFrame({"n": [-1.5, 2.0], "when": pd.to_datetime(["2026-01-01"] * 2),
                          "flag": [True, False], "name": ["=1+1", "ok"]})
    safe = spreadsheet_safe.safe_frame(frame)
    assert safe["n"].tolist() == [-1.5, 2.0] and safe["flag"].tolist() == [True, False]
    assert safe["name"].tolist() == ["'=1+1", "ok"]
    assert frame["name"].tolist() == ["=1+1", "ok"]  # a copy: the shown table keeps its text


# (table, header, a row with {v} where the payload goes, the field)
FREE_TEXT = [
    ("office", "code,name,area_code", "ZZ1,{v},KENT", "name"),
    ("custody_release", "release_ref,crn,prison,reception_date,release_date",
     "R1,X0010000002,{v},2026-01-01,2026-03-01", "prison"),
    ("audit_answer", "audit_ref,key_question,standard,answer,reason",
     "AUD-0001,2.1b,2.1,not_sufficient,{v}", "reason"),
    ("staff_absence", "absence_ref,staff_ref,start_date,end_date,working_days_lost,reason",
     "ABS-9,S000001,2026-09-14,2026-09-18,5,{v}", "reason"),
    ("case_audit", "audit_ref,crn,auditor,audit_date,status,scheme",
     "AUD-9,X0010000001,{v},2026-10-14,complete,crc_2018", "auditor"),
]


@pytest.mark.parametrize("value", PAYLOADS)
@pytest.mark.parametrize(("table", "header", "row", "column"), FREE_TEXT)
def test_importer_refuses_formulas_in_free_text(engine, tmp_path, table, header, row,  # noqa: F811
                                                column, value):
    fields = row.split(",")
    fields[fields.index("{v}")] = value  # csv quotes it where needed (the comma, quotes)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header.split(","), fields])
    path = write(tmp_path, f"{table}.csv", out.getvalue())
    before = snapshot(engine)
    report = import_file(engine, path, table)
    assert report.status == "rejected"
    found = [(p.row, p.column, p.message) for p in report.problems]
    assert any(r == 2 and c == column and "spreadsheet would run it as a formula" in m
               for r, c, m in found), found
    assert snapshot(engine) == before


def test_accommodation_payload_is_not_an_allowed_value(engine, tmp_path):  # noqa: F811
    path = write(tmp_path, "r.csv", "release_ref,crn,prison,reception_date,release_date,"
                 "accommodation_on_release\nR1,X0010000002,HMP Elmley,2026-01-01,2026-03-01,"
                 "+1+1\n")
    report = import_file(engine, path, "custody_release")
    assert report.status == "rejected"
    assert [(p.row, p.column) for p in report.problems] == [(2, "accommodation_on_release")]


def _store_payloads(eng) -> None:
    """The payloads stored as a form or an older import would store them."""
    with eng.begin() as conn:
        conn.execute(text("UPDATE office SET name = :v WHERE code = 'ASH'"), {"v": PAYLOADS[0]})
        conn.execute(text("UPDATE custody_release SET prison = :v"), {"v": PAYLOADS[1]})
        conn.execute(text("UPDATE audit_answer SET reason = :v"), {"v": PAYLOADS[2]})
        conn.execute(text("UPDATE case_audit SET auditor = :v"), {"v": PAYLOADS[3]})


def _csv_cells(data: bytes | str) -> list[str]:
    content = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return [c for row in csv.reader(io.StringIO(content, newline="")) for c in row]


def test_every_table_extract_holds_the_payloads_as_text(engine):  # noqa: F811
    _store_payloads(engine)
    archive = zipfile.ZipFile(io.BytesIO(export_extracts.export_zip(engine)))
    cells = [c for name in archive.namelist() for c in _csv_cells(archive.read(name))]
    assert all(_inert(c) for c in cells), [c for c in cells if not _inert(c)]
    for payload in PAYLOADS:
        assert "'" + payload in cells  # kept, with the apostrophe that makes it text


def test_table_downloads_and_problem_files_are_inert(engine, tmp_path):  # noqa: F811
    frame = pd.DataFrame({"office": PAYLOADS, "cases": [1, 2, 3, 4]})
    cells = _csv_cells(spreadsheet_safe.csv_bytes(frame))
    assert all(_inert(c) for c in cells)
    assert cells[2:4] == ["'" + PAYLOADS[0], "1"]
    # a rejected file's rejects file and full problems list carry the cells back out
    rows = "".join(f"RJ{i},X0010000002,\"{p.replace(chr(34), chr(34) * 2)}\",2026-01-01,"
                   "2026-03-01\n" for i, p in enumerate(PAYLOADS * 10))
    path = write(tmp_path, "r.csv", "release_ref,crn,prison,reception_date,release_date\n"
                 + rows + "OK1,X0010000002,HMP Elmley,2026-01-01,2026-03-01\n")
    report = import_file(engine, path, "custody_release", keep_valid=True,
                                  rejects_path=tmp_path / "rejects.csv")
    assert report.status == "partial" and report.rejected == 40
    rejects = _csv_cells((tmp_path / "rejects.csv").read_bytes())
    assert all(_inert(c) for c in rejects) and "'" + PAYLOADS[1] in rejects
    assert report.problems_path is not None  # 40 problems of one kind: 20 are listed
    everything = _csv_cells(report.problems_path.read_bytes())
    assert all(_inert(c) for c in everything)


def _hostile_pack() -> evidence.EvidencePack:
    scheme = ratings.load_scheme("crc_2018")
    answers = pd.DataFrame([{
        "audit_id": i, "crn": f"X{i:07d}", "area": "Kent", "office": PAYLOADS[0],
        "sentence_type": "licence", "rosh_level": "high", "gender": "male",
        "audit_date": datetime(2026, 10, 1).date(), "auditor": PAYLOADS[3],
        "standard": "2.1", "key_question": "2.1a",
        "answer": "not_sufficient" if i % 2 else "sufficient",
        "reason": PAYLOADS[i % 4]} for i in range(1, 21)])
    per_kq = ratings.rate_standards(answers.rename(columns={"audit_id": "case_id"}), scheme)
    by_office = answers.assign(sufficient=answers["answer"] == "sufficient",
                               applicable=answers["answer"] != "not_applicable")
    by_office = by_office.groupby(["area", "office", "key_question"], as_index=False)[
        ["sufficient", "applicable"]].sum()
    region = evidence.summary_ratings(per_kq, scheme)
    judged = pd.DataFrame({"standard": ["1.1"], "rating": ["Good"], "notes": [PAYLOADS[1]],
                           "evidence_link": [PAYLOADS[2]], "judged_by": [PAYLOADS[3]],
                           "judged_at": [datetime(2026, 11, 1, tzinfo=UTC)]})
    counts = pd.DataFrame({"sentence_type": ["licence"], "rosh_level": ["high"],
                           "gender": ["male"], "population": [40]})
    drawn = counts.drop(columns="population").assign(sample=[20])
    return evidence.EvidencePack(
        scheme=scheme, scope_label="Kent", basis_label=PAYLOADS[2],
        generated_by=PAYLOADS[3], generated_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        ratings=region,
        office_ratings=evidence.summary_ratings(by_office, scheme, by=["area", "office"]),
        key_questions=evidence.key_question_table(per_kq, scheme), answers=answers,
        strata=sampling.strata_table_from_counts(counts, drawn), judgements=judged,
        sample=answers[["crn", "office"]].drop_duplicates(),
        overall=evidence.overall_from(region, judged, scheme), method={"Note": PAYLOADS[0]})


def test_evidence_workbook_cells_are_strings_never_formulas():
    data = evidence.workbook_bytes(_hostile_pack())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert all(_inert(t) for t in texts), [t for t in texts if not _inert(t)]
    for payload in PAYLOADS:
        assert "'" + payload in texts


def test_evidence_pdf_shows_the_payloads_as_text():
    reader = PdfReader(io.BytesIO(evidence.pdf_bytes(_hostile_pack())))
    shown = "\n".join(page.extract_text() for page in reader.pages)
    assert "'@SUM(1+1)" in shown and "'+1+1" in shown
