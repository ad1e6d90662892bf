"""Funnel plots: control limits for a proportion around a benchmark, at every denominator.

Offices differ in size, so a raw league table rewards and punishes small offices by chance.
A funnel plot draws each office's rate against its denominator with limits that narrow as
the denominator grows; an office outside the limits differs from the benchmark by more than
chance would explain (Spiegelhalter, "Funnel plots for comparing institutional
performance", Statistics in Medicine 2005).

Method (used everywhere in this module unless a function says otherwise): **exact binomial
limits, smoothed by Spiegelhalter's interpolation**. For benchmark proportion theta,
denominator n and a tail area t (0.025 for the 95 % limits, 0.001 for 99.8 %):

- lower limit: r is the smallest whole number with P(R <= r) >= t, R ~ Binomial(n, theta);
  alpha = (P(R <= r) - t) / (P(R <= r) - P(R <= r - 1)); the limit is (r - alpha) / n;
- upper limit: its mirror image, 1 - (the lower limit for 1 - theta), i.e. the same
  construction on the count of "failures";
- both clipped to [0, 1].

The binomial distribution function and its quantile are scipy's (``scipy.stats.binom``).
The interpolation turns the staircase of whole counts into a smooth curve in n, and is
built so that **a whole count y lies outside a limit exactly when the exact one-sided test
says so**: below the lower limit iff P(R <= y) < t, above the upper iff P(R >= y) < t
(tested by brute force in tests/test_funnel.py). Applying Spiegelhalter's lower-tail
formula unchanged at p = 1 - t for the upper limit (as some tools do) would put the limit
up to one count lower, so an office at that count (e.g. 5 out of 5, 100 %) would be
"outside" although P(R >= y) is well above t; the mirror avoids that and makes the two
limits symmetric (theta = 0.5 gives limits symmetric about 0.5).

``normal_limits`` is the normal approximation theta +/- z sqrt(theta (1 - theta) / n),
given for comparison (the two agree to within about 1/n at large n); the app uses the exact
limits.

Units: proportions 0..1 here; the compare page multiplies by 100.

Which measures go on a funnel: proportions of whole things counted in the period (cases,
orders, releases, appointments, key-question judgements). Two treatments to know about:

- **Vacancy rate** is vacant FTE / budgeted FTE, not a count of people. It is treated as a
  proportion of posts with n = the budgeted FTE rounded to the nearest whole post (at least
  1): an office of 9.8 FTE is judged like an office of 10 posts. Good enough to show which
  offices' gaps are beyond chance; stated on the page.
- **Caseload per officer** (cases per FTE, not a proportion, no upper bound) and **workload
  capacity** (weighted points over available points, which can exceed 100 %) have no
  binomial model and are EXCLUDED from the funnel (``EXCLUDED``). Comparing them fairly
  would need a model of how caseloads vary (e.g. Poisson or over-dispersed counts per FTE).

Over-dispersion (optional): the limits above assume every difference is binomial chance.
With large denominators (appointments: thousands per office) and real differences between
offices, or with judgements clustered within cases (% sufficient over all key questions),
nearly every office falls outside them, and the plot stops separating anything. Spiegelhalter
(2005, section 3.3) estimates a multiplicative over-dispersion factor phi from the offices'
own z-scores, z_i = (y_i/n_i - theta) / sqrt(theta (1 - theta) / n_i), **Winsorised** at
the 10th and 90th percentiles (so a few outliers cannot set phi): phi = mean(z_w^2).
``overdispersion`` returns it; when phi > 1 and the caller asks for it, the limits become
theta +/- z sqrt(phi theta (1 - theta) / n) (**normal approximation**, inflated), and an
office is outside when its rate is beyond them. phi <= 1 leaves the exact limits unchanged.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import binom

from dashboard.stats.intervals import z_two_sided

# Two-sided coverage of each pair of limits: 95 % ("about 2 standard deviations") and
# 99.8 % ("about 3").
COVERAGES: tuple[float, ...] = (0.95, 0.998)

EXCLUDED: dict[str, str] = {
    "caseload_per_officer": "cases per FTE is a ratio without an upper bound, not a "
                            "proportion; there is no binomial funnel for it",
    "workload_capacity": "weighted workload points over available points can exceed "
                         "100 %; it is not a proportion of counted things",
}

# Where an office lies against the limits, from highest to lowest.
ABOVE_998 = "above 99.8 % limit"
ABOVE_95 = "above 95 % limit"
WITHIN = "within limits"
BELOW_95 = "below 95 % limit"
BELOW_998 = "below 99.8 % limit"
POSITIONS = (ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)


def binomial_cdf(r: int, n: int, theta: float) -> float:
    """P(R <= r) for R ~ Binomial(n, theta) (scipy.stats.binom).

    r < 0 gives 0 and r >= n gives 1; theta is a proportion 0..1.
    """
    if r < 0:
        return 0.0
    if r >= n:
        return 1.0
    if theta <= 0.0:
        return 1.0
    if theta >= 1.0:
        return 0.0
    return float(binom.cdf(r, n, theta))


def _quantile(n: int, theta: float, p: float) -> int:
    """The smallest r with P(R <= r) >= p, R ~ Binomial(n, theta): scipy's
    ``binom.ppf``, then checked against ``binomial_cdf`` (the CDF the interpolation uses).

    binom.ppf has these semantics, but computes its CDF its own way: where p is within a
    few ulps of P(R <= r) it can answer one away from what ``binomial_cdf`` says, which
    would put the interpolation weight outside [0, 1). The check steps to the exact answer
    (for the tail areas the app uses it has not moved on any grid tried)."""
    guess = float(binom.ppf(p, n, theta))
    r = min(n, max(0, int(guess))) if math.isfinite(guess) else 0
    while r > 0 and binomial_cdf(r - 1, n, theta) >= p:
        r -= 1
    while binomial_cdf(r, n, theta) < p:
        r += 1
    return r


def exact_limit(n: int, theta: float, p: float) -> float:
    """The funnel limit with lower-tail probability p for denominator n around benchmark
    theta: p < 0.5 gives a lower limit with tail area p (0.025 for the lower 95 % limit),
    p > 0.5 an upper limit with tail area 1 - p (0.975 for the upper 95 % limit). Exact
    binomial with Spiegelhalter's interpolation, upper limits by mirror image (see the
    module docstring). Proportion 0..1; nan for n < 1.

    theta of exactly 0 or 1 has no spread: the limit is theta itself.
    """
    if not 0.0 <= theta <= 1.0 or not 0.0 < p < 1.0:
        raise ValueError(f"need 0 <= theta <= 1 and 0 < p < 1, got theta={theta}, p={p}")
    if n < 1:
        return math.nan
    if theta in (0.0, 1.0):
        return theta
    if p > 0.5:
        return 1.0 - exact_limit(n, 1.0 - theta, 1.0 - p)
    r = _quantile(n, theta, p)
    at_r = binomial_cdf(r, n, theta)
    below = binomial_cdf(r - 1, n, theta)
    alpha = (at_r - p) / (at_r - below)
    return min(1.0, max(0.0, (r - alpha) / n))


def whole_denominator(denominator: float) -> int:
    """The n the exact limits use for a denominator: itself when whole; a fractional one
    (FTE) rounded to the nearest whole number, at least 1. 0 stays 0 (no limits)."""
    if denominator <= 0 or math.isnan(denominator):
        return 0
    return max(1, int(math.floor(denominator + 0.5)))


def exact_limits(n: float, theta: float, coverage: float = 0.95) -> tuple[float, float]:
    """(lower, upper) exact binomial funnel limits with the given two-sided coverage
    (0.95 or 0.998), as proportions; n is rounded by ``whole_denominator``."""
    tail = (1.0 - coverage) / 2.0
    whole = whole_denominator(n)
    return exact_limit(whole, theta, tail), exact_limit(whole, theta, 1.0 - tail)


def normal_limits(n: float, theta: float, coverage: float = 0.95,
                  phi: float = 1.0) -> tuple[float, float]:
    """(lower, upper) by the normal approximation theta +/- z sqrt(phi theta(1-theta)/n),
    no continuity correction, clipped to [0, 1]; z = 1.96 for 95 %, 3.09 for 99.8 %.
    phi is the over-dispersion factor (1: none). nan for n <= 0."""
    if n <= 0:
        return (math.nan, math.nan)
    z = z_two_sided(coverage)
    half = z * math.sqrt(phi * theta * (1.0 - theta) / n)
    return (max(0.0, theta - half), min(1.0, theta + half))


def limits(n: float, theta: float, coverage: float, phi: float | None = None
           ) -> tuple[float, float]:
    """The limits the app draws: exact binomial, or normal inflated by phi when phi > 1."""
    if phi is not None and phi > 1.0:
        return normal_limits(n, theta, coverage, phi)
    return exact_limits(n, theta, coverage)


def pooled_rate(numerators: list[float], denominators: list[float]) -> float:
    """sum of numerators / sum of denominators over units with a denominator; nan if none.
    The benchmark theta of a funnel (the regional rate)."""
    pairs = [(x, n) for x, n in zip(numerators, denominators, strict=True) if n > 0]
    total = sum(n for _x, n in pairs)
    return sum(x for x, _n in pairs) / total if total > 0 else math.nan


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between order statistics."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (pos - low) * (ordered[high] - ordered[low])


def overdispersion(numerators: list[float], denominators: list[float], theta: float,
                   winsor: float = 0.1) -> float:
    """Spiegelhalter's multiplicative over-dispersion factor phi: the mean of the squared
    z-scores after Winsorising them at the `winsor` and 1 - `winsor` quantiles (linear
    interpolation). About 1 when offices differ by chance alone. nan with fewer than 2
    offices with a denominator, or when theta is 0, 1 or nan."""
    pairs = [(x, n) for x, n in zip(numerators, denominators, strict=True) if n > 0]
    if len(pairs) < 2 or not 0.0 < theta < 1.0:
        return math.nan
    z = [(x / n - theta) / math.sqrt(theta * (1.0 - theta) / n) for x, n in pairs]
    low, high = _percentile(z, winsor), _percentile(z, 1.0 - winsor)
    return sum(min(high, max(low, v)) ** 2 for v in z) / len(z)


def limit_columns(coverage: float) -> tuple[str, str]:
    """Column names for a coverage's limits, e.g. ('low_95', 'high_95'), ('low_998', ...)."""
    tag = f"{coverage * 100:g}".replace(".", "")
    return f"low_{tag}", f"high_{tag}"


