"""Through the Gate: resettlement work done in time for people leaving prison."""

import streamlit as st

from dashboard.app import cards, charts, ui
from dashboard.core.targets import target_for
from queries import gate, reference

MEASURES = gate.MEASURES
f = ui.page_header(
    "gate",
    "Through the Gate",
    "People released from custody in the period, and whether their resettlement work was "
    "done in time: screening within 5 working days of reception into prison, a resettlement "
    "plan finished by the release date, contact starting 12 weeks before release (only "
    "counted for people in custody at least 12 weeks), somewhere to live on the day of "
    "release, and the first probation appointment kept.",
    gate.GLOSSARY,
)
level, series = ui.trend_level(f)
with st.spinner("Checking releases…"):
    offices = ui.query(gate.coverage_rates, f, level="office")
    monthly = ui.query(gate.coverage_rates, f, level=level, by_month=True)
    targets = ui.query(reference.targets)

ui.stop_when_empty(offices.empty or offices["releases"].sum() == 0, "releases from custody")

t = offices.sum(numeric_only=True)

c = st.columns(3) + st.columns(3)
c[0].metric("Releases", ui.num(t["releases"]), border=True,
            help=f"People released from custody in {f.period_text()}.")
cards.rate_cards(c[1:], list(MEASURES), t, targets)

choice = st.segmented_control(
    "Measure for the charts", [m for m, _n, _d in MEASURES], default=MEASURES[1][0],
    format_func=lambda k: ui.MEASURES[k].name, key="gate_measure")
key, num, den = next(m for m in MEASURES if m[0] == (choice or MEASURES[1][0]))
name = ui.MEASURES[key].name
left, right = st.columns(2)
ui.chart(left, charts.bar_by_unit(
    offices, "office", key, f"{name} by office (95 % interval)", f"{name} (%)",
    hover={num: "Numerator", den: "Denominator"}, interval=(f"{key}_low", f"{key}_high"),
    target=target_for(targets, key).green_from), key="gate_bar")
ui.chart(right, charts.trend(
    monthly, key, f"{name} by month", f"{name} (%)", series=series,
    hover={num: "Numerator", den: "Denominator"}, target=target_for(targets, key).green_from),
    key="gate_trend")

ui.chart(st, charts.stacked_bars(
    offices, "office", [("settled", "Settled", "#009E73"), ("temporary", "Temporary", "#E69F00"),
                        ("no_fixed_abode", "No fixed abode", "#D55E00")],
    "Accommodation on the day of release (% of releases with accommodation recorded)",
    "% of releases", percent=True), key="accommodation")

st.subheader("By office")
table = offices[["area", "office", "releases", "screened_in_5_days", "ttg_screened_in_5_days",
                 "plan_before_release", "ttg_plan_before_release", "custody_12_weeks",
                 "contact_12_weeks", "ttg_contact_12_weeks", "accommodation_known", "settled",
                 "temporary", "no_fixed_abode", "ttg_housed_on_release",
                 "first_appointment_due", "first_appointment_kept",
                 "ttg_first_appointment_kept"]]
ui.table_with_download(table, ui.file_stem("through_the_gate", f), {
    k: ui.percent_column(f"% {ui.MEASURES[k].name.lower()}") for k, _n, _d in MEASURES})
