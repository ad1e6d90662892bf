"""How sure a rating is, and how many cases to audit: Beta posterior probabilities that
a key question's true proportion is at or above a band (the Beta survival function of
scipy), and the sample size for a margin of error. Proportions are 0..1, ``threshold_pct``
is percent (0..100).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

from scipy import special

from dashboard.hmip.ratings.scheme import _is_int
from dashboard.stats.intervals import z_two_sided

# ---------------------------------------------------------------------------------------
# Probability: Beta posteriors (scipy)
# ---------------------------------------------------------------------------------------


def _check_counts(successes: int, n: int) -> None:
    if not (_is_int(successes) and _is_int(n)) or not 0 <= successes <= n:
        raise ValueError(f"need whole numbers 0 <= successes <= n, got {successes}/{n}")


def probability_at_least(
    successes: int,
    n: int,
    threshold_pct: float,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """Posterior probability (0..1) that the true proportion is >= ``threshold_pct`` %.

    The posterior is Beta(prior_a + successes, prior_b + n - successes); the default
    Beta(1, 1) prior is uniform. ``threshold_pct`` is in percent (0..100). With n == 0 the
    answer comes from the prior alone (0.35 for 65 % under the uniform prior).
    """
    _check_counts(successes, n)
    if not 0 <= threshold_pct <= 100:
        raise ValueError(f"threshold_pct must be between 0 and 100, got {threshold_pct}")
    a = prior[0] + successes
    b = prior[1] + n - successes
    return _beta_sf(threshold_pct / 100.0, a, b)


@lru_cache(maxsize=65_536)
def _beta_sf(x: float, a: float, b: float) -> float:
    # P(p >= x) under Beta(a, b): the complemented regularized incomplete beta function,
    # which avoids the cancellation in 1 - cdf. It is what scipy.stats.beta.sf computes
    # (scipy 1.17: beta._sf(x, a, b) is special.betaincc(a, b, x)), called without the
    # distribution's argument checking: ~2 us a call instead of ~85 us, which a national
    # readiness page asking for 1,700 posteriors per cold view paid in full.
    # tests/test_ratings.py checks the two agree.
    return float(special.betaincc(a, b, x))


def probability_all_at_least(
    counts: Iterable[tuple[int, int]],
    threshold_pct: float,
    prior: tuple[float, float] = (1.0, 1.0),
) -> float:
    """Probability (0..1) that EVERY key question's true proportion is >= ``threshold_pct``.

    ``counts`` holds (sufficient, applicable) per key question. A standard is rated on its
    lowest key question, so "the standard is really at least Good" means every key question
    is really >= 65 %. Computed as the product of the per-question posteriors
    (``probability_at_least``), i.e. treating the questions as independent; they are asked
    of the same cases, so this is an approximation. Questions with no applicable cases are
    skipped, as they are in the rating. Empty ``counts`` gives NaN.
    """
    product = math.nan
    for sufficient, applicable in counts:
        if applicable == 0:
            continue
        p = probability_at_least(sufficient, applicable, threshold_pct, prior)
        product = p if math.isnan(product) else product * p
    return product



# ---------------------------------------------------------------------------------------
# Sample size
# ---------------------------------------------------------------------------------------


def sample_size(
    confidence: float = 0.80,
    margin: float = 0.05,
    population: int | None = None,
    p: float = 0.5,
    *,
    z: float | None = None,
) -> int:
    """Cases to audit so a % sufficient has the given two-sided margin of error.

    ``confidence``, ``margin`` and ``p`` (the expected proportion; 0.5 is the worst case)
    are proportions (0..1). n0 = z^2 p (1 - p) / margin^2, z = the standard normal quantile
    at 1 - (1 - confidence) / 2; with a ``population`` N the finite population correction
    n = n0 / (1 + (n0 - 1) / N) applies. Rounded up. ``z`` overrides the exact quantile,
    e.g. ``z=1.28`` to match tables that round it (80 %, 5 %: exact z gives 165, 1.28 gives
    164).
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be a proportion between 0 and 1, got {margin}")
    if not 0 < p < 1:
        raise ValueError(f"p must be a proportion strictly between 0 and 1, got {p}")
    z = z_two_sided(confidence) if z is None else z
    n = z * z * p * (1 - p) / (margin * margin)
    if population is not None:
        if not _is_int(population) or population < 1:
            raise ValueError(f"population must be a positive whole number, got {population!r}")
        n = n / (1 + (n - 1) / population)
    # Tolerate float noise just above a whole number (e.g. 384.0000000001 -> 384).
    return max(1, math.ceil(n - 1e-9))


def sample_size_formula_text() -> str:
    """The sample size formula in words and symbols, for display beside the result."""
    return (
        "n0 = z² × p × (1 − p) / e², where z is the standard normal quantile for the "
        "confidence level (1.28 for 80 %, 1.96 for 95 %), p the expected proportion "
        "sufficient (0.5 when unknown, the largest sample) and e the margin of error "
        "(0.05 for ±5 percentage points); for a population of N cases, "
        "n = n0 / (1 + (n0 − 1) / N); rounded up to a whole case."
    )
