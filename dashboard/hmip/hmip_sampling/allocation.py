"""HMIP's sampler, allocation and the draw: sizes by stratum, cluster (area), LDU (office)
and responsible officer (``services/AllocationCalculator.kt``), the random pick of each
officer's share (``services/SamplePicker.kt``; numpy's PCG64 from a stored seed), and the
tables that explain the result (strata, the ``/analyse`` breakdown, shortfalls, offices).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from dashboard.hmip.hmip_sampling.cases import STRATA, STRATUM_LABELS, prepare
from dashboard.hmip.hmip_sampling.sizes import (
    MAX_CASES_PER_OFFICER,
    GroupSize,
    OfficerCapAdjuster,
    Sizes,
    buffer_for,
    sample_sizes,
)

# ---------------------------------------------------------------------------------------
# Allocation and the draw
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """One officer's share within a stratum: the sizes at each level and their cases."""

    stratum: str
    cluster: str
    office: str
    officer: str
    cluster_size: GroupSize
    office_size: GroupSize
    officer_size: GroupSize
    rows: tuple[int, ...]  # positions in the population frame, in list order


def _groups(values: Sequence[Hashable], rows: Sequence[int]) -> dict[Hashable, list[int]]:
    out: dict[Hashable, list[int]] = {}
    for value, row in zip(values, rows, strict=True):
        out.setdefault(value, []).append(row)  # dicts keep first-appearance order
    return out


def allocate(
    count: int,
    rows: Sequence[int],
    cluster: Sequence[str],
    office: Sequence[str],
    officer: Sequence[str],
    adjuster: OfficerCapAdjuster,
    stratum: str = "",
) -> list[Bucket]:
    """HMIP's ``AllocationCalculator.calculate`` for one stratum's ``count`` cases.

    rows: the stratum's cases (positions), in long-list order; cluster/office/officer: the
    value of each row (indexed by position). Sizes by ``sample_sizes`` at cluster, then
    office within cluster, then officer within office (``adjuster`` applies the cap).
    """
    buckets: list[Bucket] = []
    by_cluster = _groups([cluster[r] for r in rows], rows)
    for c, c_size in sample_sizes(count, [(k, len(v)) for k, v in by_cluster.items()]):
        c_rows = by_cluster[c]
        by_office = _groups([office[r] for r in c_rows], c_rows)
        for o, o_size in sample_sizes(c_size.count, [(k, len(v)) for k, v in by_office.items()]):
            o_rows = by_office[o]
            by_officer = _groups([officer[r] for r in o_rows], o_rows)
            sizes = sample_sizes(o_size.count, [(k, len(v)) for k, v in by_officer.items()])
            for ro, ro_size in adjuster.adjust(sizes):
                buckets.append(
                    Bucket(stratum, c, o, ro, c_size, o_size, ro_size, tuple(by_officer[ro]))
                )
    return buckets


@dataclass
class HmipDraw:
    """The result of ``draw``: the sample and everything needed to explain it.

    sample: the drawn rows of the population plus ``stratum``, in allocation order.
    strata: one row per stratum (HMIP's order): stratum, label, available, requested
    (HMIP's size incl. buffer), drawn, original_pct, actual_pct (0..100).
    breakdown: the ``/analyse`` view, one row per level item: level ('stratum', 'cluster',
    'office', 'officer'), stratum, cluster, office, officer, drawn, available,
    original_pct (share of its parent's cases), actual_pct (share of its parent's drawn).
    shortfalls: one row per (stratum, office) that could not fill its share: stratum,
    cluster, office, share, drawn, short.
    excluded: counts of cases left out, by reason ('redacted', 'not started', 'gender',
    'duplicate'). requested: n plus buffer; eligible: cases after exclusions.
    """

    sample: pd.DataFrame
    strata: pd.DataFrame
    breakdown: pd.DataFrame
    shortfalls: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    requested: int = 0
    eligible: int = 0

    @property
    def shortfall(self) -> int:
        """Cases requested but not drawn (0 when the sample is full)."""
        return max(0, self.requested - len(self.sample))

    def shortfall_message(self) -> str:
        """A sentence for the screen: '' when the sample is full."""
        if not self.shortfall:
            return ""
        parts = [
            f"{r.office} ({STRATUM_LABELS.get(r.stratum, r.stratum)}): {r.drawn} of {r.share}"
            for r in self.shortfalls.itertuples()
        ]
        where = f" Offices short: {'; '.join(parts)}." if parts else ""
        return (
            f"Shortfall: {self.shortfall:,} of the {self.requested:,} cases asked for could "
            f"not be drawn ({len(self.sample):,} drawn). HMIP's rule takes at most "
            f"{MAX_CASES_PER_OFFICER} cases from one officer and moves the excess only to "
            f"officers of the same office with cases left.{where}"
        )



