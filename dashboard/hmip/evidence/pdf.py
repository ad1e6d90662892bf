"""The evidence pack summary as a PDF (reportlab, A4 landscape): overall rating, ratings
table, a chart drawn with reportlab's own graphics, the weakest key questions, Domain 1
judgements, the cases judged not sufficient, strata, the scheme's rules and the method.
Values are shown as on the readiness page (``evidence.contents.shown_value``).
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from dashboard.core import display
from dashboard.core.spreadsheet_safe import neutralise
from dashboard.hmip.evidence import contents
from dashboard.hmip.ratings import Scheme, provenance_table

PDF_CASE_ROWS = 60  # more not-sufficient cases than this: the PDF groups them by reason

_PDF_TEXT = str.maketrans(
    {"−": "-", "≥": ">=", "≤": "<=", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"'}
)


def _pdf_text(value: Any) -> str:
    """Text the standard PDF fonts can show (WinAnsi), with XML specials escaped."""
    from xml.sax.saxutils import escape

    return escape(_plain_pdf(neutralise(str(value))))


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
    """Text the standard PDF fonts can show (WinAnsi), unescaped."""
    return str(value).translate(_PDF_TEXT).encode("cp1252", "replace").decode("cp1252")


def pdf_bytes(pack: contents.EvidencePack) -> bytes:
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
        shown = contents.shown_value(column, value, banded)
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
        Paragraph(
            _pdf_text(f"Overall rating: {contents.pack_overall_text(pack)}"), styles["Heading2"]
        ),
        Paragraph("Rating each standard would get", styles["Heading3"]),
    ]
    shown = contents.rating_rows(pack.ratings, scheme=pack.scheme)
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
    unrated = contents.unrated_standards(pack.ratings, pack.scheme)
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
                    *(contents.HEADINGS[c] for c in cols),
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
    for label, text in contents.method_lines(pack):
        story.append(Paragraph(f"<b>{_pdf_text(label)}:</b> {_pdf_text(text)}", small))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()

