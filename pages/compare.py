"""Compare offices fairly: a funnel plot against the regional rate beside a ranked table,
monthly small multiples on one scale and a control chart for one office. The statistics
are stored when the data change (queries.stored_stats). Clicking an office (plot or
table) opens the overview for that office."""

import math

import streamlit as st

from dashboard.app import charts_compare, compare_view, ui
from dashboard.core import spreadsheet_safe
from dashboard.core.glossary import MEASURES
from dashboard.core.plain_text import plain, quoted
from dashboard.core.targets import target_for
from queries import flags, monthly, reference, stored_stats

KEYS = monthly.measure_keys()
DEFAULT = "kq_2.3c" if "kq_2.3c" in KEYS else KEYS[0]  # the KSS inspection's weakest
# the case list (pages/cases.py view) behind each measure; none for staffing measures
CASE_VIEW = {"appointments_kept": "caseload"}
CASE_VIEW |= {k: "audits" for k in KEYS if k.startswith(monthly.KQ_PREFIX)}
CASE_VIEW |= {k: "unpaid_work" for k in KEYS if k.startswith("upw_")}
CASE_VIEW |= {k: "releases" for k in KEYS if k.startswith("ttg_")}
ss = st.session_state

url_problem = None
if "cmp_measure" not in ss:  # first run on this page: the link decides, else the last choice
    raw = st.query_params.get("measure")
    if raw is not None and raw not in KEYS:
        url_problem = f"Unknown measure {quoted(raw, 40)} in the link; showing the default."
    ss["cmp_measure"] = raw if raw in KEYS else ss.get("_cmp_last", DEFAULT)
if "cmp_od" not in ss:
    ss["cmp_od"] = st.query_params.get("od") == "1"
measure = ss["cmp_measure"]
gkey = monthly.glossary_key(measure)
name, unit = monthly.measure_name(measure), MEASURES[gkey].unit

f = ui.page_header(
    "compare",
    "Compare offices",
    "Offices differ in size, so a league table rewards or punishes small offices by chance. "
    "The **funnel plot** shows each office's rate against its denominator (how many cases, "
    "orders or releases it rests on). The black line is the regional rate; the dashed lines "
    "(95 %) and solid lines (99.8 %) show how far an office of that size can drift from it "
    "by chance alone (exact binomial limits). Offices outside the lines are named and "
    "coloured: outside 99.8 % is very unlikely to be chance; every office is in the ranked "
    "table beside the plot. The **control chart** follows one office month by month and "
    "flags only special-cause variation: a month outside its control limits, or 8 months in "
    "a row on one side of the centre line; it is drawn only where the office has at least "
    f"{flags.MIN_MONTHLY_DENOMINATOR} a month in the median month. Click an office on the "
    "plot or in the table to open its measures. Cases sufficient is compared per key "
    "question (one judgement per case); caseload per officer and workload capacity are not "
    "proportions and are not offered here.",
    [gkey],
)
scope = ui.require_page("compare")
if url_problem:
    st.warning(url_problem, icon=":material/warning:")
region_f = stored_stats.region(f)
with st.spinner("Comparing offices…"):
    offices = ui.query(reference.offices)
    targets = ui.query(reference.targets)
    with_data = set(ui.query(stored_stats.measures, region_f)["measure"])

left, right = st.columns([3, 2], vertical_alignment="bottom")
left.selectbox("Measure", [k for k in KEYS if k in with_data or k == measure],
               key="cmp_measure", format_func=monthly.measure_name)
right.toggle("Allow for over-dispersion", key="cmp_od",
             help="Widen the limits by how much more the offices vary than chance alone "
                  "would make them (Spiegelhalter's φ, Winsorised). Use it when nearly every "
                  "office is outside the limits.")
ss["_cmp_last"] = measure
st.query_params["measure"] = measure
if ss["cmp_od"]:
    st.query_params["od"] = "1"
elif "od" in st.query_params:
    del st.query_params["od"]

office_ids = dict(zip(offices["office_code"], offices["office_id"], strict=True))
area_codes = dict(zip(offices["office_code"], offices["area_code"], strict=True))
names = dict(zip(offices["office_code"], offices["office"], strict=True))
in_view = set(offices["office_code"] if f.area_code is None else
              offices.loc[offices["area_code"] == f.area_code, "office_code"])
bench = ui.query(stored_stats.funnel_benchmark, region_f, measure=measure).iloc[0]
theta, phi = float(bench["theta"]), float(bench["phi"])
assessed = ui.query(stored_stats.funnel_offices, region_f, measure=measure,
                    adjusted=ss["cmp_od"])
shown = assessed[assessed["office_code"].isin(in_view)].reset_index(drop=True)
ui.stop_when_empty(shown.empty, f"figures for {name}")
default_target = target_for(targets, monthly.target_key(measure))
target_line = default_target.green_from if default_target else None


def drill(code: str, page: str = "pages/overview.py", **extra: str) -> None:
    """Open a page filtered to one office, keeping the period (in the URL and sidebar)."""
    params = {"area": area_codes[code], "office": code, "from": f"{f.start:%Y-%m}",
              "to": f"{f.end:%Y-%m}"}
    ui.request_filters(area=params["area"], office=code, start=params["from"],
                       end=params["to"])
    st.switch_page(page, query_params=params | extra)


