"""HMIP long lists: read and validate an extract in the case sampler's ``Case`` format.

A long list is the list of cases HMIP asks a region for, one row per case, with the fields
of the sampler's ``Case`` (``dto/Cases.kt``): family name, first name, date of birth,
gender (M / F / OTHER), sentence type (e.g. "ORA Community Order", "Adult Licence"), CRN,
PNC, RoSH (RLRH / RMRH / RHRH / RVRH), start and end dates as dd/MM/yyyy, cluster, LDU,
team and responsible officer (manager and officer are optional). The file is CSV (UTF-8)
or XLSX (first sheet). Headers are matched loosely: "familyName", "family_name" and
"Family name" are the same column.

``read_long_list`` returns the cases ready for ``hmip_sampling.draw`` and one ``Problem``
per bad cell (file, row, field, message), like the other imports. It holds person-level
data (names, dates of birth, PNC): callers show and log it as they do case lists.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from dashboard.hmip import hmip_sampling

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_PROBLEMS = 500
TEXT_MAX = 120

# our column -> (accepted header spellings after normalising, required)
FIELDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "family_name": (("familyname", "surname", "lastname"), True),
    "first_name": (("firstname", "forename"), True),
    "dob": (("dob", "dateofbirth"), True),
    "gender": (("gender", "sex"), True),
    "sentence_type": (("sentencetype",), True),
    "crn": (("crn",), True),
    "pnc": (("pnc", "pncnumber"), True),
    "rosh": (("roshclassification", "rosh", "roshlevel"), True),
    "start_date": (("startdate",), True),
    "end_date": (("enddate",), False),
    "cluster": (("cluster",), True),
    "ldu": (("ldu", "localdeliveryunit"), True),
    "team": (("team",), True),
    "responsible_officer": (("responsibleofficer", "ro"), True),
    "manager": (("manager",), False),
    "officer": (("officer",), False),
}
LABELS = {
    "family_name": "Family name",
    "first_name": "First name",
    "dob": "Date of birth",
    "gender": "Gender",
    "sentence_type": "Sentence type",
    "crn": "CRN",
    "pnc": "PNC",
    "rosh": "RoSH",
    "start_date": "Start date",
    "end_date": "End date",
    "cluster": "Cluster",
    "ldu": "LDU",
    "team": "Team",
    "responsible_officer": "Responsible officer",
    "manager": "Manager",
    "officer": "Officer",
}
GENDER_CODES = {"M": "male", "F": "female", "OTHER": "other", "O": "other", "U": "other"}
ROSH_CODES = {
    "RLRH": "low",
    "RMRH": "medium",
    "RHRH": "high",
    "RVRH": "very_high",
    "LOW": "low",
    "MEDIUM": "medium",
    "HIGH": "high",
    "VERY_HIGH": "very_high",
}
SENTENCE_TYPES = {
    k: v
    for k, v in hmip_sampling.SENTENCE_GROUPS.items()
    if k[0].isupper()  # HMIP's own names, not the dashboard's codes
}
DATE_RE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: row is the spreadsheet row (1 = header), 0 for the
    file as a whole; field is the column label ('' for the whole row or file)."""

    file: str
    row: int
    field: str
    message: str


class LongListError(ValueError):
    """The file cannot be read at all (too big, not CSV/XLSX, no header); fit to show."""


def _norm(header: object) -> str:
    return re.sub(r"[^a-z]", "", str(header or "").lower())


