"""Overview for the chief executive: headline figures against target, change on the
previous period, and the offices with most measures off target."""

import pandas as pd
import streamlit as st

from dashboard.app import ui
from dashboard.core import display
from dashboard.core.glossary import MEASURES
from dashboard.core.plain_text import plain
from dashboard.core.targets import RAG_LABEL, rag, target_for
from queries import flags, overview, reference

HEADLINE = [
    ("vacancy_rate", "vacancy_fte", "establishment_fte"),
    ("caseload_per_officer", "open_cases", "case_holding_fte"),
    ("pct_sufficient", "sufficient", "applicable"),
    ("upw_completed_in_12_months", "completed_in_12_months", "due_12_months"),
    ("ttg_plan_before_release", "plan_before_release", "releases"),
    ("ttg_housed_on_release", "housed", "accommodation_known"),
    ("appointments_kept", "kept", "appointments"),
    ("hours_outstanding", None, None),
]
OFFICE_COLUMNS = [k for k, _n, _d in HEADLINE if k in overview.RATES]

f = ui.page_header(
    "overview",
    "Overview",
    "Headline figures for the selected area or office and period, each against its "
    "target (status shown as text and symbol), with the change on the previous period of "
    "the same length. Staffing figures are a snapshot on the first day of the period's "
    "last month; the others count events in the whole period. Hover over a figure for its "
    "numerator and denominator. The table below ranks offices by how many measures are "
    "off target (Red).",
    [k for k, _n, _d in HEADLINE],
)

with st.spinner("Calculating headline figures…"):
    current = ui.query(overview.measure_frame, f, level="region").iloc[0]
    previous = ui.query(overview.measure_frame, f.previous(), level="region").iloc[0]
    by_office = ui.query(overview.measure_frame, f, level="office")
    targets = ui.query(reference.targets)

statuses = {}
for row_start in (0, 4):
    cols = st.columns(4)
    for col, (key, num, den) in zip(cols, HEADLINE[row_start:row_start + 4], strict=True):
        statuses[key] = ui.measure_card(col, key, current, previous,
                                        target_for(targets, key), num, den)

off = [MEASURES[k].label for k, s in statuses.items() if s == "Red"]
if off:
    st.error("Off target (Red): " + "; ".join(off) + ".", icon=":material/flag:")
elif all(s == "Green" for k, s in statuses.items() if k in overview.RATES):
    st.success("Every headline measure is on target.", icon=":material/check_circle:")

st.subheader(f"Offices, worst first ({len(by_office)} office"
             f"{'' if len(by_office) == 1 else 's'})")
if by_office.empty:
    ui.empty_state("offices")
else:
    rows = []
    for _, office in by_office.iterrows():
        row = {"Office": office["office"], "Area": office["area"]}
        reds = []
        for key in OFFICE_COLUMNS:
            value, target = office[key], target_for(targets, key)
            status = rag(None if ui.is_missing(value) else float(value), target)
            row[MEASURES[key].name] = display.shown(value, display.rag_judge(target), 1)
            row[MEASURES[key].name + " status"] = RAG_LABEL[status].split(" (")[0]
            if status == "Red":
                reds.append(MEASURES[key].name)
        row["Measures off target"] = len(reds)
        row["Which"] = ", ".join(reds) or "none"
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["Measures off target", "Office"],
                                            ascending=[False, True])
    config = {MEASURES[k].name: ui.judged_column(MEASURES[k].name, MEASURES[k].definition(),
                                                 MEASURES[k].unit) for k in OFFICE_COLUMNS}
    ui.table_with_download(table, ui.file_stem("overview_offices", f), config)

st.subheader(f"Special-cause flags in {ui.last_month_label(f)}, worst first")
current_flags = ui.query(flags.current_flags, f)
if current_flags.empty:
    st.success(f"No office shows special-cause variation in {ui.last_month_label(f)} "
               "(each office's control chart covers the 12 months to then).",
               icon=":material/check_circle:")
else:
    st.markdown("\n".join(f"- {plain(line)}" for line in flags.describe_all(current_flags)))
    if st.session_state["_scope"].may_open("compare"):
        top = current_flags.iloc[0]
        st.page_link("pages/compare.py", label="See the control charts",
                     icon=":material/monitoring:", query_params=ui.filter_query_params()
                     | {"measure": top["measure"], "spc": top["office_code"]})
