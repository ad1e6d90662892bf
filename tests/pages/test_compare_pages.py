"""Compare offices and Targets pages (AppTest): what a person sees, the drill-down from the
plot and the table to an office and back, links that reopen the same view, and targets an
administrator edits (validation, one audit row per change, the same RAG on every page).

Expected figures come from pandas over the raw rows and brute-force binomial tails
(math.comb), not from the code under test. The targets tests write, so they use a copy.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, select

from dashboard.core.targets import Target, rag
from dashboard.data.reference import DEFAULT_TARGETS
from dashboard.data.schema import audit_log, target
from tests.pages.apphelp import copy_of_demo, office_on, open_app

HOUSED_TARGET = Target("ttg_housed_on_release", *DEFAULT_TARGETS["ttg_housed_on_release"])

PERIOD = (pd.Timestamp("2025-11-01"), pd.Timestamp("2026-10-31"))  # the default 12 months
HOUSED = "ttg_housed_on_release"


def events_in_period(url: str, table: str, day: str) -> pd.DataFrame:
    """Rows of `table` dated (column `day`) in the default period, each with the office
    holding the case on that day (id, code, name, area code), from the raw tables."""
    eng = create_engine(url)
    with eng.connect() as conn:
        rows = pd.read_sql_table(table, conn)
        allocations = pd.read_sql_table("case_allocation", conn)
        office = pd.read_sql_table("office", conn)
        area = pd.read_sql_table("area", conn)
    eng.dispose()
    rows[day] = pd.to_datetime(rows[day])
    for col in ("start_date", "end_date"):
        allocations[col] = pd.to_datetime(allocations[col])
    rows = rows[(rows[day] >= PERIOD[0]) & (rows[day] <= PERIOD[1])]
    office = office.merge(area, left_on="area_id", right_on="id", suffixes=("", "_area"))
    # each row counts for the office holding the case on its date
    rows = office_on(rows, allocations, day)
    return rows.merge(office[["id", "code", "name", "code_area"]], left_on="office_id",
                      right_on="id", suffixes=("", "_office"))


@pytest.fixture(scope="module")
def releases(demo_sqlite_url) -> pd.DataFrame:
    """Releases in the default period with their office, from the raw tables."""
    return events_in_period(demo_sqlite_url, "custody_release", "release_date")


def housed_by_office(releases: pd.DataFrame) -> pd.DataFrame:
    known = releases[releases["accommodation_on_release"].notna()]
    out = known.groupby(["code", "name", "code_area"]).agg(
        denominator=("id", "size"),
        numerator=("accommodation_on_release",
                   lambda s: s.isin(["settled", "temporary"]).sum())).reset_index()
    return out


def exact_position(y: int, n: int, theta: float) -> str:
    """The funnel position by the exact one-sided binomial tests, summed with math.comb."""
    def mass(k):
        return math.comb(n, k) * theta**k * (1 - theta) ** (n - k)
    above = sum(mass(k) for k in range(y, n + 1))
    below = sum(mass(k) for k in range(y + 1))
    return ("above 99.8 % limit" if above < 0.001 else "above 95 % limit" if above < 0.025
            else "below 99.8 % limit" if below < 0.001 else "below 95 % limit"
            if below < 0.025 else "within limits")


def plotly_values(values) -> list:
    """Plotly sends numeric arrays base64-encoded ({'dtype', 'bdata'}); plain lists as is."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def funnel_points(at) -> list[dict]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [p for p in spec["data"] if p.get("mode", "").startswith("markers")]


def view_of(at) -> tuple:
    """What a person sees that defines 'the same view'."""
    table = at.dataframe[0].value
    return (at.selectbox(key="cmp_measure").value, at.toggle(key="cmp_od").value,
            at.selectbox(key="cmp_spc").value, tuple(at.subheader[i].value for i in range(2)),
            tuple(map(tuple, table.astype(str).values)))


# --- the comparison -----------------------------------------------------------------------------

