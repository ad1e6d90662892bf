"""HMIP long lists: the sampler's Case fields accepted, every bad cell reported by file,
row and field, and the parsed list drawn by HMIP's method."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.core.config import PROJECT_ROOT
from dashboard.hmip import hmip_sampling, longlist

HEADER = (
    "familyName,firstName,dob,gender,sentenceType,crn,pnc,roshClassification,startDate,"
    "endDate,cluster,ldu,team,responsibleOfficer\n"
)
GOOD = "Smith,Sam,12/02/1990,M,ORA Community Order,X1,P1,RMRH,02/09/2026,,Kent,Ashford,T1,Jo\n"


def test_example_file_reads_and_draws():
    cases, problems = longlist.read_path(PROJECT_ROOT / "examples" / "hmip_long_list.csv")
    assert problems == []
    assert len(cases) == 6
    first = cases.iloc[0]
    assert (first["gender"], first["sentence_group"], first["rosh_level"]) == (
        "male",
        hmip_sampling.COMMUNITY,
        "medium",
    )
    assert first["start_date"] == date(2026, 9, 2) and first["office"] == "Maidstone"
    result = hmip_sampling.draw(cases, 3, seed=1, reference_day=date(2026, 11, 30))
    # the redacted row and the second case of Lee Brown (same names and birth date) go
    assert result.excluded == {"redacted": 1, "not started": 0, "gender": 0, "duplicate": 1}
    assert result.eligible == 4 and len(result.sample) == 3
    assert "X100004" not in set(result.sample["crn"]) and "X100005" not in set(result.sample["crn"])


def test_headers_are_matched_loosely():
    text = HEADER.replace("familyName", "Family name").replace("startDate", "start_date")
    cases, problems = longlist.read_long_list((text + GOOD).encode(), "l.csv")
    assert problems == [] and list(cases["family_name"]) == ["Smith"]


def test_every_bad_cell_is_reported_with_file_row_and_field():
    bad = (
        "Smith,Sam,12/02/1990,X,ORA Community Order,X1,P1,RMRH,02/09/2026,,Kent,A,T,Jo\n"
        "Jones,Al,1990-02-12,F,Community thing,X2,P2,HIGH!,31/02/2026,,Kent,A,T,Jo\n"
        ",Al,01/01/1990,F,Adult Licence,X3,P3,RLRH,02/09/2026,01/09/2026,Kent,A,T,\n"
    )
    cases, problems = longlist.read_long_list((HEADER + GOOD + bad).encode(), "list.csv")
    assert cases.empty
    got = {(p.row, p.field) for p in problems}
    assert {(3, "Gender"), (4, "Date of birth"), (4, "Sentence type"), (4, "RoSH")} <= got
    assert {(4, "Start date"), (5, "Family name"), (5, "Responsible officer")} <= got
    assert (5, "End date") in got  # before the start date
    assert all(p.file == "list.csv" for p in problems)
    frame = longlist.problems_frame(problems)
    assert list(frame.columns) == ["file", "row", "field", "message"]


def test_missing_and_repeated_columns_are_header_problems():
    text = HEADER.replace(",pnc", "").replace("team", "cluster")
    _, problems = longlist.read_long_list(text.encode(), "h.csv")
    fields = {(p.row, p.field, p.message) for p in problems}
    assert (1, "PNC", "required column is missing") in fields
    assert (1, "Cluster", "the column appears twice") in fields


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe bad", "UTF-8"),
        (b'a,"b\n', "CSV"),
    ],
)
def test_unreadable_files_are_refused_whole(data, message):
    with pytest.raises(longlist.LongListError, match=message):
        longlist.read_long_list(data, "x.csv")


def test_too_large_file_is_refused(monkeypatch):
    monkeypatch.setattr(longlist, "MAX_BYTES", 10)
    with pytest.raises(longlist.LongListError, match="larger than"):
        longlist.read_long_list((HEADER + GOOD).encode(), "big.csv")


def test_xlsx_long_list(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    row = GOOD.strip().split(",")
    row[8] = date(2026, 9, 2)  # a real date cell
    ws.append(row)
    path = tmp_path / "list.xlsx"
    wb.save(path)
    cases, problems = longlist.read_path(path)
    assert problems == [] and cases.iloc[0]["start_date"] == date(2026, 9, 2)
