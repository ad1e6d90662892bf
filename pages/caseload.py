"""Caseload and workload by team and officer (the WMT's drill order), down to one
officer's cases: person-level rows within the user's scope, audited."""

import streamlit as st

from dashboard.app import tables, ui, ui_auth
from queries import caseload

f = ui.page_header(
    "caseload",
    "Caseload by team and officer",
    "Cases open on the first day of the period's last month, counted where each case was "
    "allocated that day (office, team and responsible officer, from the allocation "
    "history), so a transfer moves a case from its date on and earlier months stay as "
    "they were. Drill from the area to the office, the team and the officer; choose an "
    "officer to see their cases. Capacity is the PO and PSO FTE in post that day; "
    "workload capacity is tier-weighted points against 700 points per FTE. Cases whose "
    "officer has left wait for reallocation and are marked.",
    caseload.GLOSSARY,
)
scope = ui.require_page("caseload")
day = caseload.snapshot_day(f)
level = st.segmented_control("Drill down to", caseload.DRILL_LEVELS, default="team",
                             key="caseload_level", format_func=str.capitalize) or "team"
with st.spinner("Counting caseloads…"):
    rows = ui.query(caseload.caseload, f, level=level)
ui.stop_when_empty(rows.empty, "open cases")

total = rows[["open_cases", "workload_points", "case_holding_fte", "available_points"]].sum()
c = st.columns(3)
c[0].metric("Open cases", f"{int(total['open_cases']):,}", border=True,
            help=f"Cases open on {day:%d %b %Y}.")
c[1].metric("Caseload per officer",
            ui.num(total["open_cases"] / total["case_holding_fte"], 1), border=True,
            help=f"{int(total['open_cases']):,} cases ÷ {total['case_holding_fte']:.1f} "
                 "PO and PSO FTE in post.")
c[2].metric("Workload capacity",
            ui.pct(100 * total["workload_points"] / total["available_points"]), border=True,
            help="Weighted workload points ÷ available points. Above 110 % is excessive.")

rows = caseload.with_rates(rows)
shown = rows.drop(columns=[c for c in ("office_code", "team_code", "officer_id")
                           if c in rows])
st.subheader(f"By {level}, {day:%d %b %Y}")
ui.table_with_download(shown, ui.file_stem(f"caseload_{level}", f), {
    **{name: st.column_config.TextColumn(name.capitalize(), pinned=True)  # kept in view
       for name in caseload.DRILL_LEVELS if name in shown},
    "case_holding_fte": st.column_config.NumberColumn("PO + PSO in post (FTE)",
                                                      format="%.1f"),
    "workload_points": st.column_config.NumberColumn("Workload points", format="%.1f"),
    "available_points": st.column_config.NumberColumn("Available points", format="%.0f"),
    "caseload_per_officer": st.column_config.NumberColumn("Cases per FTE", format="%.1f"),
    "workload_capacity": ui.percent_column("Workload capacity"),
})

if level != "officer":
    st.caption("Drill down to the officer level to open one officer's cases.")
    st.stop()
officers = rows[rows["open_cases"] > 0]
labels = dict(zip(officers["officer_id"], officers["officer"] + " · " + officers["office"]
                  + " · " + officers["open_cases"].astype(str) + " cases", strict=True))
chosen = st.selectbox("Cases of one officer", list(labels), index=None,
                      format_func=labels.get, placeholder="Choose an officer",
                      key="caseload_officer")
if chosen is None:
    st.stop()
cases = ui.query(caseload.officer_cases, f, scope=scope, officer_id=int(chosen))
if cases.empty:
    st.warning("None of this officer's cases are in the offices your role covers.",
               icon=":material/lock:")
    st.stop()
cases = ui.readable_values(cases)
ui_auth.record_person_view(scope, f"caseload:officer:{labels[chosen].split(' · ')[0]}",
                           ui.filters_for_log(f), len(cases))
st.caption(f"{len(cases):,} cases of {labels[chosen].split(' · ')[0]} on {day:%d %b %Y}")
tables.readable_table(cases, ui.file_stem("caseload_officer", f), key="officer_cases",
                  pinned=("crn",))
