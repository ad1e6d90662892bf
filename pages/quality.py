"""Case quality sample scores: % sufficient per HMIP key question and the rating it earns."""

import streamlit as st

from dashboard.app import cards, charts, ui
from dashboard.core import display
from dashboard.core.targets import target_for
from dashboard.hmip import ratings
from queries import quality, reference

SCHEME_ID = "crc_2018"
scheme = ratings.load_scheme(SCHEME_ID)
f = ui.page_header(
    "quality",
    "Case quality",
    "Completed internal case audits in the period, judged against HM Inspectorate of "
    "Probation key questions. Each key question's % sufficient counts only the cases where "
    "it applies, and carries a Wilson 95 % interval: the range the true figure probably "
    "lies in, given how many cases were audited. A standard's rating follows from its "
    f"**lowest** key question (≥ 80 % Outstanding, 65–79 % Good, 50–64 % Requires "
    f"improvement, < 50 % Inadequate). Ratings use the scheme *{scheme.title}*.",
    quality.GLOSSARY,
)
level, series = ui.trend_level(f)
with st.spinner("Scoring audits…"):
    counts = ui.query(quality.key_question_counts, f, level="region", scheme=SCHEME_ID)
    by_office = ui.query(quality.key_question_counts, f, level="office", scheme=SCHEME_ID)
    monthly = ui.query(quality.key_question_counts, f, level=level, by_month=True,
                       scheme=SCHEME_ID)
    audited = ui.query(quality.cases_audited, f, scheme=SCHEME_ID).iloc[0]
    standards = ui.query(quality.standard_ratings, f, level="region", scheme=SCHEME_ID)
    office_ratings = ui.query(quality.standard_ratings, f, level="office", scheme=SCHEME_ID)
    targets = ui.query(reference.targets)

ui.stop_when_empty(counts.empty, "completed case audits")

total = counts[["sufficient", "applicable"]].sum()
c = st.columns(4)
ui.measure_card(c[0], "pct_sufficient",
                {"pct_sufficient": 100 * total["sufficient"] / total["applicable"],
                 "sufficient": total["sufficient"], "applicable": total["applicable"]},
                None, target_for(targets, "pct_sufficient"), "sufficient", "applicable")
c[1].metric("Cases audited", ui.num(audited["cases_audited"]), border=True,
            help=f"Distinct cases with a completed audit dated in {f.period_text()}: "
                 f"{audited['audits']:,} audits of {audited['cases_audited']:,} cases (a case "
                 "audited twice counts once here, twice in the key-question figures).")
worst = standards.sort_values("pct_sufficient").iloc[0]
c[2].metric("Weakest standard", worst["standard"], border=True, help=worst["statement"])
c[2].caption(worst["standard_name"])
c[3].metric("Its rating", worst["rating"], border=True,
            help=f"Lowest key question {worst['lowest_key_question']}: "
                 f"{worst['sufficient']:,} of {worst['applicable']:,} sufficient.")

st.subheader("Rating each case standard would get")
st.caption(f"Scheme: {scheme.title}. Sample: {audited['cases_audited']:,} cases audited "
           f"({audited['audits']:,} audits).")
cards.rating_lines(standards["statement"], standards["rating"])

kq = quality.key_question_rates(counts, scheme)
left, right = st.columns(2)
fig = charts.bar_by_unit(kq, "question", "pct", "% sufficient by key question (95 % interval)",
                         "% sufficient", hover={"sufficient": "Sufficient",
                                                "applicable": "Audits where it applies"},
                         colour_by="standard", interval=("pct_low", "pct_high"),
                         judge=display.rating_judge(scheme), edges=(50, 65, 80))
ui.chart(left, fig, key="kq_bar")

offices = quality.office_rates(by_office)
ui.chart(right, charts.bar_by_unit(
    offices, "office", "pct", "% sufficient by office, all key questions (95 % interval)",
    "% sufficient", hover={"sufficient": "Sufficient", "applicable": "Judgements"},
    interval=("pct_low", "pct_high"), target=target_for(targets, "pct_sufficient").green_from),
    key="office_bar")

trend = quality.monthly_rates(monthly, series)
ui.chart(st, charts.trend(trend, "pct", "% sufficient by month, all key questions",
                             "% sufficient", series=series,
                             hover={"sufficient": "Sufficient", "applicable": "Judgements"},
                             target=target_for(targets, "pct_sufficient").green_from),
                key="quality_trend")

st.subheader("Ratings by office and standard")
shown = office_ratings[["area", "office", "standard", "standard_name", "lowest_key_question",
                        "sufficient", "applicable", "pct_sufficient", "ci_low", "ci_high",
                        "rating", "p_at_least_good"]].copy()
shown["p_at_least_good"] = 100 * shown["p_at_least_good"]
shown["pct_sufficient"] = display.shown_column(shown["pct_sufficient"],
                                               display.rating_judge(scheme), 1)
ui.table_with_download(shown, ui.file_stem("case_quality", f), {
    "pct_sufficient": ui.judged_column("% sufficient (lowest key question)", unit=""),
    "ci_low": ui.percent_column("95 % CI low"), "ci_high": ui.percent_column("95 % CI high"),
    "applicable": st.column_config.NumberColumn("Audits where it applies"),
    "p_at_least_good": ui.percent_column("Chance Good or better"),
})
