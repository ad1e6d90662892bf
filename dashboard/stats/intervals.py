"""Small statistics used by queries and pages: proportions and their intervals."""

from __future__ import annotations

import math

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
