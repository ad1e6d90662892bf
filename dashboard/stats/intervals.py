"""Small statistics used by queries and pages: proportions and their intervals."""

from __future__ import annotations

import math

from scipy import special
from scipy.stats import norm


def z_two_sided(confidence: float) -> float:
    """The standard normal quantile z for a two-sided interval of the given confidence
    (a proportion: 0.95 gives 1.959964, 0.8 gives 1.281552), scipy's ``norm.ppf`` at
    1 - (1 - confidence) / 2. ValueError unless 0 < confidence < 1."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be a proportion between 0 and 1, got {confidence}")
    return float(norm.ppf(1 - (1 - confidence) / 2))


Z95 = z_two_sided(0.95)  # 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, in proportion units (0..1).

    For n == 0 there is no information: returns (nan, nan).
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def safe_rate(numerator: float, denominator: float) -> float:
    """numerator / denominator, or nan when the denominator is zero."""
    return numerator / denominator if denominator else math.nan


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b): P(X <= x) for X ~ Beta(a, b); a, b > 0, x a proportion (0..1).

    scipy's ``special.betainc``, with the arguments checked (it would return NaN).
    """
    if not (a > 0 and b > 0):
        raise ValueError(f"a and b must be positive, got a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be a proportion between 0 and 1, got {x}")
    return float(special.betainc(a, b, x))