def _values(column: pd.Series) -> list:
    """A column's values as a list, read through numpy: iterating a text column of pandas
    3 (Arrow-backed) yields each value through Arrow, about 1.5 µs a value; a blank stays
    NaN, as iterating gives it."""
    return column.to_numpy(dtype=object).tolist()


def draw(
    cases: pd.DataFrame,
    n: int,
    seed: int,
    reference_day: date,
    buffer_pct: float = 0.0,
    max_per_officer: int = MAX_CASES_PER_OFFICER,
) -> HmipDraw:
    """Draw n cases (plus buffer %) from a long list the way HMIP's sampler does.

    cases: as ``prepare`` takes them. seed: the stored seed of numpy's default_rng; the
    same list, n, buffer and seed give the same sample. Returns an ``HmipDraw``.
    """
    pop, excluded = prepare(cases, reference_day)
    return draw_prepared(pop, excluded, n, seed, buffer_pct, max_per_officer)


def draw_prepared(
    pop: pd.DataFrame,
    excluded: dict[str, int],
    n: int,
    seed: int,
    buffer_pct: float = 0.0,
    max_per_officer: int = MAX_CASES_PER_OFFICER,
) -> HmipDraw:
    """``draw`` from what ``prepare`` returned (the eligible cases with their stratum, and
    the exclusion counts), for a page that keeps the prepared long list and draws from it
    again for each seed."""
    if n < 0:
        raise ValueError(f"sample size must be at least 0, got {n}")
    if buffer_pct < 0:
        raise ValueError("the buffer cannot be negative")
    strata_rows = _groups(_values(pop["stratum"]), list(range(len(pop))))
    # HMIP's stratum order is first appearance in the list, as groupBy gives it.
    stratum_sizes = sample_sizes(n, [(k, len(v)) for k, v in strata_rows.items()], buffer_pct)
    cluster = [str(v) for v in _values(pop["cluster"])]
    office = [str(v) for v in _values(pop["office"])]
    officer = [str(v) for v in _values(pop["officer"])]
    adjuster = OfficerCapAdjuster(max_per_officer)
    rng = np.random.default_rng(seed)
    taken: list[int] = []
    buckets: list[Bucket] = []
    for stratum, size in stratum_sizes:
        for b in allocate(
            size.count, strata_rows[stratum], cluster, office, officer, adjuster, stratum
        ):
            buckets.append(b)
            k = b.officer_size.count
            if k:
                pick = rng.choice(len(b.rows), size=k, replace=False)
                taken.extend(b.rows[i] for i in pick)
    sample = pop.iloc[taken].reset_index(drop=True)
    return HmipDraw(
        sample=sample,
        strata=_strata_table(stratum_sizes, sample, len(pop)),
        breakdown=_breakdown(stratum_sizes, buckets, sample),
        shortfalls=_shortfalls(buckets),
        excluded=excluded,
        requested=n + buffer_for(n, buffer_pct),
        eligible=len(pop),
    )


def _pct(part: int, whole: int) -> float:
    return 100 * part / whole if whole else math.nan


