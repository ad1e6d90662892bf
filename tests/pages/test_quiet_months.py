"""The crashes found on quiet office-months, reproduced where they were reported (the
region demo with its default seed and as-of date), and the typed empty frames that fixed
them (queries._frames.read_frame).

Before the fix, under pandas 3 an empty query result had text-typed columns and the pages'
``sum(numeric_only=True)`` dropped them: Staffing gaps failed for Horsham, May 2026 (no
sickness absence) and Unpaid work for Bognor Regis, December 2025 and Horsham, May 2026
(no orders sentenced).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.core.filters import Filters
from dashboard.data import db
from dashboard.demo import demo_data
from dashboard.demo.accounts import create_demo_users
from queries import gate, payback, quality, staffing, supervision
from tests.pages.apphelp import metric, open_app, sql_scalar

REGION_AS_OF = date(2026, 11, 30)  # the default as-of date on 1 Dec 2026


@pytest.fixture(scope="module")
def region_url(tmp_path_factory) -> str:
    """The region-scale demo as `python -m dashboard demo-data` makes it (default seed)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('region') / 'region.sqlite'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo_data.generate(engine, as_of=REGION_AS_OF)
    with engine.begin() as conn:
        create_demo_users(conn)
    engine.dispose()
    return url


def _view(at, page: str, area: str, office: str, month: str):
    at.switch_page(f"pages/{page}.py")
    at.session_state["_pending_filters"] = {"area": area, "office": office, "from": month,
                                            "to": month}
    return at.run()


def test_staffing_renders_an_office_month_without_sickness(region_url):
    lost = sql_scalar(region_url, """
        SELECT COUNT(*) FROM staff_absence a JOIN staff_member s ON s.id = a.staff_member_id
        JOIN office o ON o.id = s.office_id
        WHERE o.code = 'HOR' AND a.reason = 'sickness'
          AND a.start_date BETWEEN '2026-05-01' AND '2026-05-31'""")
    assert lost == 0  # the reported quiet month is still quiet
    at = _view(open_app(region_url), "staffing", "SUSSEX", "HOR", "2026-05")
    assert not at.exception and not at.error
    assert metric(at, "Sickness absence (days/FTE)") == "0.0"


@pytest.mark.parametrize(("office", "month"), [("BOG", "2025-12"), ("HOR", "2026-05"),
                                               ("HOR", "2026-10")])
def test_unpaid_work_renders_an_office_month_without_orders(region_url, office, month):
    hours = sql_scalar(region_url, """
        SELECT COALESCE(SUM(u.hours_ordered), 0) FROM upw_order u
        JOIN person_on_probation p ON p.id = u.person_id JOIN office o ON o.id = p.office_id
        WHERE o.code = :office AND strftime('%Y-%m', u.sentence_date) = :month""",
                    office=office, month=month)
    at = _view(open_app(region_url), "payback", "SUSSEX", office, month)
    assert not at.exception and not at.error
    assert metric(at, "Hours ordered") == f"{hours:,.0f}"


NOTHING = Filters(date(2001, 1, 1), date(2001, 1, 31))  # before any row


@pytest.mark.parametrize("query", [
    staffing.absence, staffing.gaps_by_month, staffing.caseload_by_month,
    payback.orders_made, payback.hours_worked, payback.start_times, payback.completions,
    gate.coverage, supervision.appointments, quality.audits_completed,
], ids=lambda q: f"{q.__module__}.{q.__name__}")
def test_empty_results_keep_their_numeric_columns(hand_engine, query):
    """No rows: the documented columns are still there, counts and amounts numeric, so a
    page's sum(numeric_only=True) keeps them (0) instead of dropping them."""
    with hand_engine.connect() as conn:
        frame = query(conn, NOTHING, "office")
    assert frame.empty
    names = {"area", "office", "office_code", "month", "grade"}
    values = [c for c in frame.columns if c not in names]
    assert values, frame.columns
    for col in values:
        assert pd.api.types.is_numeric_dtype(frame[col]), (col, frame[col].dtype)
    assert set(frame.sum(numeric_only=True).index) == set(values)
    assert frame["office"].dtype == "str"
