"""The inspection readiness summary and its evidence pack (an .xlsx workbook and a PDF).

Pure: DataFrames in, bytes out; no Streamlit, no database, no browser. The workbook is
written with xlsxwriter (a sheet per standard with its key questions and every answer, the
sample and its strata, the method); the PDF with reportlab (ratings table, a chart drawn
with reportlab's own graphics, the strata, the method note). Both carry the same figures
as the readiness page, rounded the same way (dashboard.core.display: one decimal place, more
where one would round a % sufficient across the band it is rated in).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.core import display
from dashboard.core.spreadsheet_safe import neutralise
from dashboard.hmip.ratings import (
    OverallRating,
    Scheme,
    SchemeIncomplete,
    overall_rating,
    provenance_table,
    sample_size_formula_text,
    standard_ratings,
)
from dashboard.stats.intervals import wilson_interval

KEY_QUESTION_TABLE = [
    "standard",
    "key_question",
    "label",
    "sufficient",
    "applicable",
    "pct_sufficient",
    "ci_low",
    "ci_high",
]
RATING_TABLE = {  # column -> heading, as on the readiness page
    "standard": "Standard",
    "standard_name": "Name",
    "rating": "Rating",
    "lowest_key_question": "Lowest key question",
    "sufficient": "Sufficient",
    "applicable": "Cases where it applies",
    "pct_sufficient": "% sufficient",
    "ci_low": "95 % CI low",
    "ci_high": "95 % CI high",
    "p_at_least_good": "Chance Good or better (%)",
}


# Headings for every column the pack writes: the words the readiness page uses.
HEADINGS = {
    **RATING_TABLE,
    "area": "Area",
    "office": "Office",
    "office_code": "Office code",
    "audit_id": "Audit",
    "crn": "CRN",
    "sentence_type": "Sentence type",
    "rosh_level": "Risk of serious harm",
    "gender": "Gender",
    "audit_date": "Audit date",
    "auditor": "Auditor",
    "key_question": "Key question",
    "label": "Focus",
    "answer": "Answer",
    "reason": "Reason (not sufficient)",
    "not_applicable": "Not applicable",
    "person_id": "Person",
    "stratum": "Stratum",
    "status": "Audit status",
    "answers": "Answers saved",
    "population": "Cases (population)",
    "population_pct": "% of population",
    "expected": "Proportional share",
    "sample": "Cases drawn",
    "sample_pct": "% of sample",
    "audited": "Audits complete",
    "notes": "Notes",
    "evidence_link": "Evidence link",
    "judged_by": "Judged by",
    "judged_at": "Judged at (UTC)",
    "rule": "Rule",
    "document": "Document",
    "date": "Date",
    "url": "Address",
    "statement": "Statement",
    "score": "Score",
}
# Coded values as words (the screen's readable values).
VALUE_WORDS = {
    "community_order": "Community order",
    "suspended_sentence_order": "Suspended sentence order",
    "licence": "Licence",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "very_high": "Very high",
    "male": "Male",
    "female": "Female",
    "sufficient": "Sufficient",
    "not_sufficient": "Not sufficient",
    "not_applicable": "Not applicable",
    "draft": "Draft",
    "complete": "Complete",
}
CODED_COLUMNS = ("sentence_type", "rosh_level", "gender", "answer", "status")
PCT_DIGITS = 1
PDF_CASE_ROWS = 60  # more not-sufficient cases than this: the PDF groups them by reason


def shown_value(column: str, value: Any, judge: display.Judge | None = None) -> Any:
    """A value as the pack shows it, one rule for screen and files (dashboard/core/display.py):
    percentages (pct_*, ci_*, p_at_least_good) to one decimal place, and % sufficient with
    more where one decimal would round it into another of judge's bands (the scheme's
    rating bands; the rule is idempotent, so a value shaped once keeps its decimals);
    coded values as words; other values unchanged."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    percent = "pct" in column or column.startswith("ci_") or column == "p_at_least_good"
    if percent and isinstance(value, int | float):
        return display.shown(float(value), judge if column == "pct_sufficient" else None,
                             PCT_DIGITS)
    if column in CODED_COLUMNS and isinstance(value, str):
        return VALUE_WORDS.get(value, value.replace("_", " ").capitalize())
    return value


