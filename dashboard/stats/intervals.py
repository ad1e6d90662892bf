"""Small statistics used by queries and pages: proportions and their intervals."""

from __future__ import annotations

import math

from scipy import special

Z95 = 1.959963984540054


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
