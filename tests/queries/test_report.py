"""The overview's performance report (queries.report) against independent pandas over the
raw rows (tests.queries.test_independent's expected-figure functions: no query function,
no shared SQL), on SQLite and PostgreSQL; and on the hand-made dataset, whose monthly
summaries are not built, so the raw-row path is the one read."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from dashboard.core.filters import Filters, add_months, month_end
from dashboard.core.targets import rag, target_for
from dashboard.data.reference import DEFAULT_TARGETS
from dashboard.stats import mdc
from queries import overview, reference, report
from tests.queries.test_independent import (
    exp_appointments,
    exp_caseload,
    exp_completions,
    exp_coverage,
    exp_gaps,
    exp_hours_worked,
    exp_key_questions,
    exp_start_times,
    read_raw,
)

REGION = Filters(date(2025, 11, 1), date(2026, 10, 31))


@pytest.fixture(scope="module")
def raw(generated_engine):
    with generated_engine.connect() as conn:
        return read_raw(conn)


def kent(raw) -> Filters:
    o = raw.offices
    ids = tuple(sorted(int(i) for i in o.loc[o["area_code"] == "KENT", "office_id"]))
    return Filters(date(2026, 4, 1), date(2026, 9, 30), office_ids=ids, area_code="KENT",
                   label="Kent")


def _months(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def expected_counts(raw, f: Filters) -> pd.DataFrame:
    """month ('YYYY-MM'), measure, numerator, denominator for every report measure over
    the months of f, summed over f's offices, from the raw rows alone."""
    releases = exp_coverage(raw, f, "region", True)
    releases["housed"] = releases["settled"] + releases["temporary"]
    answers = exp_key_questions(raw, f, "region", True).groupby("month", as_index=False)[
        ["applicable", "sufficient"]].sum()
    per_month = []
    for m in _months(f.start, f.end):
        one = replace(f, start=m, end=month_end(m))
        label = m.strftime("%Y-%m")
        per_month.append(exp_completions(raw, one, "region").assign(month=label).join(
            exp_start_times(raw, one, "region")))
    upw = pd.concat(per_month, ignore_index=True)
    sources = {
        "vacancy_rate": exp_gaps(raw, f, "region", False),
        "caseload_per_officer": exp_caseload(raw, f, "region"),
        "pct_sufficient": answers,
        "upw_completed_in_12_months": upw,
        "upw_started_in_7_days": upw,
        "upw_attendance": exp_hours_worked(raw, f, "region", True),
        "appointments_kept": exp_appointments(raw, f, "region", True),
    }
    parts = []
    for key in report.KEYS:
        num, den, _scale = overview.RATES[key]
        src = sources.get(key, releases)
        parts.append(pd.DataFrame({"month": src["month"], "measure": key,
                                   "numerator": src[num].astype(float),
                                   "denominator": src[den].astype(float)}))
    out = pd.concat(parts, ignore_index=True)
    return out[out["denominator"] > 0].sort_values(["measure", "month"]).reset_index(drop=True)


def _rate(key: str, num: float, den: float) -> float:
    return overview.RATES[key][2] * num / den if den else math.nan


@pytest.mark.parametrize("which", ["region", "kent"])
def test_monthly_series_matches_raw_rows(generated_engine, raw, which):
    f = REGION if which == "region" else kent(raw)
    with generated_engine.connect() as conn:
        got = report.monthly_series(conn, f)
        window = report.series_window(conn, f)
    assert window.end == f.end and window.months == report.SERIES_MONTHS
    expected = expected_counts(raw, window)
    got = got[got["denominator"] > 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["month", "measure"]], expected[["month", "measure"]])
    for col in ("numerator", "denominator"):
        assert got[col].tolist() == pytest.approx(expected[col].tolist(), rel=1e-9)
    rates = [_rate(k, n, d) for k, n, d in zip(expected["measure"], expected["numerator"],
                                                expected["denominator"], strict=True)]
    assert got["value"].tolist() == pytest.approx(rates, rel=1e-9)