def readable_frame(df: pd.DataFrame) -> pd.DataFrame:
    """df with every value as ``shown_value`` shows it (columns unchanged)."""
    out = df.copy()
    for col in out.columns:
        if "pct" in str(col) or str(col).startswith("ci_") or col in CODED_COLUMNS:
            out[col] = [shown_value(str(col), v) for v in out[col]]
    return out


def unrated_standards(ratings: pd.DataFrame, scheme: Scheme) -> list[str]:
    """Case-sample standards of the scheme without a rating here, with the reason the
    scheme gives (e.g. 'R2.5 Court work (needs audits of court reports)')."""
    rated = set(ratings.dropna(subset=["pct_sufficient"])["standard"]) if len(ratings) else set()
    out = []
    for standard in scheme.standards:
        if standard.kind == "case_sample" and standard.code not in rated:
            why = standard.note or "no applicable cases audited"
            out.append(f"{standard.code} {standard.name} ({why})")
    return out


# --- the summary ---------------------------------------------------------------------------


def key_question_table(counts: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per key question: sufficient of applicable, % and Wilson 95 % interval (percent),
    weakest first (ties in scheme order). counts: key_question, sufficient, applicable
    (several rows per question are summed). Columns: KEY_QUESTION_TABLE."""
    if counts.empty:
        return pd.DataFrame(columns=KEY_QUESTION_TABLE)
    totals = counts.groupby("key_question")[["sufficient", "applicable"]].sum()
    rows = []
    for order, kq in enumerate(scheme.key_questions):
        if kq.code not in totals.index:
            continue
        s, n = int(totals.at[kq.code, "sufficient"]), int(totals.at[kq.code, "applicable"])
        low, high = wilson_interval(s, n)
        rows.append(
            {
                "standard": kq.standard,
                "key_question": kq.code,
                "label": kq.label,
                "sufficient": s,
                "applicable": n,
                "pct_sufficient": 100 * s / n if n else math.nan,
                "ci_low": 100 * low,
                "ci_high": 100 * high,
                "_order": order,
            }
        )
    out = pd.DataFrame(rows)
    out = out.sort_values(["pct_sufficient", "_order"], na_position="last", kind="stable")
    return out[KEY_QUESTION_TABLE].reset_index(drop=True)


def overall_from(
    ratings: pd.DataFrame, judgements: pd.DataFrame, scheme: Scheme
) -> OverallRating | None:
    """The overall rating from case-sample ratings plus recorded judgements (provisional,
    pro-rated, when standards are missing); None when nothing is rated or the scheme has
    no overall bands."""
    scores: dict[str, Any] = {}
    for _, row in ratings.iterrows():
        if isinstance(row["rating"], str):
            scores[row["standard"]] = row["rating"]
    for _, row in judgements.iterrows():
        if row["standard"] in scheme.standard_codes:
            scores[row["standard"]] = row["rating"]
    if not scores:
        return None
    try:
        return overall_rating(scores, scheme, allow_partial=True)
    except SchemeIncomplete:
        return None


def overall_text(overall: OverallRating | None) -> str:
    """'Requires improvement (score 9 of 30)' or, when standards are missing,
    'Requires improvement, provisional: 7 from 7 of 10 standards, pro-rated to 10.0 ...'."""
    if overall is None:
        return "Not rated"
    if not overall.partial:
        return f"{overall} (score {overall.total_score} of {overall.max_score})"
    return (
        f"{overall}, provisional: score {overall.total_score} pro-rated to "
        f"{overall.scored_on:.1f} of {overall.max_score}; not yet rated: "
        f"{', '.join(overall.missing)}"
    )


SMALL_SAMPLE = 20  # fewer applicable cases than this: the rating is flagged as fragile


def chance_text(p: float) -> str:
    """A probability (0..1) as the statements show it: '8 %', '<1 %', '>99 %', '–'."""
    if p is None or pd.isna(p):
        return "–"
    percent = 100 * float(p)
    if 0 < percent < 0.5:
        return "<1 %"
    if 99.5 <= percent < 100:
        return ">99 %"
    return f"{percent:.0f} %"


def small_samples(ratings: pd.DataFrame) -> list[str]:
    """Standards rated on fewer than SMALL_SAMPLE applicable cases (their codes)."""
    rated = ratings.dropna(subset=["pct_sufficient"])
    return [str(c) for c in rated.loc[rated["applicable"] < SMALL_SAMPLE, "standard"]]


def rating_rows(ratings: pd.DataFrame, keep: tuple[str, ...] = (),
                scheme: Scheme | None = None) -> pd.DataFrame:
    """The ratings table as shown on screen and in the pack: the keep columns (e.g. area,
    office) then RATING_TABLE columns, percentages rounded to one decimal (% sufficient
    with more where one decimal would round it into another of scheme's bands: 64.955 is
    64.96 beside Requires improvement, not 65.0), chance of Good or better in percent."""
    out = ratings[[*keep, *(c for c in RATING_TABLE if c in ratings.columns)]].copy()
    out["pct_sufficient"] = display.shown_column(out["pct_sufficient"].astype(float),
                                                 display.rating_judge(scheme), 1)
    for col in ("ci_low", "ci_high"):
        out[col] = out[col].astype(float).round(1)
    out["p_at_least_good"] = (100 * out["p_at_least_good"].astype(float)).round(1)
    return out


# --- the pack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidencePack:
    """Everything the exported files show. DataFrames are as the readiness page has them:
    ratings and office_ratings from ``ratings.standard_ratings``, key_questions from
    ``key_question_table``, answers from ``queries.readiness.answer_rows``, strata from
    ``sampling.strata_table`` (or audited cases per stratum), judgements from
    ``queries.readiness.judgements``. method: label -> value lines for the method sheet."""

    scheme: Scheme
    scope_label: str
    basis_label: str
    generated_by: str
    generated_at: datetime
    ratings: pd.DataFrame
    office_ratings: pd.DataFrame
    key_questions: pd.DataFrame
    answers: pd.DataFrame
    strata: pd.DataFrame
    judgements: pd.DataFrame
    sample: pd.DataFrame | None = None
    overall: OverallRating | None = None
    method: dict[str, str] = field(default_factory=dict)
    answers_note: str = ""

    @property
    def not_sufficient(self) -> pd.DataFrame:
        """The answers judged not sufficient, with the auditor's reason (within scope)."""
        if self.answers.empty or "answer" not in self.answers:
            return self.answers.iloc[0:0]
        cols = [
            c
            for c in (
                "audit_id",
                "crn",
                "office",
                "audit_date",
                "auditor",
                "standard",
                "key_question",
                "reason",
            )
            if c in self.answers.columns
        ]
        rows = self.answers[self.answers["answer"] == "not_sufficient"]
        if self.scheme.aggregates:  # a regional scheme: only the questions it aggregates
            feeding = {c for kq in self.scheme.key_questions for c in kq.aggregates_from}
            rows = rows[rows["key_question"].isin(feeding)]
        return rows[cols].sort_values(["key_question", "office", "crn"]).reset_index(drop=True)

    @property
    def title(self) -> str:
        return f"Inspection readiness evidence pack: {self.scope_label}"


def method_lines(pack: EvidencePack) -> list[tuple[str, str]]:
    """The method note as (label, text) pairs, shared by the workbook and the PDF."""
    scheme = pack.scheme
    lines = [
        (
            "Scheme",
            f"{scheme.title} ({scheme.scheme_id}); bands confirmed: "
            f"{'yes' if scheme.bands_confirmed else 'no'}. {scheme.note}",
        ),
        ("Evidence", pack.basis_label),
        (
            "Rating rule",
            "Each case-sample standard is rated on its lowest key question's % "
            "sufficient, counting only cases where the question applies: "
            + ", ".join(f"{b.rating} from {b.min_pct:g} %" for b in (scheme.standard_bands or ()))
            + ". Domain 1 standards are recorded judgements.",
        ),
        (
            "Uncertainty",
            "95 % intervals are Wilson score intervals. The chance a standard "
            "is really Good or better is the posterior probability (uniform "
            "Beta(1, 1) prior) that every key question's true % is at or above "
            "the Good threshold, treating the questions as independent.",
        ),
        (
            "Overall",
            "Standard scores (Inadequate 0 ... Outstanding 3) are summed and banded; "
            "with standards missing the total is pro-rated and marked provisional."
            if scheme.overall_bands
            else "Not given: this scheme's overall score bands are not published here "
            "(see the scheme rules); every standard that can be rated is rated.",
        ),
        ("Sample size formula", sample_size_formula_text()),
    ]
    lines += list(pack.method.items())
    if pack.answers_note:
        lines.append(("Case rows", pack.answers_note))
    return lines


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", text)[:31].strip() or "Sheet"
    base, i = name, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name.lower())
    return name


