"""The evidence pack workbook (.xlsx, written with xlsxwriter): a summary, the Domain 1
judgements, the cases judged not sufficient, a sheet per standard with its key questions
and every answer, offices, the sample and its strata, the scheme's rules and the method.
Values are shown as on the readiness page (``evidence.contents.shown_value``).
"""

from __future__ import annotations

import io
import math
import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.core import display
from dashboard.core.spreadsheet_safe import neutralise
from dashboard.hmip.evidence import contents
from dashboard.hmip.ratings import provenance_table


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", text)[:31].strip() or "Sheet"
    base, i = name, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name.lower())
    return name


def _cells(series: pd.Series, judge: display.Judge | None = None) -> tuple[list[Any], str]:
    """A column as cell values, shown as on screen (``contents.shown_value``): numbers stay
    numbers, dates stay dates (written as Excel dates), missing values None (a blank
    cell), everything else text; and the kind of every value in it ("text", "number",
    "datetime", "date" or "mixed") so that the column is written with one call per cell. Decided
    once per column: a country's pack has over a million cells."""
    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return [None if pd.isna(v) else ("Yes" if v else "No") for v in series], "text"
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype=float, na_value=math.nan)
        if contents.is_percent(name):
            return [None if math.isnan(v) else contents.shown_value(name, v, judge)
                    for v in numbers.tolist()], "number"
        return [None if math.isnan(v) else v for v in numbers.tolist()], "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=None)
                for v in series], "datetime"
    values = series.to_numpy(dtype=object, na_value=None).tolist()
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in ("string", "empty"):
        # only text: the coded values as words, a stored '=…' shown, never run; "" blank.
        # Shaped once per distinct value (offices, answers, auditors repeat)
        shown = {v: neutralise(contents.shown_value(name, v)) if v else None
                 for v in dict.fromkeys(values) if v is not None}
        return [None if v is None else shown[v] for v in values], "text"
    if inferred == "date" and not any(isinstance(v, datetime) for v in values):
        return values, "date"
    out: list[Any] = []
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, bool):
            out.append("Yes" if v else "No")
        elif isinstance(v, int | float):
            out.append(contents.shown_value(name, float(v), judge))
        elif isinstance(v, datetime):
            out.append(v.replace(tzinfo=None))
        elif isinstance(v, date):
            out.append(v)
        else:
            out.append(neutralise(contents.shown_value(name, str(v))))
    return out, "mixed"


def _write_cell(ws: Any, i: int, j: int, v: Any, fmt: dict[str, Any], link: bool,
                percent: bool) -> None:
    """One value of a mixed column (see _cells), by its type."""
    if isinstance(v, datetime):
        ws.write_datetime(i, j, v, fmt["datetime"])
    elif isinstance(v, date):
        ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt["date"])
    elif link and isinstance(v, str) and re.match(r"^https?://", v):
        ws.write_url(i, j, v, string=v)
    elif isinstance(v, float) and percent:
        ws.write_number(i, j, v, fmt["pct"])
    else:
        ws.write(i, j, v)


def _write_table(
    ws: Any,
    df: pd.DataFrame,
    row: int,
    fmt: dict[str, Any],
    headings: dict[str, str] | None = None,
    *,
    main: bool = False,
    links: tuple[str, ...] = (),
    judge: display.Judge | None = None,
) -> int:
    """Write df at row under a header of readable headings (contents.HEADINGS, then headings);
    returns the next free row. Percentages are written as display.py shows them (one
    decimal; % sufficient with more near one of judge's bands), dates as dates. main: the
    sheet's main table: its header row is frozen and filtered. links: columns whose
    http(s) values are written as hyperlinks."""
    headings = {**contents.HEADINGS, **(headings or {})}
    widths: dict[int, int] = ws.__dict__.setdefault("_widths", {})
    for j, col in enumerate(df.columns):
        title = neutralise(str(headings.get(col, str(col).replace("_", " ").capitalize())))
        ws.write(row, j, title, fmt["head"])
        widths[j] = max(widths.get(j, 10), min(60, len(title) + 2))
    for j, col in enumerate(df.columns):
        values, kind = _cells(df[col], judge)
        if kind == "text":
            longest = max(map(len, filter(None, values)), default=0)
        elif kind == "date":
            longest = 10
        else:
            longest = max((len(str(v)) for v in values if v is not None), default=0)
        widths[j] = max(widths[j], min(60, longest + 2))
        ws.set_column(j, j, widths[j])
        percent = "pct" in str(col) or str(col).startswith("ci_")
        link = col in links
        first = row + 1
        if kind == "text" and not link:
            for i, v in enumerate(values, start=first):
                if v is not None:
                    ws.write_string(i, j, v)
        elif kind == "number":
            number_fmt = fmt["pct"] if percent else None
            for i, v in enumerate(values, start=first):
                if v is not None:
                    ws.write_number(i, j, v, number_fmt)
        elif kind == "datetime":
            for i, v in enumerate(values, start=first):
                if v is not None:
                    ws.write_datetime(i, j, v, fmt["datetime"])
        elif kind == "date":
            for i, v in enumerate(values, start=first):
                if v is not None:
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt["date"])
        else:
            for i, v in enumerate(values, start=first):
                if v is not None:
                    _write_cell(ws, i, j, v, fmt, link, percent)
    if main:
        ws.freeze_panes(row + 1, 0)
        ws.autofilter(row, 0, row + max(len(df), 1), max(len(df.columns) - 1, 0))
    return row + len(df) + 2


