"""Admin: the audit log, read-only. Who did what, when, with which filters."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from dashboard.access import audit_log
from dashboard.app import ui
from dashboard.core import spreadsheet_safe

ui.require_page("admin_log")
st.title("Audit log")
st.caption("Every sign-in, view of case-level rows, export, and change to users, targets "
           "and audits. Rows are written in the same transaction as the change and cannot be "
           "edited here.")
c = st.columns(4)
username = c[0].text_input("User", max_chars=64).strip() or None
action = c[1].selectbox("Action", ["(any)", *audit_log.ACTIONS], format_func=lambda a: (
    "(any)" if a == "(any)" else audit_log.describe_action(a)))
today = datetime.now(UTC).date()
since = c[2].date_input("From", today - timedelta(days=30), max_value=today)
until = c[3].date_input("To", today, max_value=today)
if since > until:
    st.warning("'From' is after 'To'; showing nothing.", icon=":material/warning:")
    st.stop()
with ui.engine().connect() as conn:
    rows = audit_log.read_log(
        conn, username=username, action=None if action == "(any)" else action,
        since=datetime.combine(since, time.min, UTC),
        until=datetime.combine(until + timedelta(days=1), time.min, UTC), limit=5000)
ui.stop_when_empty(rows.empty, "audit log entries", "Widen the dates or clear the user and action.")
st.caption(f"{len(rows):,} entries (newest first, at most 5,000).")
shown = audit_log.readable_log(rows)
st.dataframe(shown, hide_index=True, width="stretch",
             column_config={"When (UTC)": st.column_config.TextColumn(pinned=True)})
ui.logged_download_button("Download this log (CSV)", lambda: spreadsheet_safe.csv_bytes(rows),
                          f"audit_log_{since:%Y%m%d}_{until:%Y%m%d}.csv", "text/csv",
                          rows=len(rows))