def _cells(series: pd.Series, judge: display.Judge | None = None) -> list[Any]:
    """A column as cell values, shown as on screen (``shown_value``): numbers stay
    numbers, dates stay dates (written as Excel dates), missing values None (a blank
    cell), everything else text. Decided once per column."""
    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return [None if pd.isna(v) else ("Yes" if v else "No") for v in series]
    if pd.api.types.is_numeric_dtype(series):
        return [None if pd.isna(v) else shown_value(name, float(v), judge) for v in series]
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=None) for v in series]
    out: list[Any] = []
    for v in series:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, bool):
            out.append("Yes" if v else "No")
        elif isinstance(v, int | float):
            out.append(shown_value(name, float(v), judge))
        elif isinstance(v, datetime):
            out.append(v.replace(tzinfo=None))
        elif isinstance(v, date):
            out.append(v)
        else:
            out.append(neutralise(shown_value(name, str(v))))  # a stored '=…' is shown, never run
    return out


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
    """Write df at row under a header of readable headings (HEADINGS, then headings);
    returns the next free row. Percentages are written as display.py shows them (one
    decimal; % sufficient with more near one of judge's bands), dates as dates. main: the
    sheet's main table: its header row is frozen and filtered. links: columns whose
    http(s) values are written as hyperlinks."""
    headings = {**HEADINGS, **(headings or {})}
    widths: dict[int, int] = ws.__dict__.setdefault("_widths", {})
    for j, col in enumerate(df.columns):
        title = neutralise(str(headings.get(col, str(col).replace("_", " ").capitalize())))
        ws.write(row, j, title, fmt["head"])
        widths[j] = max(widths.get(j, 10), min(60, len(title) + 2))
    columns = [_cells(df[c], judge) for c in df.columns]
    for j, values in enumerate(columns):
        longest = max((len(str(v)) for v in values if v is not None), default=0)
        widths[j] = max(widths[j], min(60, longest + 2))
        ws.set_column(j, j, widths[j])
    for i, values in enumerate(zip(*columns, strict=True), start=row + 1):
        for j, (col, v) in enumerate(zip(df.columns, values, strict=True)):
            if v is None:
                continue
            if isinstance(v, datetime):
                ws.write_datetime(i, j, v, fmt["datetime"])
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt["date"])
            elif col in links and isinstance(v, str) and re.match(r"^https?://", v):
                ws.write_url(i, j, v, string=v)
            elif isinstance(v, float) and ("pct" in str(col) or str(col).startswith("ci_")):
                ws.write_number(i, j, v, fmt["pct"])
            else:
                ws.write(i, j, v)
    if main:
        ws.freeze_panes(row + 1, 0)
        ws.autofilter(row, 0, row + max(len(df), 1), max(len(df.columns) - 1, 0))
    return row + len(df) + 2


