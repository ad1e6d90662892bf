"""Entry point: page set-up, database check, shared filters, navigation over pages/."""

from __future__ import annotations

import logging

import streamlit as st

from dashboard import ui
from queries import reference

st.set_page_config(page_title="Probation performance – KSS", page_icon=":material/monitoring:", layout="wide")
logging.basicConfig(level=logging.INFO)

PAGES = {
    "Leadership": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview",
                default=True),
    ],
    "Measures": [
        st.Page("pages/staffing.py", title="Staffing gaps", icon=":material/groups:", url_path="staffing"),
        st.Page("pages/quality.py", title="Case quality", icon=":material/fact_check:", url_path="quality"),
        st.Page("pages/payback.py", title="Unpaid work", icon=":material/construction:", url_path="payback"),
        st.Page("pages/gate.py", title="Through the Gate", icon=":material/door_open:", url_path="gate"),
    ],
}


def main() -> None:
    try:
        ui.ensure_database()
        with ui.engine().connect() as conn:
            offices = reference.offices(conn)
        if ui.facts().get("mode") == "demo":
            st.sidebar.warning("DEMO DATA: synthetic cases, not real people.", icon=":material/science:")
        st.session_state["_filters"] = ui.filter_sidebar(offices)
    except Exception:  # never show a traceback or SQL to the user
        logging.getLogger("dashboard").exception("start-up failed")
        st.error("The dashboard could not reach its database. The error has been logged; "
                 "please tell the service desk.")
        st.stop()
    page = st.navigation(PAGES)
    try:
        page.run()
    except Exception:
        logging.getLogger("dashboard").exception("page %s failed", page.title)
        st.error("Something went wrong drawing this page. The error has been logged; try "
                 "another filter or reload.")


main()
