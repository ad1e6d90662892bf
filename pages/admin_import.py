"""Admin: import case-management extracts (CSV or XLSX), see every problem before anything
is written, and the history of imports. Checking and loading are the import command
(dashboard.commands.imports), run by the background worker (dashboard.app.import_worker)."""

import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from dashboard.app import import_worker, ui
from dashboard.core.plain_text import plain
from dashboard.ingest import export_extracts, extract_formats, formats_doc
from dashboard.ingest.report import ImportReport
from dashboard.precompute import statistics
from queries import data_quality

scope = ui.require_page("admin_import")
st.title("Import extracts")
as_of = ui.facts().get("data_as_of")
st.caption(
    "Load an extract from the case-management or HR system into one table. Every row is "
    "checked first; a file with problems writes nothing unless you choose to load the valid "
    "rows and download the rejected ones. Rows are matched by their natural key, so loading "
    "the same file twice changes nothing."
    + (f" Data as of {date.fromisoformat(as_of):%d %b %Y}." if as_of else ""))

FORMATS = extract_formats.FORMATS
MODES = {"all_or_nothing": "All or nothing: any problem and nothing is written",
         "keep_valid": "Load the valid rows; download the rejected rows to correct"}
ss = st.session_state


def save_upload(upload) -> Path:
    """The upload as a temporary file named safely (letters, digits, '-', '_')."""
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    folder = Path(tempfile.mkdtemp(prefix="dashboard-upload-"))
    path = folder / (ui.safe_file_name(Path(upload.name).stem) + suffix)
    path.write_bytes(upload.getvalue())
    return path


def show_report(report: ImportReport) -> None:
    """The outcome, the counts and the problems: a summary by kind, the first rows of each
    kind, and every problem as a file when they are not all listed."""
    icon = {"succeeded": ":material/check_circle:", "valid": ":material/check_circle:",
            "partial": ":material/warning:"}.get(report.status, ":material/error:")
    text = (f"**{plain(report.file_name)}** → `{report.table}`: {report.summary()}. "
            f"{plain(report.message)}")
    if report.status in ("succeeded", "valid"):
        st.success(text, icon=icon)
    elif report.status == "partial":
        st.warning(text, icon=icon)
    else:
        st.error(text, icon=icon)
    cols = st.columns(5)
    for col, (label, value) in zip(cols, [
            ("Rows read", report.rows_read), ("Inserted", report.inserted),
            ("Updated", report.updated), ("Unchanged", report.unchanged),
            ("Rejected", report.rejected)], strict=True):
        col.metric(label, ui.num(value), border=True)
    if report.problem_count:
        shown = len(report.problems)
        st.subheader("Problems")
        st.caption(f"{report.problem_count:,} problem(s) in {report.rejected:,} row(s), of "
                   f"{len(report.problem_kinds):,} kind(s). Row numbers count the header as "
                   "row 1.")
        ui.table_with_download(report.problem_kinds, f"problem_kinds_{Path(report.file_name).stem}",
                               {"count": st.column_config.NumberColumn("Count", format="%d"),
                                "problem": st.column_config.TextColumn("Kind", width="large")},
                               key="kinds_download")
        if shown < report.problem_count:
            st.caption(f"The first rows of each kind ({shown:,} of {report.problem_count:,} "
                       "problems); the complete list is the file below.")
        ui.table_with_download(report.problems_frame(),
                               f"problems_{Path(report.file_name).stem}", {
                                   "row": st.column_config.NumberColumn("Row", format="%d"),
                                   "problem": st.column_config.TextColumn("Problem",
                                                                          width="large")},
                               key="problems_download")
        if everything := ss.get("import_problems"):
            name = f"{Path(report.file_name).stem}_all_problems.csv"
            ui.logged_download_button(f"Download all {report.problem_count:,} problems (CSV)",
                                      lambda: everything, name, "text/csv",
                                      rows=report.problem_count, key="all_problems_download")


def run(upload, table: str, mode: str, sheet: str | None, check_only: bool) -> None:
    """Hand the upload to the background import worker; the page polls its progress."""
    job = import_worker.submit(ui.engine(), save_upload(upload), table,
                               username=scope.username, keep_valid=mode == "keep_valid",
                               sheet=sheet, check_only=check_only)
    ss["import_job"] = job.job_id
    for key in ("import_failed", "import_report", "import_rejects", "import_problems"):
        ss.pop(key, None)