def workbook_bytes(pack: EvidencePack) -> bytes:
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
    ws.write(3, 0, f"Overall: {pack_overall_text(pack)}")
    ws.write(4, 0, f"Generated {pack.generated_at:%d %b %Y %H:%M} UTC by {pack.generated_by}")
    row = _write_table(ws, rating_rows(pack.ratings, scheme=pack.scheme), 6, fmt, main=True,
                       judge=banded)
    unrated = unrated_standards(pack.ratings, pack.scheme)
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
    _write_table(ws, rating_rows(pack.office_ratings, keep, pack.scheme), 0, fmt,
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
    for i, (label, text) in enumerate(method_lines(pack)):
        ws.write(i, 0, neutralise(label), fmt["head"])
        ws.write(i, 1, neutralise(text), fmt["wrap"])
    wb.close()
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------

_PDF_TEXT = str.maketrans(
    {"−": "-", "≥": ">=", "≤": "<=", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"'}
)


def _pdf_text(value: Any) -> str:
    """Text the standard PDF fonts can show (WinAnsi), with XML specials escaped."""
    from xml.sax.saxutils import escape

    text = neutralise(str(value)).translate(_PDF_TEXT)
    text = text.encode("cp1252", "replace").decode("cp1252")
    return escape(text)


def _fmt_pct(value: Any, judge: display.Judge | None = None) -> str:
    # one decimal, more where judge (the rating bands) would otherwise see another band
    return display.text(value, judge, 1, "%")


def _chart(key_questions: pd.DataFrame, scheme: Scheme) -> Any:
    """Horizontal bars: % sufficient per key question, with the band thresholds.

    The threshold lines are drawn first (behind the bars), and each value label sits on
    a white box after its bar, so no line runs through a figure; the threshold names sit
    in a band above the plot, staggered so neighbours do not overlap."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, Line, String
    from reportlab.lib import colors

    df = key_questions.dropna(subset=["pct_sufficient"]).sort_values(
        "key_question", ascending=False
    )
    banded = display.rating_judge(scheme)
    bands = sorted(
        (b for b in scheme.standard_bands or () if b.min_pct > 0), key=lambda b: b.min_pct
    )
    plot_h = 20 + 16 * max(len(df), 1)
    label_band = 10 * max(len(bands), 1)
    drawing = Drawing(760, 20 + plot_h + label_band + 24)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 190, 20, 520, plot_h
    chart.data = [[display.shown(v, banded, 1) for v in df["pct_sufficient"]] or [0]]
    chart.categoryAxis.categoryNames = [f"{r.key_question} {r.label}" for r in df.itertuples()] or [
        ""
    ]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 10
    chart.valueAxis.labelTextFormat = "%d %%"
    chart.bars[0].fillColor = colors.HexColor("#0072B2")
    chart.barLabelFormat = lambda v: display.text(v, banded, 1, "%")
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabels.fontSize = 7
    chart.barLabels.boxFillColor = colors.white
    chart.barLabels.leftPadding = chart.barLabels.rightPadding = 1
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    top = chart.y + chart.height
    # The highest threshold's name sits lowest: each name then runs right, away from the
    # lines of the lower thresholds, and no line rises through a name.
    for i, band in enumerate(reversed(bands)):
        x = chart.x + chart.width * band.min_pct / 100
        y_label = top + 4 + 10 * i
        drawing.add(
            Line(
                x,
                chart.y,
                x,
                y_label,
                strokeColor=colors.HexColor("#B0B0B0"),
                strokeDashArray=[2, 2],
            )
        )
        drawing.add(
            String(
                x + 2,
                y_label,
                f"{band.rating} from {band.min_pct:g} %",
                fontSize=7,
                fillColor=colors.HexColor("#505050"),
            )
        )
    drawing.add(chart)  # after the lines: bars and value labels cover them
    drawing.add(
        String(
            0,
            top + label_band + 10,
            "% sufficient by key question (cases where it applies)",
            fontSize=9,
        )
    )
    return drawing


def _page_number(canvas: Any, doc: Any) -> None:
    """Footer on every page: the pack title and 'Page n'."""
    from reportlab.lib.units import mm

    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    width, _ = doc.pagesize
    canvas.drawString(doc.leftMargin, 7 * mm, _plain_pdf(doc.title))
    canvas.drawRightString(width - doc.rightMargin, 7 * mm, f"Page {doc.page}")
    canvas.restoreState()


def _plain_pdf(value: Any) -> str:
    return str(value).translate(_PDF_TEXT).encode("cp1252", "replace").decode("cp1252")


def pdf_bytes(pack: EvidencePack) -> bytes:
    """The evidence pack summary (PDF, A4 landscape, numbered pages): overall, ratings
    table, chart, weakest key questions, Domain 1 judgements (notes, evidence links), the
    cases judged not sufficient with the auditor's reason (within scope), strata, the
    scheme's rules and provenance, and the method note."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    styles["Heading3"].keepWithNext = 1  # no heading alone at the foot of a page
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=pack.title,
        author=pack.generated_by,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def table(header: list[str], rows: list[list[Any]], widths: list[float] | None = None):
        data = [[Paragraph(f"<b>{_pdf_text(h)}</b>", small) for h in header]] + [
            [Paragraph(_pdf_text(v), small) for v in r] for r in rows
        ]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

    def words(column: str, value: Any) -> str:
        shown = shown_value(column, value, banded)
        return "–" if shown is None else str(shown)

    story: list[Any] = [
        Paragraph(_pdf_text(pack.title), styles["Title"]),
        Paragraph(
            _pdf_text(
                f"Evidence: {pack.basis_label}. Scheme: {pack.scheme.title}. "
                f"Generated {pack.generated_at:%d %b %Y %H:%M} UTC by "
                f"{pack.generated_by}."
            ),
            styles["BodyText"],
        ),
        Paragraph(_pdf_text(f"Overall rating: {pack_overall_text(pack)}"), styles["Heading2"]),
        Paragraph("Rating each standard would get", styles["Heading3"]),
    ]
    shown = rating_rows(pack.ratings, scheme=pack.scheme)
    banded = display.rating_judge(pack.scheme)
    story.append(
        table(
            [
                "Standard",
                "Rating",
                "Lowest key question",
                "% sufficient",
                "95 % CI",
                "Cases where it applies",
                "Chance Good or better",
            ],
            [
                [
                    f"{r.standard} {r.standard_name}",
                    r.rating or "Not rated",
                    r.lowest_key_question or "–",
                    _fmt_pct(r.pct_sufficient, banded),
                    f"{_fmt_pct(r.ci_low)} to {_fmt_pct(r.ci_high)}",
                    f"{int(r.applicable):,}",
                    _fmt_pct(r.p_at_least_good),
                ]
                for r in shown.itertuples()
            ],
            [70 * mm, 35 * mm, 30 * mm, 25 * mm, 40 * mm, 25 * mm, 35 * mm],
        )
    )
    unrated = unrated_standards(pack.ratings, pack.scheme)
    if unrated:
        story.append(Paragraph(_pdf_text("Not rated here: " + "; ".join(unrated) + "."), small))
    story.append(Spacer(1, 4 * mm))
    for statement in pack.ratings["statement"]:
        story.append(Paragraph(_pdf_text(statement), small))
    story += [
        Spacer(1, 4 * mm),
        _chart(pack.key_questions, pack.scheme),
        Paragraph("Weakest key questions first", styles["Heading3"]),
    ]
    story.append(
        table(
            ["Key question", "Sufficient", "Cases where it applies", "% sufficient", "95 % CI"],
            [
                [
                    f"{r.key_question} {r.label}",
                    f"{int(r.sufficient):,}",
                    f"{int(r.applicable):,}",
                    _fmt_pct(r.pct_sufficient, banded),
                    f"{_fmt_pct(r.ci_low)} to {_fmt_pct(r.ci_high)}",
                ]
                for r in pack.key_questions.itertuples()
            ],
            [90 * mm, 25 * mm, 35 * mm, 30 * mm, 45 * mm],
        )
    )
    story.append(Paragraph("Domain 1 judgements", styles["Heading3"]))
    if pack.judgements.empty:
        story.append(Paragraph("No Domain 1 judgement recorded for this scheme and scope.", small))
    else:
        story.append(
            table(
                ["Standard", "Rating", "Notes", "Evidence", "Judged by", "Judged on"],
                [
                    [
                        r.standard,
                        r.rating,
                        r.notes,
                        r.evidence_link or "–",
                        r.judged_by,
                        f"{pd.Timestamp(r.judged_at):%d/%m/%Y}",
                    ]
                    for r in pack.judgements.itertuples()
                ],
                [20 * mm, 32 * mm, 110 * mm, 60 * mm, 27 * mm, 20 * mm],
            )
        )
    story.append(Paragraph("Cases judged not sufficient, with the reason", styles["Heading3"]))
    ns = pack.not_sufficient
    if pack.answers_note:
        story.append(Paragraph(_pdf_text(pack.answers_note), small))
    if ns.empty:
        story.append(Paragraph("No case judged not sufficient (within your scope).", small))
    elif len(ns) <= PDF_CASE_ROWS:
        story.append(
            table(
                ["Key question", "CRN", "Office", "Audit date", "Auditor", "Reason"],
                [
                    [
                        r.key_question,
                        r.crn,
                        r.office,
                        f"{pd.Timestamp(r.audit_date):%d/%m/%Y}",
                        r.auditor,
                        r.reason or "–",
                    ]
                    for r in ns.itertuples()
                ],
                [25 * mm, 25 * mm, 30 * mm, 22 * mm, 30 * mm, 137 * mm],
            )
        )
    else:
        # Hundreds of rows would bury the summary: the PDF groups them by reason and the
        # workbook's "Not sufficient" sheet lists every case.
        grouped = (
            ns.assign(reason=ns["reason"].fillna("(no reason given)"))
            .groupby(["key_question", "reason"], as_index=False)
            .agg(cases=("crn", "size"), offices=("office", "nunique"))
            .sort_values(["key_question", "cases"], ascending=[True, False])
        )
        story.append(
            Paragraph(
                _pdf_text(
                    f"{len(ns):,} answers judged not sufficient, grouped by key question and "
                    "reason; every case, with its CRN, office, date and auditor, is listed on "
                    "the workbook's 'Not sufficient' sheet."
                ),
                small,
            )
        )
        story.append(
            table(
                ["Key question", "Reason", "Cases", "Offices"],
                [
                    [r.key_question, r.reason, f"{int(r.cases):,}", f"{int(r.offices):,}"]
                    for r in grouped.itertuples()
                ],
                [30 * mm, 180 * mm, 25 * mm, 25 * mm],
            )
        )
    if not pack.strata.empty:
        heading = (
            "Sample strata against the population"
            if pack.sample is not None
            else "Audited cases by stratum against the cases active in the period"
        )
        story.append(Paragraph(heading, styles["Heading3"]))
        cols = [c for c in ("sentence_type", "rosh_level", "gender") if c in pack.strata]
        story.append(
            table(
                [
                    *(HEADINGS[c] for c in cols),
                    "Cases (population)",
                    "% of population",
                    "Cases drawn",
                    "% of sample",
                ],
                [
                    [
                        *(words(c, getattr(r, c)) for c in cols),
                        f"{int(r.population):,}",
                        _fmt_pct(r.population_pct),
                        f"{int(r.sample):,}",
                        _fmt_pct(r.sample_pct),
                    ]
                    for r in pack.strata.itertuples()
                ],
            )
        )
    story.append(Paragraph("Scheme rules and where they come from", styles["Heading3"]))
    for sentence in pack.scheme.not_confirmed:
        story.append(Paragraph(f"<b>Not published here:</b> {_pdf_text(sentence)}", small))
    prov = provenance_table(pack.scheme)
    story.append(
        table(
            ["Rule", "Document", "Date"],
            [
                [r.rule, r.document + (f" ({r.url})" if r.url else ""), r.date]
                for r in prov.itertuples()
            ],
            [70 * mm, 150 * mm, 49 * mm],
        )
    )
    story.append(Paragraph("Method", styles["Heading3"]))
    for label, text in method_lines(pack):
        story.append(Paragraph(f"<b>{_pdf_text(label)}:</b> {_pdf_text(text)}", small))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def pack_overall_text(pack: EvidencePack) -> str:
    """The overall rating line: the rating, or why there is none."""
    if pack.overall is None and not pack.scheme.overall_bands:
        return "not given (the scheme's overall score bands are not published here)"
    return overall_text(pack.overall)


def pack_file_stem(pack: EvidencePack) -> str:
    """A file name stem such as 'evidence_pack_Kent_2026-11-23'."""
    scope = re.sub(r"[^A-Za-z0-9_-]+", "_", pack.scope_label).strip("_") or "region"
    return f"evidence_pack_{scope}_{pack.generated_at:%Y-%m-%d}"


def summary_ratings(
    counts: pd.DataFrame, scheme: Scheme, by: list[str] | None = None
) -> pd.DataFrame:
    """standard_ratings over counts (empty frame with the right columns when no counts)."""
    from dashboard.hmip.ratings import STANDARD_COLUMNS

    if counts.empty:
        return pd.DataFrame(columns=[*(by or []), *STANDARD_COLUMNS])
    return standard_ratings(counts, scheme, by=by or ())
