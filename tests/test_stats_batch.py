"""dashboard.stats.batch gives, element for element, exactly what the scalar functions of
dashboard.stats.funnel and dashboard.stats.spc give (the stored statistics rely on it)."""

from __future__ import annotations

import random

import numpy as np

from dashboard.stats import batch, funnel, spc

DENOMINATORS = [0, 0.4, 1, 2, 3, 5, 9.6, 12, 40, 61, 250, 3000, 12000]
THETAS = [0.0, 1.0, 0.5, 0.97, 0.03, 0.001, 0.999]


def _pairs(count: int = 600):
    rng = random.Random(16)
    return ([rng.choice(DENOMINATORS) for _ in range(count)],
            [rng.choice([*THETAS, rng.random()]) for _ in range(count)])


def test_funnel_limits_equal_the_scalar_ones_exactly():
    ns, thetas = _pairs()
    for coverage in funnel.COVERAGES:
        low, high = batch.funnel_limits(ns, thetas, coverage)
        want = [funnel.exact_limits(n, t, coverage) for n, t in zip(ns, thetas, strict=True)]
        assert np.array_equal(low, [lo for lo, _ in want], equal_nan=True)
        assert np.array_equal(high, [hi for _, hi in want], equal_nan=True)


def test_control_limits_equal_the_p_chart_ones_exactly():
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    rng = random.Random(7)
    dens = [rng.choice([1, 3, 6, 14, 250, 9.6]) for _ in months]
    nums = [rng.randint(0, int(d)) for d in dens]
    chart = spc.p_chart(months, nums, dens)
    lcl, ucl = batch.control_limits(chart["denominator"], chart["centre"])
    assert np.array_equal(lcl, chart["lcl"]) and np.array_equal(ucl, chart["ucl"])


def test_normal_limits_for_over_dispersion():
    low, high = batch.normal_limits([10, 200], 0.8, 0.95, 3.5)
    assert (low[1], high[1]) == funnel.normal_limits(200, 0.8, 0.95, 3.5)
