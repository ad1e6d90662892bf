"""Control charts (dashboard/stats/spc.py): p-chart limits and the two special-cause rules,
against hand-computed examples."""

from __future__ import annotations

import math

import pytest

from dashboard.stats import funnel, spc


def months(k: int) -> list[str]:
    return [f"2026-{m:02d}" for m in range(1, k + 1)] if k <= 12 else [
        f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, k + 1)]


# --- limits -------------------------------------------------------------------------------

def test_normal_limits_hand_computed_and_points_beyond_them():
    # centre = (50 + 30 + 70) / 300 = 0.5; n = 100: sigma = sqrt(0.25 / 100) = 0.05;
    # limits 0.5 +/- 0.15 = 0.35 and 0.65. 30 % is below, 70 % above (z = -4, +4).
    chart = spc.p_chart(months(3), [50, 30, 70], [100, 100, 100], method="normal")
    assert chart["centre"].tolist() == pytest.approx([0.5] * 3)
    assert chart["sigma"].tolist() == pytest.approx([0.05] * 3)
    assert chart["lcl"].tolist() == pytest.approx([0.35] * 3)
    assert chart["ucl"].tolist() == pytest.approx([0.65] * 3)
    found = spc.flags(chart)
    assert [(f.month, f.rule, f.side) for f in found] == [
        ("2026-02", spc.BEYOND_LIMITS, "below"), ("2026-03", spc.BEYOND_LIMITS, "above")]
    assert [f.z for f in found] == pytest.approx([-4.0, 4.0])


def test_limits_follow_each_months_denominator():
    # centre 0.5 from the first month (baseline_months=1); n = 25 -> sigma 0.1, limits 0.2
    # and 0.8; n = 400 -> sigma 0.025, limits 0.425 and 0.575.
    chart = spc.p_chart(months(3), [50, 10, 200], [100, 25, 400], baseline_months=1,
                        method="normal")
    assert chart["lcl"].tolist() == pytest.approx([0.35, 0.2, 0.425])
    assert chart["ucl"].tolist() == pytest.approx([0.65, 0.8, 0.575])
    assert spc.flags(chart) == []  # 40 % of 25 and 50 % of 400 are inside


def test_n_1_months_are_never_outside_normal_limits_in_the_middle():
    # centre 0.5, n = 1: sigma 0.5, limits -1 and 2, clipped to 0 and 1: neither 0 nor 1
    # can fall outside.
    chart = spc.p_chart(months(5), [50, 0, 1, 0, 1], [100, 1, 1, 1, 1], baseline_months=1,
                        method="normal")
    assert chart["lcl"].iloc[1:].tolist() == [0.0] * 4
    assert chart["ucl"].iloc[1:].tolist() == [1.0] * 4
    assert spc.flags(chart) == []


def test_n_1_exact_limits_do_not_flag_an_ordinary_miss():
    # centre 97 % (97 of 100 in the baseline month), then one case missed (0 of 1).
    # Normal: sigma = sqrt(0.97 * 0.03) = 0.1706, lcl = 0.97 - 0.5118 = 0.458 -> 0 is
    # "beyond the limits", although a miss happens 3 % of the time.
    normal = spc.p_chart(months(2), [97, 0], [100, 1], baseline_months=1, method="normal")
    assert normal["lcl"].iloc[1] == pytest.approx(0.97 - 3 * math.sqrt(0.97 * 0.03))
    assert [f.rule for f in spc.flags(normal)] == [spc.BEYOND_LIMITS]
    # Exact: P(0 of 1) = 0.03 > 0.135 %, so the lower limit is 0 and nothing is flagged.
    exact = spc.p_chart(months(2), [97, 0], [100, 1], baseline_months=1)
    assert exact["lcl"].iloc[1] == 0.0
    assert spc.flags(exact) == []


def test_small_n_exact_limit_hand_computed():
    # centre 0.5, n = 10, tail 0.00135: P(R<=0) = 1/1024 = 0.000977 < 0.00135 <=
    # P(R<=1) = 11/1024, so r = 1 and alpha = (11/1024 - 0.0013499) / (10/1024);
    # lcl = (1 - alpha) / 10, ucl = 1 - lcl by symmetry.
    tail = 1 - 0.9986501019683699  # P(Z > 3)
    alpha = (11 / 1024 - tail) / (10 / 1024)
    chart = spc.p_chart(months(2), [50, 5], [100, 10], baseline_months=1)
    assert chart["lcl"].iloc[1] == pytest.approx((1 - alpha) / 10, abs=1e-9)
    assert chart["ucl"].iloc[1] == pytest.approx(1 - (1 - alpha) / 10, abs=1e-9)
    # 0 of 10 (P = 0.098 %) is outside; 1 of 10 (P(R<=1) = 1.07 %) is not
    zero = spc.p_chart(months(2), [50, 0], [100, 10], baseline_months=1)
    one = spc.p_chart(months(2), [50, 1], [100, 10], baseline_months=1)
    assert [f.side for f in spc.flags(zero)] == ["below"]
    assert spc.flags(one) == []