def test_funnel_table_and_positions_match_raw_rows(demo_sqlite_url, releases):
    at = open_app(demo_sqlite_url, page="pages/compare.py", params={"measure": HOUSED})
    assert not at.exception and not at.error
    assert at.title[0].value == "Compare offices"
    expected = housed_by_office(releases)
    theta = expected["numerator"].sum() / expected["denominator"].sum()
    table = at.dataframe[0].value.set_index("office")
    assert len(table) == len(expected) == 4
    for row in expected.itertuples():
        got = table.loc[row.name]
        assert (got["numerator"], got["denominator"]) == (row.numerator, row.denominator)
        exact = 100 * row.numerator / row.denominator
        # shown to one decimal (more only beside a threshold), judged on the exact rate
        assert got["rate"] == pytest.approx(exact, abs=0.05)
        assert got["status"].endswith(rag(exact, HOUSED_TARGET))
        assert rag(float(got["rate"]), HOUSED_TARGET) == rag(exact, HOUSED_TARGET)
        assert got["position"] == exact_position(row.numerator, row.denominator, theta)
    assert f"Regional rate **{100 * theta:.1f} %**" in " ".join(m.value for m in at.markdown)
    # every office is a point on the funnel, carrying its code for the click-through
    codes = [c[0] for trace in funnel_points(at) for c in trace["customdata"]]
    assert sorted(codes) == sorted(expected["code"])
    # hover counts are whole numbers: '7 of 62', never '7.0 of 62.0'
    counts = {c[0]: c[6] for trace in funnel_points(at) for c in trace["customdata"]}
    assert counts == {r.code: f"{r.numerator} of {r.denominator}" for r in expected.itertuples()}
    # funnel and small multiples; Ashford (the first office) has fewer than 10 releases in
    # the median month, so its control chart is replaced by a plain message
    assert len(at.get("plotly_chart")) == 2
    ash = releases[(releases["code"] == "ASH") & releases["accommodation_on_release"].notna()]
    median = ash.groupby(ash["release_date"].dt.strftime("%Y-%m")).size().median()
    assert median < 10
    message = " ".join(i.value for i in at.info)
    assert "No control chart for Ashford" in message and f"({median:g} in the median" in message


def test_area_filter_limits_the_offices_but_keeps_the_regional_rate(demo_sqlite_url, releases):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": HOUSED, "area": "SURREY"})
    assert not at.exception
    expected = housed_by_office(releases)
    theta = expected["numerator"].sum() / expected["denominator"].sum()
    assert set(at.dataframe[0].value["office"]) == set(
        expected.loc[expected["code_area"] == "SURREY", "name"])
    assert f"Regional rate **{100 * theta:.1f} %**" in " ".join(m.value for m in at.markdown)


