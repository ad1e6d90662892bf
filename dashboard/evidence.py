"""The inspection readiness summary and its evidence pack (an .xlsx workbook and a PDF).

Pure: DataFrames in, bytes out; no Streamlit, no database, no browser. The workbook is
written with xlsxwriter (a sheet per standard with its key questions and every answer, the
sample and its strata, the method); the PDF with reportlab (ratings table, a chart drawn
with reportlab's own graphics, the strata, the method note). Both carry the same figures
as the readiness page, rounded the same way (dashboard.display: one decimal place, more
where one would round a % sufficient across the band it is rated in).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard import display
from dashboard.ratings import (
    OverallRating,
    Scheme,
    SchemeIncomplete,
    overall_rating,
    sample_size_formula_text,
    standard_ratings,
)
from dashboard.stats import wilson_interval

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
            "with standards missing the total is pro-rated and marked provisional.",
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


def _cells(series: pd.Series) -> list[Any]:
    """A column as cell values: numbers stay numbers, dates become ISO text, missing
    values None (a blank cell), everything else text. Decided once per column."""
    if pd.api.types.is_bool_dtype(series):
        return [None if pd.isna(v) else str(bool(v)) for v in series]
    if pd.api.types.is_numeric_dtype(series):
        return [None if pd.isna(v) else float(v) for v in series]
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.isoformat()[:19] for v in series]
    out: list[Any] = []
    for v in series:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, bool):
            out.append(str(v))
        elif isinstance(v, int | float):
            out.append(float(v))
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat()[:19])
        else:
            out.append(str(v))
    return out


def _write_table(
    ws: Any, df: pd.DataFrame, row: int, fmt: dict[str, Any], headings: dict[str, str] | None = None
) -> int:
    """Write df at row with a bold header; returns the next free row. Percent columns
    (pct_*, ci_*) get one decimal place."""
    headings = headings or {}
    # Column formats are per sheet column: keep one a table above set (several tables
    # share a sheet), so its percentages keep their one decimal place.
    formatted: set[int] = ws.__dict__.setdefault("_pct_columns", set())
    for j, col in enumerate(df.columns):
        title = str(headings.get(col, col))
        ws.write(row, j, title, fmt["head"])
        if "pct" in str(col) or str(col).startswith("ci_"):
            formatted.add(j)
            ws.set_column(j, j, max(12, min(60, len(title) + 2)), fmt["pct"])
        elif j not in formatted:
            ws.set_column(j, j, max(12, min(60, len(title) + 2)))
    columns = [_cells(df[c]) for c in df.columns]
    for i, values in enumerate(zip(*columns, strict=True), start=row + 1):
        ws.write_row(i, 0, values)
    return row + len(df) + 2


def workbook_bytes(pack: EvidencePack) -> bytes:
    """The evidence pack workbook (.xlsx): Summary (ratings, overall, judgements), a sheet
    per standard (key questions, then every answer), Offices, Sample, Strata, Method."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    fmt = {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        # at least one decimal, and the further ones display.shown kept near a band edge
        "pct": wb.add_format({"num_format": "0.0#####"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    used: set[str] = set()

    ws = wb.add_worksheet(_sheet_name("Summary", used))
    ws.write(0, 0, pack.title, fmt["title"])
    ws.write(1, 0, f"Evidence: {pack.basis_label}")
    ws.write(2, 0, f"Scheme: {pack.scheme.title}")
    ws.write(3, 0, f"Overall: {overall_text(pack.overall)}")
    ws.write(4, 0, f"Generated {pack.generated_at:%d %b %Y %H:%M} UTC by {pack.generated_by}")
    row = _write_table(ws, rating_rows(pack.ratings, scheme=pack.scheme), 6, fmt,
                       RATING_TABLE)
    if not pack.judgements.empty:
        ws.write(row, 0, "Domain 1 judgements (recorded from evidence)", fmt["title"])
        _write_table(
            ws,
            pack.judgements.assign(judged_at=pack.judgements["judged_at"].astype(str)),
            row + 1,
            fmt,
        )

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
        row = _write_table(ws, kq.sort_values("key_question"), 3, fmt)
        ws.write(row, 0, f"Every answer ({len(mine)})", fmt["title"])
        _write_table(ws, mine, row + 1, fmt)

    ws = wb.add_worksheet(_sheet_name("Offices", used))
    keep = tuple(c for c in ("area", "office") if c in pack.office_ratings.columns)
    _write_table(
        ws,
        rating_rows(pack.office_ratings, keep, pack.scheme),
        0,
        fmt,
        {"area": "Area", "office": "Office", **RATING_TABLE},
    )
    if pack.sample is not None:
        ws = wb.add_worksheet(_sheet_name("Sample", used))
        _write_table(ws, pack.sample, 0, fmt)
    ws = wb.add_worksheet(_sheet_name("Strata", used))
    _write_table(ws, pack.strata, 0, fmt)
    ws = wb.add_worksheet(_sheet_name("Method", used))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 110)
    for i, (label, text) in enumerate(method_lines(pack)):
        ws.write(i, 0, label, fmt["head"])
        ws.write(i, 1, text, fmt["wrap"])
    wb.close()
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------

_PDF_TEXT = str.maketrans(
    {"−": "-", "≥": ">=", "≤": "<=", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"'}
)


def _pdf_text(value: Any) -> str:
    """Text the standard PDF fonts can show (WinAnsi), with XML specials escaped."""
    from xml.sax.saxutils import escape

    text = str(value).translate(_PDF_TEXT)
    text = text.encode("cp1252", "replace").decode("cp1252")
    return escape(text)


def _fmt_pct(value: Any, judge: display.Judge | None = None) -> str:
    # one decimal, more where judge (the rating bands) would otherwise see another band
    return display.text(value, judge, 1, "%")


def _chart(key_questions: pd.DataFrame, scheme: Scheme) -> Any:
    """Horizontal bars: % sufficient per key question, with the band thresholds."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, Line, String
    from reportlab.lib import colors

    df = key_questions.dropna(subset=["pct_sufficient"]).sort_values(
        "key_question", ascending=False
    )
    height = 40 + 16 * max(len(df), 1)
    drawing = Drawing(460, height + 40)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 70, 20, 370, height - 20
    banded = display.rating_judge(scheme)
    chart.data = [[display.shown(v, banded, 1) for v in df["pct_sufficient"]] or [0]]
    chart.categoryAxis.categoryNames = [str(c) for c in df["key_question"]] or [""]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 10
    chart.bars[0].fillColor = colors.HexColor("#0072B2")
    chart.barLabelFormat = lambda v: display.text(v, banded, 1)
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.barLabels.fontSize = 6
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    drawing.add(chart)
    bands = sorted(
        (b for b in scheme.standard_bands or () if b.min_pct > 0), key=lambda b: b.min_pct
    )
    for i, band in enumerate(bands):
        x = chart.x + chart.width * band.min_pct / 100
        drawing.add(
            Line(
                x,
                chart.y,
                x,
                chart.y + chart.height,
                strokeColor=colors.grey,
                strokeDashArray=[2, 2],
            )
        )
        # stagger the labels: neighbouring thresholds (50, 65) are too close for one line
        drawing.add(
            String(
                x + 2,
                chart.y + chart.height + 3 + 8 * (i % 2),
                f"{band.rating} from {band.min_pct:g} %",
                fontSize=6,
                fillColor=colors.grey,
            )
        )
    drawing.add(
        String(0, height + 28, "% sufficient by key question (cases where it applies)", fontSize=9)
    )
    return drawing


def pdf_bytes(pack: EvidencePack) -> bytes:
    """The evidence pack summary (PDF, A4): overall, ratings table, chart, weakest key
    questions, judgements, strata and the method note."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
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
        data = [[Paragraph(_pdf_text(h), small) for h in header]] + [
            [Paragraph(_pdf_text(v), small) for v in r] for r in rows
        ]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

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
        Paragraph(_pdf_text(f"Overall rating: {overall_text(pack.overall)}"), styles["Heading2"]),
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
                "n",
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
            [70 * mm, 35 * mm, 30 * mm, 25 * mm, 40 * mm, 15 * mm, 35 * mm],
        )
    )
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
            ["Key question", "Sufficient", "Applies", "% sufficient", "95 % CI"],
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
            [90 * mm, 25 * mm, 25 * mm, 30 * mm, 45 * mm],
        )
    )
    if not pack.judgements.empty:
        story.append(Paragraph("Domain 1 judgements", styles["Heading3"]))
        story.append(
            table(
                ["Standard", "Rating", "Notes", "Evidence", "Judged by"],
                [
                    [r.standard, r.rating, r.notes, r.evidence_link or "–", r.judged_by]
                    for r in pack.judgements.itertuples()
                ],
                [20 * mm, 35 * mm, 120 * mm, 60 * mm, 30 * mm],
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
                    *(c.replace("_", " ").capitalize() for c in cols),
                    "Population",
                    "% of population",
                    "Sample",
                    "% of sample",
                ],
                [
                    [
                        *(str(getattr(r, c)).replace("_", " ") for c in cols),
                        f"{int(r.population):,}",
                        _fmt_pct(r.population_pct),
                        f"{int(r.sample):,}",
                        _fmt_pct(r.sample_pct),
                    ]
                    for r in pack.strata.itertuples()
                ],
            )
        )
    story.append(Paragraph("Method", styles["Heading3"]))
    for label, text in method_lines(pack):
        story.append(Paragraph(f"<b>{_pdf_text(label)}:</b> {_pdf_text(text)}", small))
    doc.build(story)
    return buffer.getvalue()


def pack_file_stem(pack: EvidencePack) -> str:
    """A file name stem such as 'evidence_pack_Kent_2026-11-23'."""
    scope = re.sub(r"[^A-Za-z0-9_-]+", "_", pack.scope_label).strip("_") or "region"
    return f"evidence_pack_{scope}_{pack.generated_at:%Y-%m-%d}"


def summary_ratings(
    counts: pd.DataFrame, scheme: Scheme, by: list[str] | None = None
) -> pd.DataFrame:
    """standard_ratings over counts (empty frame with the right columns when no counts)."""
    from dashboard.ratings import STANDARD_COLUMNS

    if counts.empty:
        return pd.DataFrame(columns=[*(by or []), *STANDARD_COLUMNS])
    return standard_ratings(counts, scheme, by=by or ())