def workbook_bytes(pack: contents.EvidencePack) -> bytes:
    """The evidence pack workbook (.xlsx). Sheets: Summary (ratings and overall), Domain 1
    judgements (notes, evidence links), Not sufficient (each case judged not sufficient,
    with the auditor's reason, within the user's scope), a sheet per standard (key
    questions, then every answer), Offices, Sample, Strata, Scheme rules (provenance of
    every rule and what is not confirmed), Method. Every table has readable headings, its
    values rounded as on screen, real dates, and a frozen, filtered header row."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    fmt = {
        "head": wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        ),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        # at least one decimal, and the further ones display.shown kept near a band edge
        "pct": wb.add_format({"num_format": "0.0#####"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "date": wb.add_format({"num_format": "dd/mm/yyyy"}),
        "datetime": wb.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    used: set[str] = set()
    banded = display.rating_judge(pack.scheme)  # % sufficient judged by the rating bands

    ws = wb.add_worksheet(_sheet_name("Summary", used))
    ws.write(0, 0, pack.title, fmt["title"])
    ws.write(1, 0, f"Evidence: {pack.basis_label}")
    ws.write(2, 0, f"Scheme: {pack.scheme.title}")
    ws.write(3, 0, f"Overall: {contents.pack_overall_text(pack)}")
    ws.write(4, 0, f"Generated {pack.generated_at:%d %b %Y %H:%M} UTC by {pack.generated_by}")
    summary_rows = contents.rating_rows(pack.ratings, scheme=pack.scheme)
    row = _write_table(ws, summary_rows, 6, fmt, main=True, judge=banded)
    unrated = contents.unrated_standards(pack.ratings, pack.scheme)
    if unrated:
        ws.write(row, 0, "Not rated here: " + "; ".join(unrated))

    ws = wb.add_worksheet(_sheet_name("Domain 1 judgements", used))
    judged = pack.judgements
    if judged.empty:
        ws.write(0, 0, "No Domain 1 judgement recorded for this scheme and scope.")
    else:
        if "judged_at" in judged:
            judged = judged.assign(
                judged_at=pd.to_datetime(judged["judged_at"], utc=True).dt.tz_localize(None)
            )
        _write_table(ws, judged, 0, fmt, main=True, links=("evidence_link",))

    ws = wb.add_worksheet(_sheet_name("Not sufficient", used))
    _write_table(ws, pack.not_sufficient, 0, fmt, main=True)

    answers = pack.answers
    for standard in pack.scheme.standards:
        if standard.kind != "case_sample":
            continue
        kq = pack.key_questions[pack.key_questions["standard"] == standard.code]
        mine = answers[answers["standard"] == standard.code] if len(answers) else answers
        if kq.empty and mine.empty:
            continue
        ws = wb.add_worksheet(_sheet_name(f"{standard.code} {standard.name}", used))
        ws.write(0, 0, f"{standard.code} {standard.name}", fmt["title"])
        rated = pack.ratings[pack.ratings["standard"] == standard.code]
        if len(rated):
            ws.write(1, 0, str(rated["statement"].iloc[0]))
        row = _write_table(ws, kq.sort_values("key_question"), 3, fmt, judge=banded)
        ws.write(row, 0, f"Every answer ({len(mine)})", fmt["title"])
        _write_table(ws, mine, row + 1, fmt, main=True)

    ws = wb.add_worksheet(_sheet_name("Offices", used))
    keep = tuple(c for c in ("area", "office") if c in pack.office_ratings.columns)
    _write_table(ws, contents.rating_rows(pack.office_ratings, keep, pack.scheme), 0, fmt,
                 main=True, judge=banded)
    if pack.sample is not None:
        ws = wb.add_worksheet(_sheet_name("Sample", used))
        _write_table(ws, pack.sample, 0, fmt, main=True)
    ws = wb.add_worksheet(_sheet_name("Strata", used))
    _write_table(ws, pack.strata.drop(columns="stratum", errors="ignore"), 0, fmt, main=True)
    ws = wb.add_worksheet(_sheet_name("Scheme rules", used))
    row = 0
    for sentence in pack.scheme.not_confirmed:
        ws.write(row, 0, f"Not published here: {sentence}")
        row += 1
    _write_table(ws, provenance_table(pack.scheme), row + 1, fmt, main=True, links=("url",))
    ws = wb.add_worksheet(_sheet_name("Method", used))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 110)
    for i, (label, text) in enumerate(contents.method_lines(pack)):
        ws.write(i, 0, neutralise(label), fmt["head"])
        ws.write(i, 1, neutralise(text), fmt["wrap"])
    wb.close()
    return buffer.getvalue()

