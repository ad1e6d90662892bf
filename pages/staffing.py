"""Staffing gaps: establishment against staff in post by grade, caseload and absence."""

import streamlit as st

from dashboard.app import charts, ui
from dashboard.core.targets import target_for
from dashboard.stats.measures import add_rate
from queries import reference, staffing

f = ui.page_header(
    "staffing",
    "Staffing gaps",
    "Budgeted posts (establishment) against the staff in post on the first day of each "
    "month, by grade: probation officer (PO), probation services officer (PSO), senior "
    "probation officer (SPO) and trainee. The cards and office charts show the last month "
    "of the period; the trend shows every month. Caseload counts cases open on the first "
    "of the month per case-holding (PO and PSO) FTE in post.",
    staffing.GLOSSARY,
)
level, series = ui.trend_level(f)
if st.session_state["_scope"].may_open("caseload"):
    st.page_link("pages/caseload.py", label="Caseload and workload by team and officer",
                 icon=":material/assignment_ind:", query_params=ui.filter_query_params())
with st.spinner("Counting posts and caseloads…"):
    gaps = ui.query(staffing.gaps_by_month, f, level="office", by_grade=True)
    trend = ui.query(staffing.gaps_by_month, f, level=level, by_grade=False)
    caseload = ui.query(staffing.caseload_by_month, f, level="office")
    absence = ui.query(staffing.absence, f, level="office")
    targets = ui.query(reference.targets)

ui.stop_when_empty(gaps.empty, "establishment records")

snap = staffing.last_month(gaps)
by_office = staffing.office_snapshot(gaps, caseload, absence)
total = by_office.sum(numeric_only=True)
c = st.columns(3) + st.columns(3)
c[0].metric("Establishment (FTE)", ui.num(total["establishment_fte"], 1), border=True,
            help=f"Budgeted posts, {ui.last_month_label(f)}.")
c[1].metric("Staff in post (FTE)", ui.num(total["in_post_fte"], 1), border=True,
            help=f"{snap['staff_in_post'].sum():,} people on 1 {ui.last_month_label(f)}.")
ui.measure_card(c[2], "vacancy_rate",
                {"vacancy_rate": 100 * total["vacancy_fte"] / total["establishment_fte"],
                 "vacancy_fte": total["vacancy_fte"],
                 "establishment_fte": total["establishment_fte"]}, None,
                target_for(targets, "vacancy_rate"), "vacancy_fte", "establishment_fte")
ui.measure_card(c[3], "caseload_per_officer",
                {"caseload_per_officer": total["open_cases"] / total["case_holding_fte"],
                 "open_cases": total["open_cases"],
                 "case_holding_fte": total["case_holding_fte"]}, None,
                target_for(targets, "caseload_per_officer"), "open_cases", "case_holding_fte")
c[4].metric("Workload capacity",
            ui.pct(100 * total["workload_points"] / total["available_points"]), border=True,
            help="Weighted workload points ÷ available points. Above 110 % is excessive.")
c[5].metric("Sickness absence (days/FTE)",
            ui.num(total["working_days_lost"] / staffing.average_fte(gaps).sum(), 1),
            border=True, help=f"Working days lost in {f.period_text()} per average FTE.")

left, right = st.columns(2)
ui.chart(left, charts.bar_by_unit(
    by_office, "office", "vacancy_rate", f"Vacancy rate by office, {ui.last_month_label(f)}",
    "Vacancy rate (%)", hover={"vacancy_fte": "Vacant FTE", "establishment_fte":
                               "Establishment FTE", "in_post_fte": "In post FTE"},
    target=target_for(targets, "vacancy_rate").green_from), key="vac_bar")
ui.chart(right, charts.bar_by_unit(
    by_office, "office", "caseload_per_officer",
    f"Caseload per officer by office, {ui.last_month_label(f)}", "Cases per FTE",
    hover={"open_cases": "Open cases", "case_holding_fte": "PO + PSO FTE in post"},
    target=target_for(targets, "caseload_per_officer").green_from), key="case_bar")

grade = snap.groupby("grade", as_index=False)[["establishment_fte", "in_post_fte",
                                               "vacancy_fte"]].sum()
ui.chart(left, charts.grouped_bars(
    grade, "grade", [("establishment_fte", "Establishment"), ("in_post_fte", "In post")],
    f"Establishment and staff in post by grade, {ui.last_month_label(f)}", "FTE",
    hover={"vacancy_fte": "Vacant FTE"}), key="grade_bar")
trend = add_rate(trend, "vacancy_fte", "establishment_fte", "vacancy_rate", interval=False)
ui.chart(right, charts.trend(
    trend, "vacancy_rate", "Vacancy rate by month", "Vacancy rate (%)", series=series,
    hover={"vacancy_fte": "Vacant FTE", "establishment_fte": "Establishment FTE"},
    target=target_for(targets, "vacancy_rate").green_from), key="vac_trend")

st.subheader(f"By office and grade, {ui.last_month_label(f)}")
ui.table_with_download(snap.drop(columns=["office_code", "month"]), ui.file_stem("staffing", f), {
    "establishment_fte": st.column_config.NumberColumn("Establishment (FTE)", format="%.1f"),
    "in_post_fte": st.column_config.NumberColumn("In post (FTE)", format="%.1f"),
    "vacancy_fte": st.column_config.NumberColumn("Vacant (FTE)", format="%.1f"),
    "staff_in_post": st.column_config.NumberColumn("Staff in post (people)"),
    "vacancy_rate": ui.percent_column("Vacancy rate"),
})