@st.fragment(run_every=1.0)
def job_progress() -> None:
    """The running job's progress bar, refreshed every second without rerunning the page
    (other tabs and other users' pages are not held up while the worker runs)."""
    job = import_worker.get(ss.get("import_job"))
    if job is None:
        if ss.pop("import_job", None) is not None:  # the server restarted mid-import
            ss["import_failed"] = ("The import's progress was lost when the server "
                                   "restarted; its run in the history below says how it "
                                   "ended.")
        return
    if not job.done:
        fraction, message = job.progress
        st.progress(fraction, text=f"{plain(job.file_name)}: {plain(message)}")
        return
    ss.pop("import_job", None)
    if job.failed:
        ss["import_failed"] = (f"The import of **{plain(job.file_name)}** failed and nothing "
                               f"was written: {plain(job.failed)} The run is in the history below.")
    else:
        ss["import_report"] = job.report
        ss["import_rejects"] = job.rejects
        ss["import_problems"] = job.problems
        if job.report is not None and (job.report.inserted or job.report.updated):
            statistics.catch_up(ui.engine())  # the stored statistics of the months (#16)
            st.cache_data.clear()  # new data_version: figures and "data as of" refresh
    st.rerun()


load, history, formats = st.tabs(["Import a file", "Import history", "Formats and examples"])

with load:
    table = st.selectbox("Table", list(FORMATS), key="import_table",
                         format_func=lambda t: f"{FORMATS[t].title} ({t})")
    fmt = FORMATS[table]
    st.caption(fmt.description + " Columns: " + ", ".join(
        f"**{n}**" if n in fmt.required else n for n in fmt.names)
        + " (bold: required). Load after: " + (", ".join(fmt.load_after) or "nothing") + ".")
    upload = st.file_uploader("Extract (CSV or XLSX)", type=["csv", "xlsx"],
                              key="import_file")
    sheet = None
    if upload is not None and upload.name.lower().endswith(".xlsx"):
        sheet = st.text_input("Sheet to read (blank: the sheet named after the table, or the "
                              "only sheet)", max_chars=31, key="import_sheet").strip() or None
    mode = st.radio("If some rows have problems", list(MODES), format_func=MODES.get,
                    key="import_mode")
    left, right = st.columns(2)
    check = left.button("Check the file only", icon=":material/rule:", disabled=upload is None,
                        key="import_check")
    go = right.button("Import", type="primary", icon=":material/upload:",
                      disabled=upload is None, key="import_go")
    if upload is not None and (check or go) and ss.get("import_job") is None:
        run(upload, table, mode, sheet, check_only=check)
    job_progress()
    if message := ss.get("import_failed"):
        st.error(message, icon=":material/error:")
    if (report := ss.get("import_report")) is not None:
        show_report(report)
        if rejects := ss.get("import_rejects"):
            name = f"{Path(report.file_name).stem}_rejects.csv"
            ui.logged_download_button("Download the rejected rows (CSV)", lambda: rejects,
                                      name, "text/csv", rows=report.rejected,
                                      key="rejects_download")

with history:
    with ui.engine().connect() as conn:  # not cached: a rejected run changes no data_version
        runs = data_quality.import_history(conn, limit=500)
    if runs.empty:
        ui.empty_state("imports", "Imports appear here as soon as a file is loaded.")
    else:
        st.caption(f"The latest {len(runs):,} import runs, newest first. A run is "
                   "'running' while it is checked and written; one whose process was "
                   "stopped is marked failed at the next start.")
        ui.table_with_download(runs.drop(columns=["id"]), "import_history", {
            "file_sha256": st.column_config.TextColumn("SHA-256", width="small"),
            "started_at": st.column_config.DatetimeColumn("Started", format="DD MMM YYYY HH:mm"),
            "finished_at": st.column_config.DatetimeColumn("Finished",
                                                           format="DD MMM YYYY HH:mm"),
        }, key="history_download")

with formats:
    st.markdown("Load the tables in this order: " + " → ".join(
        f"`{t}`" for t in extract_formats.LOAD_ORDER) + ". The full reference is "
        "`docs/IMPORT_FORMATS.md`.")
    st.download_button("Download the formats reference (Markdown)",
                       formats_doc.format_reference_markdown(),
                       file_name="IMPORT_FORMATS.md", mime="text/markdown",
                       icon=":material/description:", key="formats_download")
    example = st.selectbox("Example file for", list(FORMATS), key="example_table",
                           format_func=lambda t: FORMATS[t].title)
    st.code(export_extracts.example_csv(example), language="text")
    st.download_button("Download this example", export_extracts.example_csv(example),
                       file_name=f"{example}.csv", mime="text/csv",
                       icon=":material/download:", key="example_download")
    st.divider()
    # Admins see no person (README, roles): the full extract of every table is not offered
    # here. It is a command on the server, logged with its row counts.
    st.markdown("**Current data as extracts**: every table in these formats holds every "
                "person, so it is not downloadable here. Someone with access to the server "
                "runs `python -m dashboard export-extracts DIRECTORY` (logged in the audit "
                "log with its row counts).")