@pytest.mark.parametrize("which", ["region", "kent"])
def test_report_rows_match_raw_rows(generated_engine, raw, which):
    f = REGION if which == "region" else kent(raw)
    with generated_engine.connect() as conn:
        got = report.report(conn, f).set_index("measure")
        window = report.series_window(conn, f)
    assert list(got.index) == report.KEYS
    monthly = expected_counts(raw, window)
    year_ago = report.same_period_last_year(f)
    year_counts = expected_counts(raw, year_ago)
    before = expected_counts(raw, f.previous())
    for key in report.KEYS:
        mine = monthly[monthly["measure"] == key].set_index("month")
        snapshot = key in ("vacancy_rate", "caseload_per_officer")

        def period_value(counts, p, key=key, snapshot=snapshot):
            rows = counts[counts["measure"] == key]
            rows = rows[(rows["month"] >= f"{p.start:%Y-%m}") & (rows["month"] <= f"{p.end:%Y-%m}")]
            if snapshot:  # staffing: the period's last month
                rows = rows[rows["month"] == f"{p.end:%Y-%m}"]
            return _rate(key, rows["numerator"].sum(), rows["denominator"].sum())

        row = got.loc[key]
        assert row["period"] == pytest.approx(period_value(monthly, f), rel=1e-9, nan_ok=True)
        assert row["previous"] == pytest.approx(period_value(before, f.previous()), rel=1e-9,
                                                nan_ok=True)
        assert row["last_year"] == pytest.approx(period_value(year_counts, year_ago),
                                                 rel=1e-9, nan_ok=True)
        latest = f"{f.end:%Y-%m}"
        expected_latest = (_rate(key, mine.at[latest, "numerator"],
                                 mine.at[latest, "denominator"])
                           if latest in mine.index else math.nan)
        assert row["latest"] == pytest.approx(expected_latest, rel=1e-9, nan_ok=True)
        # the icons: MDC rules on the independent monthly values, against the default target
        values = [_rate(key, mine.at[m, "numerator"], mine.at[m, "denominator"])
                  if m in mine.index else math.nan for m in row["months"]]
        green, _amber, better = DEFAULT_TARGETS[key]
        chart = mdc.assess(values, better, green)
        assert (row["variation"], row["assurance"]) == (chart.variation, chart.assurance)
        assert row["upl"] == pytest.approx(chart.upl, rel=1e-9, nan_ok=True)
        assert row["status"] == rag(None if math.isnan(row["period"]) else row["period"],
                                    target_for(reference_targets(), key))
        assert bool(row["concern"]) == (row["status"] == "Red" or row["variation"] == "concerning"
                                        or row["assurance"] == "fails")


def reference_targets() -> pd.DataFrame:
    return pd.DataFrame([{"measure": k, "office_id": None, "green_from": g, "amber_from": a,
                          "higher_is_better": h} for k, (g, a, h) in DEFAULT_TARGETS.items()])


def test_office_grid_matches_raw_rows(generated_engine, raw):
    with generated_engine.connect() as conn:
        grid = report.office_grid(conn, REGION)
        targets = reference.targets(conn)
    assert set(grid["office_code"]) == set(raw.offices["office_code"])
    assert len(grid) == len(raw.offices) * len(report.KEYS)
    kept = exp_appointments(raw, REGION, "office", False).set_index("office_code")
    cells = grid[grid["measure"] == "appointments_kept"].set_index("office_code")
    for code, cell in cells.iterrows():
        value = 100 * kept.at[code, "kept"] / kept.at[code, "appointments"]
        assert cell["value"] == pytest.approx(value, rel=1e-9)
        assert cell["status"] == rag(value, target_for(targets, "appointments_kept",
                                                       int(cell["office_id"])))


def test_raw_row_path_on_the_hand_made_dataset(hand_engine):
    """No summaries here: vacancy 3.5 of 21 budgeted FTE in Sep and in Oct 2026
    (tests/queries/test_handmade.py), and two months are not enough for icons."""
    f = Filters(date(2026, 9, 1), date(2026, 10, 31))
    with hand_engine.connect() as conn:
        series = report.monthly_series(conn, f)
        got = report.report(conn, f).set_index("measure")
    vacancy = series[series["measure"] == "vacancy_rate"].set_index("month")["value"]
    assert vacancy["2026-09"] == pytest.approx(100 * 3.5 / 21)
    assert vacancy["2026-10"] == pytest.approx(100 * 3.5 / 21)
    assert got.at["vacancy_rate", "period"] == pytest.approx(100 * 3.5 / 21)
    assert got.at["vacancy_rate", "latest"] == pytest.approx(100 * 3.5 / 21)
    assert (got["variation"] == mdc.NOT_ENOUGH).all()
    assert (got["assurance"] == mdc.NOT_ENOUGH).all()
    assert len(got.at["vacancy_rate", "series"]) == report.SERIES_MONTHS