def _strata_table(sizes: Sizes, sample: pd.DataFrame, eligible: int) -> pd.DataFrame:
    drawn = sample["stratum"].value_counts() if len(sample) else pd.Series(dtype="int64")
    total_drawn = len(sample)
    requested = dict(sizes)
    rows = []
    for stratum in STRATA:
        size = requested.get(stratum)
        available = size.total if size else 0
        got = int(drawn.get(stratum, 0))
        rows.append(
            {
                "stratum": stratum,
                "label": STRATUM_LABELS[stratum],
                "available": available,
                "requested": size.count if size else 0,
                "drawn": got,
                "original_pct": _pct(available, eligible),
                "actual_pct": _pct(got, total_drawn),
            }
        )
    return pd.DataFrame(rows).astype({"available": "int64", "requested": "int64", "drawn": "int64"})


BREAKDOWN_COLUMNS = [
    "level",
    "stratum",
    "cluster",
    "office",
    "officer",
    "drawn",
    "available",
    "original_pct",
    "actual_pct",
]


def _breakdown(sizes: Sizes, buckets: Iterable[Bucket], sample: pd.DataFrame) -> pd.DataFrame:
    """Drawn / available at every level, as HMIP's /analyse lists them."""
    buckets = list(buckets)
    rows = []

    def add(level: str, keys: tuple[str, ...], drawn: int, available: int,
            parent: tuple[int, int]) -> None:
        # parent: (available, drawn) of the level above, for the two shares
        where = (*keys, "", "", "")[:4]
        rows.append((level, *where, drawn, available, _pct(available, parent[0]),
                     _pct(drawn, parent[1])))

    def drawn(bs: list[Bucket]) -> int:
        return sum(b.officer_size.count for b in bs)

    def by(bs: list[Bucket], attr: str) -> list[tuple[str, list[Bucket]]]:
        # the buckets per value, values in order of first appearance (one pass: a
        # country's 25,000 officer buckets made a scan per office cost half a second)
        groups: dict[str, list[Bucket]] = {}
        for b in bs:
            groups.setdefault(getattr(b, attr), []).append(b)
        return list(groups.items())

    top = (sum(s.total for _, s in sizes), drawn(buckets))
    for stratum, size in sizes:
        mine = [b for b in buckets if b.stratum == stratum]
        s_level = (size.total, drawn(mine))
        add("stratum", (stratum,), s_level[1], size.total, top)
        for c, in_c in by(mine, "cluster"):
            c_level = (in_c[0].cluster_size.total, drawn(in_c))
            add("cluster", (stratum, c), c_level[1], c_level[0], s_level)
            for o, in_o in by(in_c, "office"):
                o_level = (in_o[0].office_size.total, drawn(in_o))
                add("office", (stratum, c, o), o_level[1], o_level[0], c_level)
                for b in in_o:
                    add("officer", (stratum, c, o, b.officer), b.officer_size.count,
                        b.officer_size.total, o_level)
    out = pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)
    return out.astype({"drawn": "int64", "available": "int64"})


def _shortfalls(buckets: Iterable[Bucket]) -> pd.DataFrame:
    seen: dict[tuple[str, str, str], list[Bucket]] = {}
    for b in buckets:
        seen.setdefault((b.stratum, b.cluster, b.office), []).append(b)
    rows = []
    for (stratum, c, o), bs in seen.items():
        share = bs[0].office_size.count
        got = sum(b.officer_size.count for b in bs)
        if got < share:
            rows.append((stratum, c, o, share, got, share - got))
    out = pd.DataFrame(rows, columns=["stratum", "cluster", "office", "share", "drawn", "short"])
    return out.astype({"share": "int64", "drawn": "int64", "short": "int64"})


def office_table(result: HmipDraw) -> pd.DataFrame:
    """Drawn / available per office over all strata. Columns: cluster, office, available,
    drawn, original_pct (share of the eligible cases), actual_pct (share of the sample)."""
    offices = result.breakdown[result.breakdown["level"] == "office"]
    out = offices.groupby(["cluster", "office"], as_index=False, sort=False)[
        ["available", "drawn"]
    ].sum()
    out["original_pct"] = [_pct(a, result.eligible) for a in out["available"]]
    out["actual_pct"] = [_pct(d, len(result.sample)) for d in out["drawn"]]
    return out