def test_unknown_measure_in_the_link_is_explained(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": "'; DROP TABLE target; --"})
    assert not at.exception and not at.error
    assert any("Unknown measure" in w.value for w in at.warning)
    assert at.selectbox(key="cmp_measure").value == "kq_2.3c"
    assert at.query_params["measure"] in (["kq_2.3c"], "kq_2.3c")


def test_ratio_measures_are_not_offered(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py")
    options = at.selectbox(key="cmp_measure").options
    assert "Caseload per officer" not in options and "Workload capacity" not in options
    assert "Vacancy rate" in options
    assert any(o.startswith("Cases sufficient: 2.3c") for o in options)


def test_the_link_from_the_address_bar_reopens_the_same_view(demo_sqlite_url):
    first = open_app(demo_sqlite_url, page="pages/compare.py",
                     params={"measure": "upw_attendance", "area": "KENT", "from": "2026-01",
                             "to": "2026-09"})
    first.selectbox(key="cmp_spc").set_value("CHA").run()
    first.toggle(key="cmp_od").set_value(True).run()
    link = {k: v[-1] if isinstance(v, list) else v for k, v in first.query_params.items()}
    assert link == {"measure": "upw_attendance", "area": "KENT", "from": "2026-01",
                    "to": "2026-09", "spc": "CHA", "od": "1"}
    again = open_app(demo_sqlite_url, page="pages/compare.py", params=link)
    assert not again.exception
    assert view_of(again) == view_of(first)
    assert "Jan 2026 to Sep 2026" in again.subheader[0].value


def test_changing_the_measure_updates_the_link(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py", params={"measure": HOUSED})
    at.selectbox(key="cmp_measure").set_value("appointments_kept").run()
    assert not at.exception
    assert at.query_params["measure"] in (["appointments_kept"], "appointments_kept")
    assert at.subheader[0].value.startswith("Appointments kept")


# --- drill-down ---------------------------------------------------------------------------------

def _on_overview_for(at, office: str, code: str) -> None:
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert any(c.value.startswith(f"**{office}**") for c in at.caption)
    assert at.query_params["office"] in ([code], code)


def test_clicking_a_table_row_opens_that_office_and_back_keeps_the_view(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": HOUSED, "from": "2026-01", "to": "2026-06"})
    table = at.dataframe[0].value
    row = int(table.index[table["office"] == "Woking"][0])
    at.session_state["cmp_table"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    _on_overview_for(at, "Woking", "WOK")
    assert at.query_params["from"] in (["2026-01"], "2026-01")  # the period went along
    # back to the comparison: same measure, Surrey's offices, Woking on the control chart
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.selectbox(key="cmp_measure").value == HOUSED
    assert set(at.dataframe[0].value["office"]) == {"Guildford", "Woking"}
    assert at.selectbox(key="cmp_spc").value == "WOK"


def test_clicking_an_office_on_the_funnel_opens_it(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py", params={"measure": HOUSED})
    point = next(trace for trace in funnel_points(at) if any(
        c[0] == "CHA" for c in trace["customdata"]))
    data = next(c for c in point["customdata"] if c[0] == "CHA")
    at.session_state["cmp_funnel"] = {"selection": {
        "points": [{"customdata": data, "x": data[3], "y": 50.0, "curve_number": 4,
                    "point_number": 0, "point_index": 0}],
        "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    _on_overview_for(at, "Chatham", "CHA")


def test_open_button_and_cases_behind_the_figure_respect_scope(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": HOUSED, "spc": "GUI"}, user="am.kent")
    labels = [b.label for b in at.button]
    assert "Open Guildford's measures" in labels
    assert not any(label.startswith("Cases behind") for label in labels)  # not Kent's office
    at.selectbox(key="cmp_spc").set_value("ASH").run()
    cases = next(b for b in at.button if b.label == "Cases behind Ashford's figure")
    cases.click().run()
    assert not at.exception
    assert at.title[0].value == "Cases behind the figures"
    assert at.query_params["view"] in (["releases"], "releases")
    assert at.query_params["office"] in (["ASH"], "ASH")


@pytest.fixture(scope="module")
def appointments(demo_sqlite_url) -> pd.DataFrame:
    """Appointments in the default period with the office holding the case on the day,
    from the raw tables."""
    return events_in_period(demo_sqlite_url, "appointment", "appointment_date")


def test_control_chart_for_the_chosen_office(demo_sqlite_url, appointments):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": "appointments_kept", "spc": "GUI"})
    assert not at.exception and not at.info
    spec = json.loads(at.get("plotly_chart")[2].proto.spec)
    rate = next(t for t in spec["data"] if t.get("mode") == "lines+markers")
    gui = appointments[appointments["code"] == "GUI"]
    by_month = gui.groupby(gui["appointment_date"].dt.strftime("%Y-%m"))["outcome"]
    monthly = by_month.agg(lambda s: 100 * (s == "kept").mean())
    assert plotly_values(rate["x"]) == list(monthly.index)
    assert plotly_values(rate["y"]) == pytest.approx(list(monthly.values))
    # hover: whole counts, e.g. '231 of 250'
    kept = by_month.agg(lambda s: f"{(s == 'kept').sum():,} of {len(s):,}")
    assert [c[6] for c in rate["customdata"]] == list(kept.values)
    assert at.success or at.warning  # flags listed, or a plain "no special cause"


def test_small_multiples_share_one_y_scale(demo_sqlite_url):
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": "appointments_kept"})
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    ranges = {tuple(v["range"]) for k, v in spec["layout"].items() if k.startswith("yaxis")}
    assert len(ranges) == 1  # every panel, in every row, on the same scale
    lines = [t for t in spec["data"] if t.get("mode") == "lines+markers"]
    assert len(lines) == 4 and all(" of " in c[1] and ".0 " not in c[1]
                                   for t in lines for c in t["customdata"])


def test_a_small_office_in_a_quiet_month(demo_sqlite_url, releases):
    """Woking, one month with a single release: the funnel and table still show, the
    control chart (12 months ending that month) is replaced by the plain message."""
    wok = releases[(releases["code"] == "WOK") & releases["accommodation_on_release"].notna()]
    per_month = wok.groupby(wok["release_date"].dt.strftime("%Y-%m")).size()
    quiet = per_month.idxmin()
    at = open_app(demo_sqlite_url, page="pages/compare.py",
                  params={"measure": HOUSED, "area": "SURREY", "office": "WOK",
                          "from": quiet, "to": quiet})
    assert not at.exception and not at.error
    table = at.dataframe[0].value.set_index("office")
    assert table.loc["Woking", "denominator"] == per_month.min()
    assert table.loc["Woking", "count"].endswith(f" of {per_month.min()}")
    assert at.selectbox(key="cmp_spc").value == "WOK"
    assert any("No control chart for Woking" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 2


# --- targets ------------------------------------------------------------------------------------

@pytest.fixture()
def targets_url(demo_sqlite_url, tmp_path):
    return copy_of_demo(demo_sqlite_url, tmp_path / "targets.sqlite")


def _stored(url: str):
    eng = create_engine(url)
    with eng.connect() as conn:
        targets = pd.read_sql(select(target), conn)
        log = pd.read_sql(select(audit_log).where(audit_log.c.action == "target_changed"),
                          conn)
    eng.dispose()
    return targets, log


def _editor(at, edited=None, added=None, deleted=None):
    at.session_state["targets_editor"] = {"edited_rows": edited or {},
                                          "added_rows": added or [],
                                          "deleted_rows": deleted or []}
    at.run()
    return next(b for b in at.button if b.label == "Save targets")


def test_only_an_administrator_opens_targets(targets_url):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_app(targets_url, page="pages/admin_targets.py", user="chief.exec")


def test_targets_inconsistent_bands_are_refused_with_row_and_field(targets_url):
    at = open_app(targets_url, page="pages/admin_targets.py", user="admin")
    assert not at.exception and at.title[0].value == "Targets"
    shown = at.data_editor[0].value if hasattr(at, "data_editor") else at.dataframe[0].value
    before, _ = _stored(targets_url)
    assert len(shown) == len(before)
    row = int(shown.index[shown["measure"] == "Vacancy rate (%)"][0])
    save = _editor(at, edited={row: {"green_from": 30.0}})  # lower is better: 30 > amber 20
    assert save.disabled
    message = " ".join(e.value for e in at.error)
    assert f"Row {row + 1} (Vacancy rate, all offices)" in message
    assert "must be at most amber from (20)" in message
    after, log = _stored(targets_url)
    pd.testing.assert_frame_equal(after, before)
    assert log.empty


def test_targets_saved_in_one_go_with_an_audit_row_each_and_used_everywhere(targets_url):
    at = open_app(targets_url, page="pages/admin_targets.py", user="admin")
    shown = at.dataframe[0].value
    housed = int(shown.index[shown["measure"] == "Housed on release (%)"][0])
    save = _editor(at, edited={housed: {"green_from": 95.0, "amber_from": 89.0}},
                   added=[{"measure": "Housed on release (%)", "office": "Woking (WOK)",
                           "green_from": 80.0, "amber_from": 70.0}])
    assert not save.disabled
    save.click().run()
    assert not at.exception
    assert any("Saved 2 change(s)" in s.value for s in at.success)
    targets, log = _stored(targets_url)
    rows = targets[targets["measure"] == HOUSED]
    rows = rows.set_index(rows["office_id"].fillna(0))
    assert (rows.loc[0, "green_from"], rows.loc[0, "amber_from"]) == (95.0, 89.0)
    assert len(rows) == 2 and bool(rows["higher_is_better"].all())
    assert len(log) == 2 and set(log["username"]) == {"admin"}
    details = sorted(json.loads(d)["change"] for d in log["detail"])
    assert details == ["added", "updated"]
    # the comparison shows each office against its own target, with the same RAG words
    cmp = open_app(targets_url, page="pages/compare.py", params={"measure": HOUSED})
    status = dict(zip(cmp.dataframe[0].value["office"], cmp.dataframe[0].value["status"],
                      strict=True))
    rates = dict(zip(cmp.dataframe[0].value["office"], cmp.dataframe[0].value["rate"],
                     strict=True))
    for office, rate in rates.items():
        green, amber = (80, 70) if office == "Woking" else (95, 89)
        assert status[office] == ("● Green" if rate >= green else "▲ Amber" if rate >= amber
                                  else "■ Red")
