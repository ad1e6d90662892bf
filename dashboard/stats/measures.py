"""Rates from numerators and denominators, with Wilson 95 % intervals, in percent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.stats.intervals import wilson_interval


def add_rate(df: pd.DataFrame, numerator: str, denominator: str, name: str,
             interval: bool = True) -> pd.DataFrame:
    """Add column `name` = 100 * numerator / denominator (NaN where the denominator is 0),
    and, when interval is set, `name_low` and `name_high` (Wilson 95 %, percent)."""
    num = df[numerator].astype(float)
    den = df[denominator].astype(float)
    df[name] = np.where(den > 0, 100.0 * num / den.where(den > 0, 1.0), np.nan)
    if interval:
        bounds = [wilson_interval(int(n), int(d)) for n, d in zip(num, den, strict=True)]
        df[f"{name}_low"] = [100.0 * lo for lo, _ in bounds]
        df[f"{name}_high"] = [100.0 * hi for _, hi in bounds]
    return df


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is not positive."""
    return float(numerator) / float(denominator) if denominator and denominator > 0 else np.nan
