"""Stratified case samples, drawn the way HMIP draws them: pure functions, no database.

A population is a DataFrame with one row per eligible case: ``person_id`` and the strata
columns (by default sentence type, risk of serious harm level and gender). The sample size
is shared between the strata in proportion to their populations (largest-remainder
rounding, so the stratum sizes add up to exactly n), and each stratum is a simple random
sample without replacement. The draw depends only on the population and the seed: the
same population and seed give the same cases on any machine (numpy's PCG64 generator).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.stats.intervals import z_two_sided

STRATA: tuple[str, ...] = ("sentence_type", "rosh_level", "gender")
SEED_MAX = 2**31 - 1  # case_sample.seed is a 32-bit integer on PostgreSQL
STRATUM_SEPARATOR = " | "

STRATA_COLUMNS = [
    *STRATA,
    "stratum",
    "population",
    "population_pct",
    "expected",
    "sample",
    "sample_pct",
]


def new_seed() -> int:
    """A fresh random seed in 0..2**31-2, to be stored with the sample it draws."""
    return secrets.randbelow(SEED_MAX)


def sample_size_working(confidence: float, margin: float, population: int) -> str:
    """The sample size sum with the numbers filled in, for display beside the result.

    confidence and margin are proportions (0.8, 0.05); p = 0.5 (the largest sample). The
    final figure is ``ratings.sample_size(confidence, margin, population)``.
    """
    from dashboard.hmip.ratings import sample_size

    z = z_two_sided(confidence)
    n0 = z * z * 0.25 / (margin * margin)
    corrected = n0 / (1 + (n0 - 1) / population)
    n = sample_size(confidence, margin, population=population)
    return (
        f"n0 = z² × p × (1 − p) / e² = {z:.4f}² × 0.5 × 0.5 / {margin:g}² = {n0:.1f}; "
        f"with the finite population correction n = n0 / (1 + (n0 − 1) / N) = "
        f"{n0:.1f} / (1 + {n0 - 1:.1f} / {population:,}) = {corrected:.1f}, rounded up "
        f"to {n:,} cases."
    )


def stratum_label(values: Sequence[object]) -> str:
    """The text stored in case_sample_member.stratum, e.g. 'licence | high | male'."""
    return STRATUM_SEPARATOR.join(str(v) for v in values)


def strata_labels(df: pd.DataFrame, strata: Sequence[str] = STRATA) -> pd.Series:
    """stratum_label of every row of df (which holds the strata columns)."""
    if df.empty:
        return pd.Series([], index=df.index, dtype=object)
    parts = [df[c].astype(str) for c in strata]
    label = parts[0]
    for part in parts[1:]:
        label = label + STRATUM_SEPARATOR + part
    return label


def allocate(population_counts: Mapping[str, int], n: int) -> dict[str, int]:
    """Cases to draw from each stratum: proportional allocation, largest remainder.

    Each stratum h with N_h cases gets floor(n N_h / N); the cases left over go one each
    to the strata with the largest remainders (ties: the larger stratum, then the label in
    alphabetical order). Integer arithmetic throughout, so the result is exact and the
    allocations add up to n. No stratum gets more than it has. Raises ValueError for
    n < 0, a negative count, or n larger than the population.
    """
    counts = {str(k): int(v) for k, v in population_counts.items()}
    if any(v < 0 for v in counts.values()):
        raise ValueError("stratum population counts cannot be negative")
    total = sum(counts.values())
    if n < 0:
        raise ValueError(f"sample size must be at least 0, got {n}")
    if n > total:
        raise ValueError(f"cannot draw {n} cases from a population of {total}")
    if total == 0:
        return dict.fromkeys(counts, 0)
    share = {k: (n * v) // total for k, v in counts.items()}
    remainder = {k: (n * v) % total for k, v in counts.items()}
    left = n - sum(share.values())
    order = sorted(counts, key=lambda k: (-remainder[k], -counts[k], k))
    for k in order[:left]:
        share[k] += 1
    return share


def draw_sample(
    population: pd.DataFrame, n: int, seed: int, strata: Sequence[str] = STRATA
) -> pd.DataFrame:
    """A stratified random sample of n cases from population, reproducible from seed.

    population: one row per case with ``person_id`` (unique) and the strata columns.
    Returns the sampled rows (population's columns plus ``stratum``, the label stored with
    each member), ordered by stratum then draw order. Every case gets a uniform random key
    from ``numpy.random.default_rng(seed)`` in person_id order; each stratum keeps its k
    smallest keys, k from ``allocate``. So the result depends only on the set of cases,
    their strata and the seed, not on the order rows arrive in.
    """
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be between 0 and {SEED_MAX}, got {seed}")
    missing = {"person_id", *strata} - set(population.columns)
    if missing:
        raise ValueError(f"population lacks column(s): {', '.join(sorted(missing))}")
    if population["person_id"].duplicated().any():
        raise ValueError("population lists a case twice")
    pop = population.sort_values("person_id", kind="stable").reset_index(drop=True)
    # Work on stratum numbers (0..k-1) with numpy: the labels are needed only per stratum.
    groups = pop.groupby(list(strata), sort=True, dropna=False)
    code = groups.ngroup().to_numpy()
    labels = np.array(
        [stratum_label(k if isinstance(k, tuple) else (k,)) for k in groups.size().index],
        dtype=object,
    )
    sizes = np.bincount(code, minlength=len(labels))
    quota = allocate(dict(zip(labels, sizes.tolist(), strict=True)), n)
    wanted = np.array([quota[label] for label in labels], dtype=np.int64)
    key = np.random.default_rng(seed).random(len(pop))  # one key per case, person_id order
    order = np.lexsort((key, code))  # by stratum, then key
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(order)) - starts[code[order]]
    take = order[rank < wanted[code[order]]]
    out = pop.iloc[take].reset_index(drop=True)
    out["stratum"] = labels[code[take]]
    return out


def strata_table(
    population: pd.DataFrame, sample: pd.DataFrame, strata: Sequence[str] = STRATA
) -> pd.DataFrame:
    """Each stratum's share of the sample against its share of the population.

    population and sample: one row per case with the strata columns. Columns: the strata
    columns, stratum (label), population (cases), population_pct (percent of the
    population, 0..100), expected (the exact proportional share of the sample,
    n N_h / N, fractional), sample (cases drawn), sample_pct (percent of the sample). One
    row per stratum present in the population, largest first.
    """
    cols = list(strata)
    pop = population[cols].value_counts().rename("population").reset_index()
    drawn = (
        sample[cols].value_counts().rename("sample").reset_index()
        if len(sample)
        else pd.DataFrame(columns=[*cols, "sample"])
    )
    return strata_table_from_counts(pop, drawn, strata)


def strata_table_from_counts(
    population: pd.DataFrame, sample: pd.DataFrame, strata: Sequence[str] = STRATA
) -> pd.DataFrame:
    """strata_table from counts: population has the strata columns and ``population``
    (cases), sample the strata columns and ``sample``. Strata absent from the population
    but present in the sample are kept (population 0), so nothing drawn goes unseen."""
    cols = list(strata)
    table = population[[*cols, "population"]].merge(sample[[*cols, "sample"]], on=cols, how="outer")
    table[["population", "sample"]] = table[["population", "sample"]].fillna(0)
    table = table.astype({"population": "int64", "sample": "int64"})
    total_pop = int(table["population"].sum())
    n = int(table["sample"].sum())
    table["stratum"] = strata_labels(table, strata)
    table["population_pct"] = 100 * table["population"] / total_pop if total_pop else np.nan
    table["expected"] = n * table["population"] / total_pop if total_pop else np.nan
    table["sample_pct"] = 100 * table["sample"] / n if n else np.nan
    table = table.sort_values(["population", "stratum"], ascending=[False, True])
    return table[[*cols, *STRATA_COLUMNS[len(STRATA) :]]].reset_index(drop=True)


def margin_table(strata: pd.DataFrame, column: str) -> pd.DataFrame:
    """strata_table summed over one strata column (e.g. gender): column, population,
    population_pct, sample, sample_pct (percent 0..100)."""
    out = strata.groupby(column, as_index=False)[["population", "sample"]].sum()
    total_pop, n = out["population"].sum(), out["sample"].sum()
    out["population_pct"] = 100 * out["population"] / total_pop if total_pop else np.nan
    out["sample_pct"] = 100 * out["sample"] / n if n else np.nan
    return out[[column, "population", "population_pct", "sample", "sample_pct"]]


def assign_round_robin(members: pd.DataFrame, auditors: Sequence[str]) -> list[str]:
    """An auditor for each member row in order, taking turns, so every auditor gets a
    near-equal share (at most one case apart) and a spread of strata."""
    if not auditors:
        raise ValueError("choose at least one auditor")
    return [auditors[i % len(auditors)] for i in range(len(members))]
