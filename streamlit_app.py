"""Entry point: database check, sign-in, shared filters, navigation by role over pages/."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard.app import accessibility, ui, ui_auth
from dashboard.core.labels import ROLE_LABELS
from dashboard.core.plain_text import plain
from queries import reference

st.set_page_config(page_title="Probation performance – KSS", page_icon=":material/monitoring:",
                   layout="wide")
logging.basicConfig(level=logging.INFO)
HERE = Path(__file__).parent

# page key -> (section, title, icon); the file is pages/<key>.py. A page appears only for
# roles whose scope opens it (dashboard.access.scope.ROLE_PAGES), so other URLs cannot reach it.
PAGES = {
    "overview": ("Leadership", "Overview", ":material/dashboard:"),
    "compare": ("Leadership", "Compare offices", ":material/leaderboard:"),
    "staffing": ("Measures", "Staffing gaps", ":material/groups:"),
    "quality": ("Measures", "Case quality", ":material/fact_check:"),
    "payback": ("Measures", "Unpaid work", ":material/construction:"),
    "gate": ("Measures", "Through the Gate", ":material/door_open:"),
    "cases": ("Cases", "Cases behind the figures", ":material/folder_shared:"),
    "caseload": ("Cases", "Caseload by team and officer", ":material/assignment_ind:"),
    "readiness": ("Inspection", "Inspection readiness", ":material/verified:"),
    "sample": ("Inspection", "Draw a case sample", ":material/casino:"),
    "audit": ("Inspection", "Record case audits", ":material/edit_note:"),
    "data_quality": ("Data", "Data quality", ":material/rule:"),
    "admin_import": ("Admin", "Import extracts", ":material/upload_file:"),
    "admin_users": ("Admin", "Users", ":material/manage_accounts:"),
    "admin_targets": ("Admin", "Targets", ":material/flag:"),
    "admin_log": ("Admin", "Audit log", ":material/history:"),
}


def navigation(scope) -> dict[str, list]:
    sections: dict[str, list[st.Page]] = {}
    first = True
    for key, (section, title, icon) in PAGES.items():
        path = HERE / "pages" / f"{key}.py"
        if not scope.may_open(key) or not path.exists():
            continue
        sections.setdefault(section, []).append(
            st.Page(str(path.relative_to(HERE)), title=title, icon=icon, url_path=key,
                    default=first))
        first = False
    return sections


def sidebar_account(user) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{plain(user.display_name)}** · "
                   f"{ROLE_LABELS.get(user.role, '')}")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            ui_auth.sign_out()
            st.rerun()


def main() -> None:
    accessibility.accessibility_css()
    try:
        ui.ensure_database()
        signed_in = ui_auth.current()
    except Exception as exc:  # never show a traceback or SQL to the user
        if not ui.busy_notice(exc):
            logging.getLogger("dashboard").exception("start-up failed")
            st.error("The dashboard could not reach its database. The error has been "
                     "logged; please tell the service desk.")
        st.stop()
    if signed_in is None:
        ui_auth.login_screen()
    user, scope = signed_in
    # made before the filters so the links sit on top; not before sign-in (no empty sidebar)
    nav_box = st.sidebar.container(key=accessibility.NAV_KEY)
    st.session_state["_scope"] = scope
    try:
        offices = ui.query(reference.offices)  # cached; an import changes data_version
        if ui.facts().get("mode") == "demo":
            st.sidebar.warning("DEMO DATA: synthetic cases, not real people.",
                               icon=":material/science:")
        st.session_state["_filters"] = ui.filter_sidebar(
            offices, home=ui_auth.home_area(scope, offices))
        sidebar_account(user)
    except Exception as exc:
        if not ui.busy_notice(exc):
            logging.getLogger("dashboard").exception("filters failed")
            st.error("The dashboard could not load its filters. The error has been logged.")
        st.stop()
    sections = navigation(scope)
    page = st.navigation(sections, position="hidden")  # routing only: see site_navigation
    accessibility.site_navigation(nav_box, sections)
    requested = ui_auth.take_requested_page()
    if requested and requested[0]:  # a deep link opened before signing in: go there now
        target = next((p for ps in sections.values() for p in ps
                       if p.url_path == requested[0]), None)
        if target is not None and target.url_path != page.url_path:
            st.switch_page(target, query_params=requested[1])
    try:
        page.run()
    except Exception as exc:
        if not ui.busy_notice(exc):
            logging.getLogger("dashboard").exception("page %s failed", page.title)
            st.error("Something went wrong drawing this page. The error has been logged; "
                     "try another filter or reload.")


main()