def curve_grid(max_denominator: float, points: int = 80) -> list[int]:
    """The whole denominators the limit lines are drawn at: every value from 1 to 60, then
    about `points` values spaced evenly on a log scale up to max_denominator."""
    top = max(1, whole_denominator(max_denominator))
    grid = set(range(1, min(top, 60) + 1))
    if top > 60:
        step = math.log(top / 60) / max(points - 1, 1)
        grid |= {min(top, round(60 * math.exp(step * i))) for i in range(points)}
    return sorted(grid)


def funnel_curve(theta: float, max_denominator: float, points: int = 80,
                 coverages: tuple[float, ...] = COVERAGES,
                 phi: float | None = None) -> pd.DataFrame:
    """The limit lines to draw: one row per whole denominator from 1 to max_denominator
    (every value up to 60, then about `points` values spaced evenly on a log scale).
    phi > 1 draws the over-dispersed (normal) limits instead of the exact ones.

    Columns: denominator, and low_95, high_95, low_998, high_998 (proportions).
    """
    ns = curve_grid(max_denominator, points)
    out = pd.DataFrame({"denominator": ns})
    for coverage in coverages:
        low, high = limit_columns(coverage)
        out[low], out[high] = _many_limits(ns, theta, coverage, phi)
    return out


def _many_limits(denominators: list[float], theta: float, coverage: float,
                 phi: float | None) -> tuple[list[float], list[float]]:
    """``limits`` at each denominator around one theta: the exact ones in one array pass
    (dashboard.stats.batch, value for value the same as ``exact_limits``), the normal ones
    one by one. Denominators must be > 0."""
    if phi is not None and phi > 1.0:
        pairs = [normal_limits(n, theta, coverage, phi) for n in denominators]
        return [lo for lo, _ in pairs], [hi for _, hi in pairs]
    from dashboard.stats import batch  # batch builds on this module
    low, high = batch.funnel_limits(denominators, theta, coverage)
    return [float(v) for v in low], [float(v) for v in high]


