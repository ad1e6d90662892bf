"""Funnel limits (dashboard/stats/funnel.py) against hand-computed examples and brute force.

Hand computations are written out in the comments; the brute force uses math.comb over
every count, not the incomplete beta the module uses.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.stats import funnel


def tail_at_most(y: int, n: int, theta: float) -> float:
    """P(R <= y), R ~ Binomial(n, theta), by summing the probability mass."""
    return sum(math.comb(n, k) * theta**k * (1 - theta) ** (n - k) for k in range(y + 1))


def tail_at_least(y: int, n: int, theta: float) -> float:
    return sum(math.comb(n, k) * theta**k * (1 - theta) ** (n - k) for k in range(y, n + 1))


# --- hand-computed limits ----------------------------------------------------------------

def test_n_1_fair_coin_limits_are_the_whole_range():
    # n = 1, theta = 0.5. Lower 95 %: P(R<=0) = 0.5 >= 0.025, so r = 0,
    # alpha = (0.5 - 0.025) / (0.5 - 0) = 0.95, limit (0 - 0.95)/1 < 0 -> 0.
    # Upper: the mirror, 1 - 0 = 1. A single case can never be outside.
    assert funnel.exact_limits(1, 0.5, 0.95) == (0.0, 1.0)
    assert funnel.exact_limits(1, 0.5, 0.998) == (0.0, 1.0)
    assert funnel.position(0, 1, 0.5) == funnel.WITHIN
    assert funnel.position(1, 1, 0.5) == funnel.WITHIN


def test_n_1_rare_event_upper_limit():
    # n = 1, theta = 0.0005, upper 99.8 % = 1 - lower(1, 0.9995, 0.001):
    # P(R<=0 | 0.9995) = 0.0005 < 0.001, so r = 1; P(R<=1) = 1;
    # alpha = (1 - 0.001) / (1 - 0.0005) = 0.999 / 0.9995; lower = (1 - alpha) / 1;
    # upper = 1 - (1 - alpha) = alpha = 0.99949975...
    expected = 0.999 / 0.9995
    assert funnel.exact_limit(1, 0.0005, 0.999) == pytest.approx(expected, abs=1e-12)
    assert funnel.position(1, 1, 0.0005) == funnel.ABOVE_998  # P(R >= 1) = 0.0005 < 0.001


def test_small_n_ten_fair_coins():
    # n = 10, theta = 0.5; CDF in 1024ths: F(0)=1, F(1)=11, F(2)=56, F(7)=968, F(8)=1013.
    # Lower 95 %: 0.025 = 25.6/1024; r = 2 (F(1) < 25.6 <= F(2));
    # alpha = (56 - 25.6) / (56 - 11) = 30.4/45; limit = (2 - 30.4/45) / 10 = 0.13244...
    low95 = (2 - 30.4 / 45) / 10
    # Lower 99.8 %: 0.001 = 1.024/1024; r = 1; alpha = (11 - 1.024) / (11 - 1) = 0.9976;
    # limit = (1 - 0.9976) / 10 = 0.00024.
    low998 = (1 - 0.9976) / 10
    got95 = funnel.exact_limits(10, 0.5, 0.95)
    got998 = funnel.exact_limits(10, 0.5, 0.998)
    assert got95[0] == pytest.approx(low95, abs=1e-12)
    assert got998[0] == pytest.approx(low998, abs=1e-12)
    # theta = 0.5 is symmetric, and so are the limits (the upper is the mirror image)
    assert got95[1] == pytest.approx(1 - low95, abs=1e-12)
    assert got998[1] == pytest.approx(1 - low998, abs=1e-12)
    # 9 of 10: P(R >= 9) = 11/1024 = 1.07 % < 2.5 %: above 95 %; 8 of 10 (5.5 %) is not
    assert funnel.position(9, 10, 0.5) == funnel.ABOVE_95
    assert funnel.position(8, 10, 0.5) == funnel.WITHIN
    assert funnel.position(0, 10, 0.5) == funnel.BELOW_998  # 1/1024 < 0.1 %


def test_small_n_skewed_benchmark():
    # n = 5, theta = 0.9. Upper 95 % = 1 - lower(5, 0.1, 0.025): P(R<=0 | 0.1) = 0.59049
    # >= 0.025, so r = 0, alpha = (0.59049 - 0.025)/0.59049, limit < 0 -> 0, upper = 1.
    assert funnel.exact_limits(5, 0.9, 0.95)[1] == 1.0
    # Lower 95 %: F(2) = 0.00856, F(3) = 0.08146; r = 3,
    # alpha = (0.08146 - 0.025) / (0.08146 - 0.00856); limit = (3 - alpha) / 5.
    f2, f3 = tail_at_most(2, 5, 0.9), tail_at_most(3, 5, 0.9)
    expected = (3 - (f3 - 0.025) / (f3 - f2)) / 5
    assert funnel.exact_limits(5, 0.9, 0.95)[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("theta", [0.5, 0.12])
def test_large_n_agrees_with_the_normal_approximation(theta):
    # n = 10,000: the binomial is close to normal. At theta = 0.5 (no skew) the exact and
    # normal limits agree to about 1/n; at 0.12 the skew moves them by a few 1/n.
    n = 10_000
    tolerance = 1.5 / n if theta == 0.5 else 5 / n
    for coverage in funnel.COVERAGES:
        exact = funnel.exact_limits(n, theta, coverage)
        normal = funnel.normal_limits(n, theta, coverage)
        assert exact[0] == pytest.approx(normal[0], abs=tolerance)
        assert exact[1] == pytest.approx(normal[1], abs=tolerance)
    # the normal limit itself, by hand: 0.5 +/- 1.959964 * sqrt(0.25 / 10000)
    if theta == 0.5:
        assert funnel.normal_limits(n, 0.5, 0.95)[1] == pytest.approx(0.5 + 1.959964 * 0.005,
                                                                      abs=1e-6)


def test_large_n_exact_limit_matches_brute_force_quantile():
    # n = 2,000, theta = 0.3: the lower 99.8 % limit lies between (r-1)/n and r/n where r
    # is the smallest count with P(R <= r) >= 0.001, found here in exact integer
    # arithmetic: P(R <= r) * 10^n = sum of comb(n, k) 3^k 7^(n-k).
    n = 2000
    cumulative, r, threshold = 0, 0, 10**n // 1000
    while True:
        cumulative += math.comb(n, r) * 3**r * 7 ** (n - r)
        if cumulative >= threshold:
            break
        r += 1
    low = funnel.exact_limit(n, 0.3, 0.001)
    assert (r - 1) / n < low <= r / n


def test_degenerate_and_empty_cases():
    assert funnel.exact_limits(50, 0.0, 0.95) == (0.0, 0.0)
    assert funnel.exact_limits(50, 1.0, 0.998) == (1.0, 1.0)
    assert all(math.isnan(v) for v in funnel.exact_limits(0, 0.5))
    assert funnel.position(0, 0, 0.5) is None
    with pytest.raises(ValueError):
        funnel.exact_limit(10, 1.5, 0.5)


def test_fractional_denominators_are_rounded_to_whole_posts():
    assert funnel.whole_denominator(9.8) == 10
    assert funnel.whole_denominator(0.3) == 1
    assert funnel.whole_denominator(0) == 0
    assert funnel.exact_limits(9.8, 0.2) == funnel.exact_limits(10, 0.2)


# --- the limits are the exact test ----------------------------------------------------------

@pytest.mark.parametrize("theta", [0.03, 0.2, 0.5, 0.77, 0.9, 0.985])
def test_outside_a_limit_exactly_when_the_exact_test_says_so(theta):
    for n in range(1, 51):
        for y in range(n + 1):
            upper, lower = tail_at_least(y, n, theta), tail_at_most(y, n, theta)
            if min(abs(upper - t) for t in (0.001, 0.025)) < 1e-12 or min(
                    abs(lower - t) for t in (0.001, 0.025)) < 1e-12:
                continue  # a tail exactly at the boundary: floating point decides
            expected = (funnel.ABOVE_998 if upper < 0.001 else funnel.ABOVE_95
                        if upper < 0.025 else funnel.BELOW_998 if lower < 0.001
                        else funnel.BELOW_95 if lower < 0.025 else funnel.WITHIN)
            assert funnel.position(y, n, theta) == expected, (n, y)


def test_funnel_curve_brackets_the_benchmark():
    curve = funnel.funnel_curve(0.7, 5000)
    assert curve["denominator"].iloc[0] == 1 and curve["denominator"].iloc[-1] == 5000
    assert (curve["low_998"] <= curve["low_95"]).all()
    assert (curve["low_95"] <= 0.7).all() and (curve["high_95"] >= 0.7).all()
    assert (curve["high_95"] <= curve["high_998"]).all()
    # narrows: the band at 5,000 is far tighter than at 50
    at = curve.set_index("denominator")
    assert at.loc[5000, "high_998"] - at.loc[5000, "low_998"] < 0.2 * (
        at.loc[50, "high_998"] - at.loc[50, "low_998"])


# --- small and large offices ------------------------------------------------------------------

def test_small_office_with_extreme_rate_is_inside_large_office_moderately_worse_is_outside():
    offices = pd.DataFrame({
        "office": ["Tiny", "Small", "Big", "Region rest"],
        "numerator": [2, 5, 1500, 8000],
        "denominator": [5, 5, 2000, 10_000],
    })
    out, theta = funnel.assess(offices, "numerator", "denominator", higher_is_better=True,
                               theta=0.8)
    assert theta == 0.8
    by = out.set_index("office")
    # 2 of 5 = 40 %, half the regional 80 %: P(R <= 2 | 5, 0.8) = 5.8 % -> inside
    assert by.loc["Tiny", "position"] == funnel.WITHIN
    # 5 of 5 = 100 %: P(R = 5) = 33 % -> inside (not "best in class")
    assert by.loc["Small", "position"] == funnel.WITHIN
    # 1,500 of 2,000 = 75 %, five points worse: z = -0.05 / sqrt(0.16/2000) = -5.6
    assert by.loc["Big", "position"] == funnel.BELOW_998
    assert by.loc["Big", "signal"] == "worse"
    assert by.loc["Region rest", "position"] == funnel.WITHIN


def test_assess_uses_the_pooled_rate_and_the_direction():
    offices = pd.DataFrame({"office": ["A", "B"], "numerator": [10, 290],
                            "denominator": [100, 900]})
    out, theta = funnel.assess(offices, "numerator", "denominator", higher_is_better=False)
    assert theta == pytest.approx(300 / 1000)
    # lower is better: A at 10 % (z = -6.5) is better than expected
    assert out.set_index("office").loc["A", "signal"] == "better"


# --- over-dispersion --------------------------------------------------------------------------

def test_overdispersion_factor_hand_computed():
    # theta = 0.5, n = 100 everywhere, so sd = 0.05 and z = (p - 0.5) / 0.05:
    # numerators 35..65 give z = -3, -2, -1, 0, 0, 0, 0, 1, 2, 3.
    # Winsorised at the 10 % / 90 % quantiles (linear interpolation: -3 + 0.9 * 1 = -2.1,
    # and 2.1): squares 4.41 + 4 + 1 + 0 + 0 + 0 + 0 + 1 + 4 + 4.41 = 18.82; phi = 1.882.
    numerators = [35, 40, 45, 50, 50, 50, 50, 55, 60, 65]
    phi = funnel.overdispersion(numerators, [100] * 10, 0.5)
    assert phi == pytest.approx(1.882, abs=1e-12)
    # exact limits: 65/100 has P(R >= 65) = 0.18 % -> above 95 % only
    assert funnel.position(65, 100, 0.5) == funnel.ABOVE_95
    # inflated: 0.5 + 1.959964 * sqrt(1.882 * 0.25 / 100) = 0.6344; 65 % is still above it,
    # 61 % (P(R >= 61) = 1.8 % exactly; z = 1.60 after inflation) falls back inside
    assert funnel.limits(100, 0.5, 0.95, phi)[1] == pytest.approx(
        0.5 + 1.959964 * math.sqrt(1.882 * 0.25 / 100), abs=1e-6)
    assert funnel.position(65, 100, 0.5, phi) == funnel.ABOVE_95
    assert funnel.position(61, 100, 0.5) == funnel.ABOVE_95
    assert funnel.position(61, 100, 0.5, phi) == funnel.WITHIN


def test_overdispersion_below_one_keeps_the_exact_limits():
    assert funnel.limits(100, 0.5, 0.95, 0.7) == funnel.exact_limits(100, 0.5, 0.95)
    assert math.isnan(funnel.overdispersion([5], [10], 0.5))


def test_ratio_measures_are_excluded_with_a_reason():
    assert set(funnel.EXCLUDED) == {"caseload_per_officer", "workload_capacity"}
    assert all(len(reason) > 20 for reason in funnel.EXCLUDED.values())


# --- the array path against the scalar functions -------------------------------------------

@pytest.mark.parametrize("phi", [None, 0.8, 2.5])
def test_assess_and_curve_equal_the_scalar_limits_and_positions(phi):
    # assess and funnel_curve compute the exact limits over arrays (dashboard.stats.batch);
    # each row must equal what the scalar limits() and position() give for it, including
    # fractional (FTE) denominators, a zero denominator and counts on either side.
    import random
    rng = random.Random(11)
    dens = [0, 0.6, 1, 2, 3.5, 7, 9.8, 40, 61, 250, 999, 4000] + [
        rng.randint(1, 3000) for _ in range(60)]
    nums = [0 if d == 0 else round(d * rng.choice([0.0, 0.3, 0.62, 0.7, 0.75, 1.0]))
            for d in dens]
    offices = pd.DataFrame({"numerator": nums, "denominator": dens})
    out, theta = funnel.assess(offices, "numerator", "denominator", True, phi=phi)
    for row in out.itertuples():
        if row.denominator <= 0:
            assert math.isnan(row.low_95) and pd.isna(row.position) and row.signal == ""
            continue
        low95, high95 = funnel.limits(row.denominator, theta, 0.95, phi)
        low998, high998 = funnel.limits(row.denominator, theta, 0.998, phi)
        assert (row.low_95, row.high_95, row.low_998, row.high_998) == (
            low95, high95, low998, high998), row
        assert row.position == funnel.position(row.numerator, row.denominator, theta, phi)
    curve = funnel.funnel_curve(theta, 4000, phi=phi)
    for row in curve.itertuples():
        assert (row.low_95, row.high_95) == funnel.limits(row.denominator, theta, 0.95, phi)
        assert (row.low_998, row.high_998) == funnel.limits(row.denominator, theta, 0.998,
                                                            phi)
