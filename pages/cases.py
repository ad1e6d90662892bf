"""The cases behind the figures: person-level rows within the user's scope, audited."""

import streamlit as st

from dashboard.app import tables, ui, ui_auth
from dashboard.core.plain_text import plain, quoted
from dashboard.hmip import ratings
from queries import cases

f = ui.page_header(
    "cases",
    "Cases behind the figures",
    "Pseudonymous case lists behind the headline figures, for the offices your role "
    "covers: area managers see their own area's cases; the chief executive and quality "
    "leads see every office. Every view and download is written to the audit log with "
    "your name and filters. Case reference numbers (CRN) link to the case management "
    "system; no names are held here.",
    [],
)
scope = ui.require_page("cases")
view = st.query_params.get("view", "caseload")
if view not in cases.VIEWS:
    st.warning(f"Unknown list {quoted(view, 30)} in the link; showing open cases.",
               icon=":material/warning:")
    view = "caseload"
measure = st.query_params.get("measure", "")
key_question = None
if view == "audits" and measure.startswith("kq_"):
    code = measure[3:]
    if code in {kq.code for kq in ratings.load_scheme("crc_2018").key_questions}:
        key_question = code
view = st.segmented_control("List", list(cases.VIEWS), default=view, key="cases_view",
                            format_func=lambda v: cases.VIEWS[v]) or "caseload"
st.query_params["view"] = view

with st.spinner("Finding cases…"):
    rows = ui.query(cases.case_rows, f, scope=scope, view=view,
                    key_question=key_question if view == "audits" else None)

outside = f.office_ids is not None and scope.person_office_ids is not None and not set(
    f.office_ids) & set(scope.person_office_ids)
own_offices = "your own area's offices"
if scope.person_office_ids is not None:
    names = ui.office_names(scope.person_office_ids)
    own_offices = ", ".join(map(plain, names)) if names else own_offices
if rows.empty:
    if outside:
        st.warning(f"Your role shows case lists for {own_offices} only. Choose one of them "
                   "in the sidebar.", icon=":material/lock:")
    else:
        ui.empty_state("cases")
    st.stop()

if scope.person_office_ids is not None:
    st.info(f"Limited to the offices your role covers: {own_offices}.", icon=":material/lock:")
if key_question and view == "audits":
    st.caption(f"Cases judged not sufficient on key question {key_question}.")
rows = ui.readable_values(rows)
ui_auth.record_person_view(scope, f"cases:{view}", ui.filters_for_log(f), len(rows))
capped = f" (the first {cases.LIMIT:,})" if len(rows) >= cases.LIMIT else ""
st.caption(f"{len(rows):,} rows{capped} · {cases.VIEWS[view]} · {plain(f.label)}, "
           f"{f.period_text()}")
tables.readable_table(rows, ui.file_stem(f"cases_{view}", f), pinned=("crn",))
