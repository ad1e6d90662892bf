"""Overview for the chief executive: an integrated performance report (NHS England
"Making Data Count": each measure's latest month, period value, target, changes,
24-month trend, variation and assurance icons), then every office against its targets
as a heat-map that opens the office's measure page, then (on request: a control chart
per office and measure takes seconds) this month's special-cause flags by office. The
queries compute everything (queries.report); this page only draws."""

import streamlit as st

from dashboard.app import charts_report, ui
from dashboard.core import spreadsheet_safe
from dashboard.core.glossary import TERMS
from dashboard.core.plain_text import plain
from dashboard.stats import mdc
from queries import flags, report

f = ui.page_header(
    "overview",
    "Overview",
    "**The report** has one row per measure for the selected area or office: the latest "
    "month, the whole period (staffing: a snapshot on the first day of the period's last "
    "month; the others count events in the period), the target, the status against it "
    "(symbol and word), the change on the previous period of the same length and on the "
    "same months a year earlier, the last 24 months as a line, and two icons read the "
    "NHS England *Making Data Count* way:\n\n"
    f"- **Variation**: {TERMS['variation icon']}\n"
    f"- **Assurance**: {TERMS['assurance icon']}\n"
    f"- **Not enough data**: {TERMS['not enough data']}\n\n"
    "Rows that need attention (off target, a concerning special cause, or a target "
    "consistently failed) are explained in a sentence below the report. **The heat-map** "
    "shows every office against its own target; click a cell to open that office's "
    "measure. The offices' table is a download.",
    report.KEYS,
)
scope = st.session_state["_scope"]

with st.spinner("Calculating the report…"):
    rep = ui.query(report.report, f)
    grid = ui.query(report.office_grid, f)

month = ui.last_month_label(f)
counts = rep["status"].value_counts()
st.subheader(f"How {plain(f.label)} is doing: {f.period_text()}")
st.markdown(
    f"**{counts.get('Green', 0)} of {len(rep)}** measures on target, "
    f"**{counts.get('Amber', 0)}** near it, **{counts.get('Red', 0)}** off it"
    + (f", {counts['No data']} without figures" if counts.get("No data") else "")
    + f". Latest month: **{month}**.")
table = charts_report.report_table(rep)
st.dataframe(table, hide_index=True, width="stretch", height=35 * len(table) + 38,
             key="ov_report", column_config={
    "Measure": st.column_config.TextColumn("Measure", pinned=True, width=150,
                                           help="Definitions: 'How to read this page'."),
    "Latest month": st.column_config.TextColumn(month, width=92,
                                                help=f"{month} against the target."),
    "Period": st.column_config.TextColumn(
        "Period", width=108, help=f"{f.period_text()} against the target: ● on target, "
                                  "▲ near it, ■ off it."),
    "Target": st.column_config.TextColumn("Target", width=58),
    "Change on previous period": st.column_config.TextColumn(
        "vs previous", width=92, help="Period minus the previous period of the same "
                                      "length (percentage points for %)."),
    "Change on last year": st.column_config.TextColumn(
        "vs year ago", width=92, help="Period minus the same months a year earlier."),
    "Last 24 months": st.column_config.LineChartColumn(
        "24 months", width=96, help="Monthly values, oldest first, each row on its own "
                                    "scale; the figures are in the report's download."),
    "Variation": st.column_config.TextColumn("Variation", width=118,
                                             help=TERMS["variation icon"]),
    "Assurance": st.column_config.TextColumn("Assurance", width=112,
                                             help=TERMS["assurance icon"]),
    "Area of work": st.column_config.TextColumn("Area of work", width=110),
})
concerns = [c for c in rep["concern"] if c]
if concerns:
    st.markdown("**Needs attention**\n\n" + "\n".join(f"- {plain(c)}" for c in concerns))
elif (rep["status"] == "No data").all():
    ui.empty_state("figures")
else:
    st.success("No measure is off target, getting worse or failing its target.",
               icon=":material/check_circle:")
if (rep["variation"] == mdc.NOT_ENOUGH).any():
    st.caption(f"{mdc.VARIATION_LABEL[mdc.NOT_ENOUGH]}: {TERMS['not enough data']}")
ui.logged_download_button(
    "Download the report (CSV)",
    lambda: spreadsheet_safe.csv_bytes(charts_report.report_download(rep)),
    ui.safe_file_name(ui.file_stem("overview_report", f)) + ".csv", "text/csv",
    rows=len(rep), key="ov_report_csv")

st.subheader(f"Offices against their own targets, {f.period_text()}")
if grid.empty:
    ui.empty_state("offices")
else:
    n = grid["office_code"].nunique()
    drillable = {k: p for k, p in charts_report.MEASURE_PAGE.items() if scope.may_open(p)}
    st.caption(f"{n} office{'' if n == 1 else 's'}, grouped by area. Each cell: the value "
               "and its status (● on target, ▲ near, ■ off, ○ no data)."
               + (" Click a cell to open that office's measure." if drillable else ""))
    fig = charts_report.heatmap(grid, "Each office against its own target")
    box = st.container(key="ov_heat_box")  # scrolls sideways on a phone (PHONE_CSS)
    st.html(charts_report.PHONE_CSS)
    if drillable:
        event = ui.chart(box, fig, key="ov_heat", on_select="rerun", selection_mode="points",
                         config={"displayModeBar": False})
        picked = [p["customdata"] for p in event["selection"]["points"]
                  if p.get("customdata") and p["customdata"][1] in drillable]
        if picked:
            code, key = picked[0]
            area = str(grid.loc[grid["office_code"] == code, "area_code"].iloc[0])
            params = {"area": area, "office": code, "from": f"{f.start:%Y-%m}",
                      "to": f"{f.end:%Y-%m}"}
            extra = {"measure": key, "spc": code} if drillable[key] == "compare" else {}
            ui.request_filters(area=area, office=code, start=params["from"],
                               end=params["to"])
            st.switch_page(f"pages/{drillable[key]}.py", query_params=params | extra)
    else:
        ui.chart(box, fig, config={"displayModeBar": False})
    ui.logged_download_button(
        "Download the offices table (CSV)",
        lambda: spreadsheet_safe.csv_bytes(charts_report.office_table(grid)),
        ui.safe_file_name(ui.file_stem("overview_offices", f)) + ".csv", "text/csv",
        rows=n, key="ov_offices_csv")

st.subheader(f"Special-cause flags in {month}, worst first")
if not st.toggle("Show each office's special-cause flags (a control chart per office and "
                 "measure: a few seconds the first time)", key="ov_flags"):
    st.caption("The report's variation icons judge the selected area or office; the flags "
               "judge each office on its own p-chart.")
    st.stop()
current_flags = ui.query(flags.current_flags, f)
if current_flags.empty:
    st.success(f"No office shows special-cause variation in {month} (each office's "
               "control chart covers the 12 months to then).", icon=":material/check_circle:")
else:
    st.markdown("\n".join(f"- {plain(line)}" for line in flags.describe_all(current_flags)))
    if scope.may_open("compare"):
        top = current_flags.iloc[0]
        st.page_link("pages/compare.py", label="See the control charts",
                     icon=":material/monitoring:", query_params=ui.filter_query_params()
                     | {"measure": top["measure"], "spc": top["office_code"]})