def position_within(rate: float, low95: float, high95: float, low998: float,
                    high998: float) -> str:
    """``position`` from limits already computed (a rate exactly on a limit is within)."""
    if rate > high998:
        return ABOVE_998
    if rate > high95:
        return ABOVE_95
    if rate < low998:
        return BELOW_998
    if rate < low95:
        return BELOW_95
    return WITHIN


def position(numerator: float, denominator: float, theta: float,
             phi: float | None = None) -> str | None:
    """Where a rate lies against the limits: one of POSITIONS, None without a
    denominator. A rate exactly on a limit counts as within it. Without over-dispersion
    (phi None or <= 1), for whole counts this is the exact one-sided binomial test at tail
    areas 2.5 % and 0.1 %."""
    if not denominator or denominator <= 0:
        return None
    return position_within(numerator / denominator, *limits(denominator, theta, 0.95, phi),
                           *limits(denominator, theta, 0.998, phi))


def signal(pos: str | None, higher_is_better: bool | None) -> str:
    """'worse', 'better' or 'as expected' for a position, given the measure's direction
    ('higher' / 'lower' when the measure has no better direction); '' without data."""
    if pos is None:
        return ""
    if pos == WITHIN:
        return "as expected"
    high = pos in (ABOVE_998, ABOVE_95)
    if higher_is_better is None:
        return "higher" if high else "lower"
    return "better" if high == higher_is_better else "worse"


