"""Unpaid work (Community Payback): hours ordered, worked, outstanding; completions."""

import streamlit as st

from dashboard.app import cards, charts, ui
from dashboard.core.targets import target_for
from queries import payback, reference

f = ui.page_header(
    "payback",
    "Unpaid work (Community Payback)",
    "Hours ordered by the courts in the period, hours worked at sessions in the period, "
    "and hours still to work on orders live at the period's end. Completion within 12 "
    "months looks at orders whose first anniversary (the same date a year after sentence) "
    "fell in the period. Start within 7 working days looks at orders whose 7th working day "
    "after sentence fell in the period, so each order counts once; working days leave out "
    "England and Wales bank holidays, one-off days included.",
    payback.GLOSSARY,
)
level, series = ui.trend_level(f)
with st.spinner("Adding up hours…"):
    offices = ui.query(payback.by_office, f)
    monthly = ui.query(payback.by_month, f, level=level)
    targets = ui.query(reference.targets)

ui.stop_when_empty(offices.empty, "unpaid work orders or sessions")
t = offices.sum(numeric_only=True)

c = st.columns(3) + st.columns(3)
c[0].metric("Hours ordered", ui.num(t["hours_ordered"]), border=True,
            help=f"{t['orders']:,.0f} orders sentenced in {f.period_text()}.")
c[1].metric("Hours worked", ui.num(t["hours_worked"]), border=True,
            help=f"{t['sessions_attended']:,.0f} sessions attended.")
c[2].metric("Hours outstanding", ui.num(t["hours_outstanding"]), border=True,
            help=f"On {t['live_orders']:,.0f} orders live on {f.end:%d %b %Y}.")
cards.rate_cards(c[3:], list(payback.CARDS), t, targets)

left, right = st.columns(2)
ui.chart(left, charts.bar_by_unit(
    offices, "office", "hours_outstanding", f"Hours outstanding by office, {f.end:%d %b %Y}",
    "Hours outstanding", hover={"live_orders": "Live orders"}, value_format=",.0f"),
    key="outstanding_bar")
ui.chart(right, charts.bar_by_unit(
    offices, "office", "completed_12m", "Orders completed within 12 months (95 % interval)",
    "% completed in 12 months", hover={"completed_in_12_months": "Completed in time",
                                       "due_12_months": "Orders reaching 12 months"},
    interval=("completed_12m_low", "completed_12m_high"),
    target=target_for(targets, "upw_completed_in_12_months").green_from), key="complete_bar")

ui.chart(left, charts.trend(monthly, "hours_worked", "Hours worked by month", "Hours",
                               series=series, hover={"sessions_attended": "Sessions attended"},
                               value_format=",.0f"), key="worked_trend")
ui.chart(right, charts.trend(monthly, "hours_ordered", "Hours ordered by month", "Hours",
                                series=series, hover={"orders": "Orders"},
                                value_format=",.0f"), key="ordered_trend")

st.subheader("By office")
table = offices[["area", "office", "orders", "hours_ordered", "hours_worked", "live_orders",
                 "hours_outstanding", "orders_completed", "due_12_months",
                 "completed_in_12_months", "completed_12m", "orders_due_to_start",
                 "started_in_7_days", "started_7d", "sessions", "sessions_attended",
                 "attendance"]]
ui.table_with_download(table, ui.file_stem("unpaid_work", f), {
    "hours_ordered": st.column_config.NumberColumn("Hours ordered", format="localized"),
    "hours_worked": st.column_config.NumberColumn("Hours worked", format="localized"),
    "hours_outstanding": st.column_config.NumberColumn("Hours outstanding", format="localized"),
    "completed_12m": ui.percent_column("% completed in 12 months"),
    "started_7d": ui.percent_column("% started in 7 working days"),
    "attendance": ui.percent_column("% sessions attended"),
})