def test_large_n_exact_and_normal_limits_agree():
    # n = 10,000, centre 0.5: sigma = 0.005, 3-sigma limits 0.485 and 0.515.
    normal = spc.p_chart(months(2), [5000, 5000], [10_000, 10_000], method="normal")
    exact = spc.p_chart(months(2), [5000, 5000], [10_000, 10_000])
    assert normal["lcl"].iloc[0] == pytest.approx(0.485)
    assert normal["ucl"].iloc[0] == pytest.approx(0.515)
    assert exact["lcl"].iloc[0] == pytest.approx(0.485, abs=1.5e-4)
    assert exact["ucl"].iloc[0] == pytest.approx(0.515, abs=1.5e-4)
    # a 2-point shift at this size is special cause
    shifted = spc.p_chart(months(3), [5000, 5000, 4800], [10_000] * 3, baseline_months=2)
    assert [f.rule for f in spc.flags(shifted)] == [spc.BEYOND_LIMITS]


def test_exact_limits_are_the_funnel_limits_at_three_sigma_tails():
    chart = spc.p_chart(months(2), [30, 4], [100, 17], baseline_months=1)
    assert chart["lcl"].iloc[1] == funnel.exact_limit(17, 0.3, spc.TAIL)
    assert chart["ucl"].iloc[1] == funnel.exact_limit(17, 0.3, 1 - spc.TAIL)


# --- runs -----------------------------------------------------------------------------------

def test_a_run_of_8_on_one_side_is_flagged_at_every_month_of_it():
    # baseline month sets the centre at 0.5 and sits on it (which breaks any run);
    # then 8 months at 55 % (z = 1, inside the limits) all above.
    chart = spc.p_chart(months(9), [50] + [55] * 8, [100] * 9, baseline_months=1)
    found = spc.flags(chart)
    assert [f.month for f in found] == months(9)[1:]
    assert {(f.rule, f.side, f.run_length, f.run_start) for f in found} == {
        (spc.RUN_OF_8, "above", 8, "2026-02")}


def test_seven_in_a_row_is_not_a_run():
    chart = spc.p_chart(months(9), [50] + [55] * 7 + [45], [100] * 9, baseline_months=1)
    assert spc.flags(chart) == []


def test_a_month_on_the_centre_line_breaks_the_run():
    values = [50] + [55] * 4 + [50] + [55] * 4  # 4 above, on the line, 4 above
    chart = spc.p_chart(months(10), values, [100] * 10, baseline_months=1)
    assert spc.flags(chart) == []


def test_a_month_without_cases_neither_breaks_nor_extends_a_run():
    values = [50] + [45] * 4 + [0] + [45] * 4
    dens = [100] * 5 + [0] + [100] * 4
    chart = spc.p_chart(months(10), values, dens, baseline_months=1)
    assert len(chart) == 9  # the empty month is left off
    found = spc.flags(chart)
    assert len(found) == 8 and {f.side for f in found} == {"below"}
    assert found[0].run_length == 8


def test_runs_and_points_beyond_limits_together_in_month_order():
    # 9 months below the centre; the last of them also far outside the limits
    values = [50] + [47] * 8 + [20]
    chart = spc.p_chart(months(10), values, [100] * 10, baseline_months=1)
    found = spc.flags(chart)
    assert (found[-2].month, found[-2].rule) == ("2026-10", spc.BEYOND_LIMITS)
    assert (found[-1].month, found[-1].rule, found[-1].run_length) == (
        "2026-10", spc.RUN_OF_8, 9)
    assert [f.month for f in found if f.rule == spc.RUN_OF_8] == months(10)[1:]


def test_centre_from_all_months_by_default_and_empty_input():
    chart = spc.p_chart(months(2), [1, 3], [4, 4])
    assert chart["centre"].tolist() == [0.5, 0.5]
    assert spc.p_chart([], [], []).empty
    assert spc.flags(spc.p_chart(months(1), [0], [0])) == []
    with pytest.raises(ValueError):
        spc.p_chart(months(1), [1], [2], method="guess")