def assess(df: pd.DataFrame, numerator: str, denominator: str,
           higher_is_better: bool | None, theta: float | None = None,
           phi: float | None = None) -> tuple[pd.DataFrame, float]:
    """Each unit's rate against the funnel around theta (default: the pooled rate of all
    rows, sum of numerators / sum of denominators); phi > 1 uses the over-dispersed limits.

    Returns (a copy of df with columns rate, low_95, high_95, low_998, high_998 (all
    proportions 0..1), position, signal), theta). Rows with no denominator get NaN limits
    and an empty position.
    """
    out = df.copy()
    num = out[numerator].astype(float)
    den = out[denominator].astype(float)
    if theta is None:
        theta = pooled_rate(list(num), list(den))
    out["rate"] = num / den.where(den > 0)
    known = [i for i, d in enumerate(den) if d > 0 and not math.isnan(theta)]
    columns: list[list[float]] = []
    for coverage in COVERAGES:
        low, high = limit_columns(coverage)
        lows, highs = _many_limits([float(den.iloc[i]) for i in known], theta, coverage, phi)
        for name, values in ((low, lows), (high, highs)):
            column = [math.nan] * len(out)
            for i, v in zip(known, values, strict=True):
                column[i] = v
            out[name] = column
            columns.append(column)
    rates = list(out["rate"])
    places: list[str | None] = [None] * len(out)
    for i in known:
        places[i] = position_within(rates[i], *(c[i] for c in columns))
    out["position"] = places
    out["signal"] = [signal(p, higher_is_better) for p in places]
    return out, theta
