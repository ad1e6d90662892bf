"""Many funnel and control limits at once: the same numbers as dashboard.stats.funnel and
dashboard.stats.spc, computed over numpy arrays so the statistics refresh
(dashboard.precompute) can fill every window, office and measure in seconds.

Each function here is the element-wise twin of a scalar function and returns exactly what
the scalar one returns for each element (same scipy binomial distribution function, same
search for the quantile, same interpolation); tests/test_stats_batch.py checks it value for
value. Proportions 0..1 throughout.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from scipy.stats import binom

from dashboard.stats import funnel
from dashboard.stats.spc import TAIL


def binomial_cdf(r: np.ndarray, n: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """funnel.binomial_cdf element-wise: P(R <= r) for R ~ Binomial(n, theta)."""
    r, n, theta = np.broadcast_arrays(np.asarray(r, float), np.asarray(n, float),
                                      np.asarray(theta, float))
    inside = (r >= 0) & (r < n) & (theta > 0.0) & (theta < 1.0)
    out = np.where(r < 0, 0.0, np.where(r >= n, 1.0, np.where(theta <= 0.0, 1.0, 0.0)))
    if inside.any():
        out = out.copy()
        out[inside] = binom.cdf(r[inside], n[inside], theta[inside])
    return out


def _quantile(n: np.ndarray, theta: np.ndarray, p: np.ndarray) -> np.ndarray:
    """funnel._quantile element-wise: the smallest r with P(R <= r) >= p, found by the same
    walk from the same normal-approximation start (each step only where still moving)."""
    sd = np.sqrt(n * theta * (1.0 - theta))
    inv = {v: NormalDist().inv_cdf(v) for v in set(np.ravel(p).tolist())}
    z = np.vectorize(inv.__getitem__, otypes=[float])(p)
    r = np.minimum(n, np.maximum(0.0, np.floor(n * theta + z * sd)))
    moving = np.flatnonzero(r > 0)
    while moving.size:
        down = (binomial_cdf(r[moving] - 1, n[moving], theta[moving]) >= p[moving])
        moving = moving[down]
        r[moving] -= 1
        moving = moving[r[moving] > 0]
    moving = np.arange(r.size)
    while moving.size:
        up = binomial_cdf(r[moving], n[moving], theta[moving]) < p[moving]
        moving = moving[up]
        r[moving] += 1
    return r


def _lower_limit(n: np.ndarray, theta: np.ndarray, p: np.ndarray) -> np.ndarray:
    """funnel.exact_limit for p < 0.5, n >= 1 and 0 < theta < 1."""
    r = _quantile(n, theta, p)
    at_r = binomial_cdf(r, n, theta)
    below = binomial_cdf(r - 1, n, theta)
    alpha = (at_r - p) / (at_r - below)
    return np.minimum(1.0, np.maximum(0.0, (r - alpha) / n))


def exact_limit(n, theta, p: float) -> np.ndarray:
    """funnel.exact_limit element-wise over whole denominators n and benchmarks theta (one
    tail probability p for all): nan for n < 1, theta itself at theta 0 or 1."""
    n = np.asarray(n, float)
    theta = np.asarray(theta, float)
    n, theta = np.broadcast_arrays(n, theta)
    if not 0.0 < p < 1.0 or ((theta < 0.0) | (theta > 1.0)).any():
        raise ValueError(f"need 0 <= theta <= 1 and 0 < p < 1, got p={p}")
    out = np.full(n.shape, math.nan)
    edge = (n >= 1) & ((theta == 0.0) | (theta == 1.0))
    out[edge] = theta[edge]
    work = (n >= 1) & ~edge
    if work.any():
        if p > 0.5:  # the mirror image, as funnel.exact_limit does it
            low = _lower_limit(n[work], 1.0 - theta[work], np.full(work.sum(), 1.0 - p))
            out[work] = 1.0 - low
        else:
            out[work] = _lower_limit(n[work], theta[work], np.full(work.sum(), p))
    return out


def whole_denominators(denominators) -> np.ndarray:
    """funnel.whole_denominator element-wise (0 for none, else rounded, at least 1)."""
    d = np.asarray(denominators, float)
    whole = np.maximum(1.0, np.floor(d + 0.5))
    return np.where((d <= 0) | np.isnan(d), 0.0, whole)


def funnel_limits(denominators, theta, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """funnel.exact_limits element-wise: (lower, upper) for each denominator around its
    theta, with the given two-sided coverage (0.95 or 0.998)."""
    tail = (1.0 - coverage) / 2.0
    whole = whole_denominators(denominators)
    return exact_limit(whole, theta, tail), exact_limit(whole, theta, 1.0 - tail)


def control_limits(denominators, centres) -> tuple[np.ndarray, np.ndarray]:
    """The exact p-chart limits of dashboard.stats.spc.p_chart element-wise: (lcl, ucl)
    with 3-sigma tail areas for each month's denominator around its centre line."""
    whole = whole_denominators(denominators)
    return exact_limit(whole, centres, TAIL), exact_limit(whole, centres, 1.0 - TAIL)


def normal_limits(denominators, theta: float, coverage: float, phi: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """funnel.normal_limits for one theta and phi, element-wise over denominators."""
    pairs = [funnel.normal_limits(float(n), theta, coverage, phi) for n in denominators]
    return (np.array([lo for lo, _ in pairs], float), np.array([hi for _, hi in pairs], float))