def _cells(data: bytes, name: str) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise LongListError(f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a bad file
            raise LongListError(f"{name}: not a readable XLSX workbook ({exc}).") from exc
        sheet = book.worksheets[0]
        rows = []
        for i, row in enumerate(sheet.iter_rows(values_only=True)):
            if i > MAX_ROWS:
                raise LongListError(f"{name}: more than {MAX_ROWS:,} rows.")
            rows.append(["" if v is None else _xlsx_text(v) for v in row])
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LongListError(f"{name}: not UTF-8 text; save the sheet as CSV UTF-8.") from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise LongListError(f"{name}: not valid CSV ({exc}).") from exc
    if len(rows) > MAX_ROWS + 1:
        raise LongListError(f"{name}: more than {MAX_ROWS:,} rows.")
    return rows


def _xlsx_text(value: object) -> str:
    # A date cell comes back as datetime: show it the way the CSV form writes it.
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date(text: str) -> date | None:
    if not DATE_RE.match(text):
        return None
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def read_long_list(data: bytes, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse and validate a long list; (cases, problems).

    cases (only when there are no problems; else empty): one row per case in file order,
    columns family_name, first_name, dob, gender ('male'/'female'/'other'), sentence_type
    (HMIP's name), sentence_group, rosh_level (low/medium/high/very_high), rosh_low, crn,
    pnc, start_date, end_date (date or None), cluster, office (the LDU), team, officer
    (the responsible officer), row (spreadsheet row). Raises ``LongListError`` for a file
    that cannot be read at all.
    """
    rows = _cells(data, name)
    if not rows or not any(c.strip() for c in rows[0]):
        raise LongListError(f"{name}: the file is empty (no header row).")
    header = [_norm(c) for c in rows[0]]
    problems: list[Problem] = []
    where: dict[str, int] = {}
    for field_name, (spellings, required) in FIELDS.items():
        found = [i for i, h in enumerate(header) if h in spellings]
        if len(found) > 1:
            problems.append(Problem(name, 1, LABELS[field_name], "the column appears twice"))
        elif found:
            where[field_name] = found[0]
        elif required:
            problems.append(Problem(name, 1, LABELS[field_name], "required column is missing"))
    if problems:
        return pd.DataFrame(), problems

    def add(row: int, field_name: str, message: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(name, row, LABELS.get(field_name, field_name), message))

    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line at the end of a sheet
        if len(cells) > len(header):
            add(number, "", f"{len(cells)} cells but the header has {len(header)}")
            continue
        value = {f: (cells[i].strip() if i < len(cells) else "") for f, i in where.items()}
        for f in (
            "family_name",
            "first_name",
            "crn",
            "cluster",
            "ldu",
            "team",
            "responsible_officer",
        ):
            if not value[f]:
                add(number, f, "is blank")
        for f, v in value.items():
            if len(v) > TEXT_MAX:
                add(number, f, f"is longer than {TEXT_MAX} characters")
        gender = GENDER_CODES.get(value["gender"].upper())
        if gender is None:
            add(number, "gender", f"{value['gender']!r} is not M, F or OTHER")
        group = SENTENCE_TYPES.get(value["sentence_type"])
        if group is None:
            add(
                number,
                "sentence_type",
                f"{value['sentence_type']!r} is not one of: {', '.join(SENTENCE_TYPES)}",
            )
        rosh = ROSH_CODES.get(value["rosh"].upper())
        if rosh is None:
            add(number, "rosh", f"{value['rosh']!r} is not RLRH, RMRH, RHRH or RVRH")
        start = _date(value["start_date"])
        if start is None:
            add(number, "start_date", f"{value['start_date']!r} is not a date as dd/mm/yyyy")
        end = None
        if value.get("end_date"):
            end = _date(value["end_date"])
            if end is None:
                add(number, "end_date", f"{value['end_date']!r} is not a date as dd/mm/yyyy")
            elif start is not None and end < start:
                add(number, "end_date", "is before the start date")
        if value["dob"] and _date(value["dob"]) is None:
            add(number, "dob", f"{value['dob']!r} is not a date as dd/mm/yyyy")
        out.append(
            {
                "family_name": value["family_name"],
                "first_name": value["first_name"],
                "dob": value["dob"],
                "gender": gender,
                "sentence_type": value["sentence_type"],
                "sentence_group": group,
                "rosh_level": rosh,
                "rosh_low": rosh == "low",
                "crn": value["crn"],
                "pnc": value["pnc"],
                "start_date": start,
                "end_date": end,
                "cluster": value["cluster"],
                "office": value["ldu"],
                "team": value["team"],
                "officer": value["responsible_officer"],
                "row": number,
            }
        )
    if not out and not problems:
        problems.append(Problem(name, 0, "", "the file has a header but no cases"))
    if problems:
        return pd.DataFrame(), problems
    return pd.DataFrame(out), []


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problems as a table: file, row, field, message."""
    return pd.DataFrame(
        [(p.file, p.row, p.field, p.message) for p in problems],
        columns=["file", "row", "field", "message"],
    )


def read_path(path: str | Path) -> tuple[pd.DataFrame, list[Problem]]:
    """read_long_list for a file on disk."""
    p = Path(path)
    return read_long_list(p.read_bytes(), p.name)