where = "the region" if f.area_code is None else f"offices in {plain(shown['area'].iloc[0])}"
st.subheader(f"{name}: {where}, {f.period_text()}")
if gkey == "vacancy_rate":
    st.caption("Vacancy is vacant FTE over budgeted FTE on the first of the last month; the "
               "funnel treats each budgeted FTE (rounded) as one post.")
spread = "" if math.isnan(phi) else f"Over-dispersion φ = {phi:.1f}" + (
    ": limits widened by √φ (normal approximation)." if ss["cmp_od"] and phi > 1 else
    " (about 1 when offices differ by chance alone).")
groups = [f"{label.capitalize()} than expected: " + ", ".join(
    f"**{plain(r.office)}** ({'99.8' if '99.8' in r.position else '95'} %)"
    for r in shown[shown["signal"] == label].itertuples())
    for label in ("worse", "better") if (shown["signal"] == label).any()]
st.markdown(f"Regional rate **{ui.pct(100 * theta, 1)}**. " + (
    "Outside the limits. " + "; ".join(groups) + "." if groups else
    "Every office is within the limits: differences are what chance would produce.")
    + f" {spread}")
st.html(compare_view.NARROW_CSS)
plot_side, table_side = st.columns([5, 4])
with plot_side.container(key="cmp_funnel_box"):
    curve = ui.query(stored_stats.funnel_lines, region_f, measure=measure,
                     adjusted=ss["cmp_od"])
    fig = charts_compare.funnel_figure(
        shown, curve, theta, f"By office, against its denominator ({unit})",
        f"Rate ({unit})", MEASURES[gkey].denominator.capitalize(), target=target_line,
        highlight=f.office_code)
    event = ui.chart(st, fig, key="cmp_funnel", on_select="rerun", selection_mode="points")
clicked = [p["customdata"][0] for p in event["selection"]["points"]
           if p.get("customdata") and p["customdata"][0] in office_ids]
if clicked:
    drill(clicked[0])

view = monthly.comparison_table(shown, targets, office_ids, measure)
view["count"] = charts_compare.count_texts(view["numerator"], view["denominator"])
picked = compare_view.ranked_table(table_side, view, name, gkey, default_target)
if picked["selection"]["rows"]:
    drill(str(view["office_code"].iloc[picked["selection"]["rows"][0]]))
csv_name = ui.safe_file_name(ui.file_stem(f"compare_{measure}", f)) + ".csv"
ui.logged_download_button(
    "Download this table (CSV)",
    lambda: spreadsheet_safe.csv_bytes(view.drop(columns=["office_code", "count"])),
    csv_name, "text/csv", rows=len(view))

series = ui.query(stored_stats.monthly_series, region_f, measure=measure)
region = series.groupby("month", as_index=False)[["numerator", "denominator"]].sum()
region["rate"] = 100 * region["numerator"] / region["denominator"]
local = series[series["office_code"].isin(in_view)].assign(
    rate=lambda d: 100 * d["numerator"] / d["denominator"])
ui.chart(st, charts_compare.small_multiples(
    local, region, f"{name} by month, each office (blue) and the region (grey), one scale",
    f"{name} ({unit})", target=target_line), key="cmp_multiples")

st.subheader("Change over time that means something")
choices = sorted(in_view & set(series["office_code"]), key=names.get)
ui.stop_when_empty(not choices, f"monthly figures for {name}")
if "cmp_spc" not in ss or ss["cmp_spc"] not in choices:
    wanted = st.query_params.get("spc") or f.office_code
    ss["cmp_spc"] = wanted if wanted in choices else choices[0]
left, right = st.columns([3, 2], vertical_alignment="bottom")
code = left.selectbox("Office for the control chart", choices, key="cmp_spc",
                      format_func=names.get)
st.query_params["spc"] = code
if right.button(f"Open {names[code]}'s measures", icon=":material/open_in_new:"):
    drill(code)
view_key = CASE_VIEW.get(measure)  # scope permitting: only offices whose cases the user sees
if view_key and scope.may_open("cases") and scope.covers_office(int(office_ids[code])):
    if right.button(f"Cases behind {names[code]}'s figure", icon=":material/folder_shared:"):
        drill(code, "pages/cases.py", measure=measure, view=view_key)
chart = ui.query(stored_stats.control_chart, region_f, office_code=code, measure=measure)
window = flags.chart_window(f)
if flags.too_few_to_chart(chart):
    st.info(compare_view.too_few_message(names[code], name, gkey, chart, window.period_text()),
            icon=":material/info:")
    st.stop()
own = target_for(targets, monthly.target_key(measure), office_ids[code])
ui.chart(st, charts_compare.spc_figure(
    chart, f"{names[code]}: {name} by month, {window.period_text()}, control chart",
    f"{name} ({unit})", target=own.green_from if own else None), key="cmp_spc_chart")
st.caption("Centre line: the office's own rate over the months charted (at least the 12 "
           "ending with the period's last month). Limits: exact binomial, with the tail "
           "areas of 3 sigma, from each month's denominator. A point outside them, or 8 "
           "months in a row on one side of the centre line, is flagged.")
found = ui.query(stored_stats.chart_flags, region_f, office_code=code, measure=measure)
if found.empty:
    st.success(f"No special-cause variation for {plain(names[code])} in "
               f"{window.period_text()}: month-to-month changes are within what chance "
               "produces.", icon=":material/check_circle:")
else:
    st.warning("\n".join(f"- {plain(flags.describe(r))}" for _, r in
                         flags.one_per_signal(found).iterrows()), icon=":material/flag:")
