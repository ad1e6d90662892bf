"""Data quality and freshness: how recent each table is, what is missing, and which records
break rules across tables, so leaders know how far to trust each number."""

import pandas as pd
import streamlit as st

from dashboard.app import tables, ui
from queries import data_quality

f = ui.page_header(
    "data_quality",
    "Data quality",
    "**Freshness** lists every table: how many rows it holds, its latest date, and its last "
    "import (file, who, outcome, rows rejected). **Missing values** counts blanks in the "
    "fields the measures are built from, over the records in the chosen period and offices "
    "(people open at any time in the period; releases by release date). A measure whose "
    "field is often blank is less trustworthy: a blank screening date counts as not "
    "screened in time. **Checks across tables** counts records that break a rule linking "
    "two tables, such as a release on a case that is not a licence. Counts only: no "
    "person is named here. Rows that break a rule at import (a release for an unknown "
    "case, an audit of an unknown case) are rejected then, and counted under 'Rejected at "
    "last import'.",
    [],
)
with st.spinner("Checking the data…"):
    sizes = ui.query(data_quality.table_sizes)  # cached: rows change only with data_version
    with ui.engine().connect() as conn:  # uncached: a rejected import bumps no data_version
        fresh = data_quality.table_freshness(conn, sizes)
    missing = ui.query(data_quality.missing_values, f)
    checks = ui.query(data_quality.cross_checks, f)

as_of = pd.Timestamp(ui.facts()["data_as_of"])
worst_missing = missing["missing_pct"].max() if not missing.empty else None
failing = int(checks["failing"].sum()) if not checks.empty else 0
behind = fresh.dropna(subset=["latest_date"])
behind = behind[pd.to_datetime(behind["latest_date"]) < as_of - pd.Timedelta(days=31)]
c = st.columns(3)
c[0].metric("Tables more than a month behind", ui.num(len(behind)), border=True,
            help="Tables whose latest date is over 31 days before the data-as-of date "
            f"({as_of:%d %b %Y}).")
c[1].metric("Worst share of blanks in a key field", ui.pct(worst_missing, 1), border=True,
            help="The highest % missing among the key fields below, in this period.")
c[2].metric("Records failing a cross-table check", ui.num(failing), border=True,
            help="Sum over the checks below, in this period and these offices.")

st.subheader("Freshness and last import")
if not behind.empty:
    st.warning("Behind the rest of the data: " + ", ".join(behind["title"]) + ".",
               icon=":material/schedule:")
tables.readable_table(fresh.fillna({"last_import_status": "Not imported yet"}), "data_freshness", {
    "table": None,  # the extract's name, in the CSV; "What it holds" says it in words
    "title": st.column_config.TextColumn("What it holds", pinned=True),
    "rows": st.column_config.NumberColumn("Rows", format="localized"),
    "latest_date": st.column_config.TextColumn("Latest date"),
    "last_import_at": st.column_config.TextColumn("Last import"),
    "last_import_file": st.column_config.TextColumn("File"),
    "last_import_user": st.column_config.TextColumn("By"),
    "last_import_status": st.column_config.TextColumn("Outcome"),
    "last_import_rejected": st.column_config.TextColumn("Rejected at last import"),
    "last_success_at": st.column_config.TextColumn("Last loaded"),
}, key="fresh_download", with_time=("last_import_at", "last_success_at"))

st.subheader("Missing values in key fields")
if missing["records"].sum() == 0:
    ui.empty_state("people, releases or audits")
else:
    ui.table_with_download(missing, ui.file_stem("missing_values", f), {
        "table": None,  # the extract's table and column names stay in the CSV
        "field": None,
        "field_label": st.column_config.TextColumn("Field", pinned=True),
        "used_for": st.column_config.TextColumn("Used for"),
        "records": st.column_config.NumberColumn("Records", format="localized"),
        "missing": st.column_config.NumberColumn("Missing", format="localized"),
        "missing_pct": ui.percent_column("% missing"),
    }, key="missing_download")

st.subheader("Checks across tables")
ui.table_with_download(checks, ui.file_stem("cross_checks", f), {
    "check": None,
    "table": None,  # the extract's name, in the CSV; the rule says it in words
    "description": st.column_config.TextColumn("Rule broken", width="large"),
    "checked": st.column_config.NumberColumn("Records checked", format="localized"),
    "failing": st.column_config.NumberColumn("Failing", format="localized"),
    "failing_pct": ui.percent_column("% failing"),
}, key="checks_download")
