"""HMIP's own case sampler, ported: pure functions, no database, no Streamlit.

A port of HM Inspectorate of Probation's published case sampler
(``ministryofjustice/probation-case-sampler``, Kotlin: ``dto/Cases.kt``,
``utils/SampleSizeCalculator.kt``, ``utils/RoundingAdjuster.kt``,
``services/AllocationCalculator.kt``, ``services/RoAllocationAdjuster.kt``,
``services/SamplePicker.kt``). What it does, in HMIP's order:

1. **Eligibility**: a case is excluded when it is redacted (an asterisk in the first or
   family name), has not started yet (start date after the reference day), or has a
   gender other than male/female.
2. **De-duplication**: the same person (same PNC, same CRN, or same first name, family
   name and date of birth) counts once: only the earliest case (by start date; a tie
   keeps the one listed first) is kept. As in HMIP's code, the comparison runs over the
   whole long list, excluded cases included.
3. **Five strata**: male community non-low RoSH, male community low, male post-custody
   non-low, male post-custody low, female.
4. **Stratum sizes** (``sample_sizes``): each group gets round-half-up(n x share), capped at
   its size, plus a buffer of round-half-up(size x buffer % / 100) (capped again); then
   ``adjust_for_rounding`` brings the total to n + round-half-up(n x buffer % / 100), one
   case at a time: added to the groups from the smallest up (skipping full ones), or
   removed from the largest down, going round the groups in that order.
5. **Proportionality** within each stratum across cluster (our area), then LDU (our
   office), then responsible officer, by the same ``sample_sizes`` rule without a buffer.
6. **Officer cap** (``OfficerCapAdjuster``): no officer gives more than 6 cases to the
   whole sample; the excess is given one case at a time to the same office's officers,
   fewest first, where they have cases left and are under the cap. What cannot be placed
   is a shortfall.
7. **Random pick** of each officer's share from their cases.

Groups are always taken in order of first appearance in the long list (Kotlin's
``groupBy`` keeps that order), which is the tie-break order for rounding. The random pick
is ours (numpy's PCG64 from a stored seed), not Kotlin's ``Random``, so the same seed gives
the same sample here; the sizes at every level are HMIP's exactly.

Deliberate differences, each for a reason stated where it is made: a blank PNC matches
nobody (HMIP's code compares the strings, so two blank PNCs would make two people one);
"not yet started" is judged against a given reference day (the data's as-of date) rather
than the machine's clock, so a draw can be repeated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

MAX_CASES_PER_OFFICER = 6

# HMIP's Stratum enum, in its order.
MALE_COMMUNITY_NON_LOW = "MALE_COMMUNITY_NON_LOW"
MALE_COMMUNITY_LOW = "MALE_COMMUNITY_LOW"
MALE_POST_CUSTODY_NON_LOW = "MALE_POST_CUSTODY_NON_LOW"
MALE_POST_CUSTODY_LOW = "MALE_POST_CUSTODY_LOW"
FEMALE = "FEMALE"
STRATA = (
    MALE_COMMUNITY_NON_LOW,
    MALE_COMMUNITY_LOW,
    MALE_POST_CUSTODY_NON_LOW,
    MALE_POST_CUSTODY_LOW,
    FEMALE,
)
STRATUM_LABELS = {
    MALE_COMMUNITY_NON_LOW: "Male, community, RoSH medium or above",
    MALE_COMMUNITY_LOW: "Male, community, RoSH low",
    MALE_POST_CUSTODY_NON_LOW: "Male, post-custody, RoSH medium or above",
    MALE_POST_CUSTODY_LOW: "Male, post-custody, RoSH low",
    FEMALE: "Female",
}

# Size change types (HMIP's utils Type enum).
INITIAL = "INITIAL"
WITH_BUFFER = "WITH_BUFFER"
INCREASED_FOR_ROUNDING = "INCREASED_FOR_ROUNDING"
DECREASED_FOR_ROUNDING = "DECREASED_FOR_ROUNDING"
INCREASED_FOR_RO = "INCREASED_FOR_RO"
DECREASED_FOR_RO = "DECREASED_FOR_RO"

ELIGIBILITY_RULE = (
    "HMIP case sampler: excludes redacted cases (asterisk in a name), cases not started by "
    "the reference day and gender other than M/F; one case per person (same PNC, same CRN, "
    "or same first name, family name and date of birth), the earliest kept; five strata; "
    "proportional by area, office and officer; at most "
    f"{MAX_CASES_PER_OFFICER} cases per responsible officer."
)


# ---------------------------------------------------------------------------------------
# Rounding as Kotlin does it
# ---------------------------------------------------------------------------------------


def round_half_up(x: float) -> int:
    """Kotlin's ``Double.roundToInt()`` (Java ``Math.round``): the nearest integer, halves
    rounded towards positive infinity (2.5 -> 3, -2.5 -> -2). Exact for doubles: the
    fraction x - floor(x) is computed without error, so 0.49999999999999994 stays 0."""
    if math.isnan(x):
        raise ValueError("cannot round NaN")
    low = math.floor(x)
    return int(low + 1) if x - low >= 0.5 else int(low)


def percent_text(proportion: float) -> str:
    """Kotlin's ``"%.2f".format(proportion * 100)``: Java rounds the shortest decimal form
    of the double half up (Python's own %-format rounds the binary value half to even)."""
    value = Decimal(repr(proportion * 100))
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSize:
    """How many cases to take from one group: HMIP's ``SampleSize``.

    count: cases to take now; total: cases the group has; percentage: the group's share of
    its parent as text with two decimals ("37.30"); history: (change type, count) from the
    first size on, so the breakdown can say why a size moved.
    """

    count: int
    total: int
    percentage: str = ""
    history: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.history:
            object.__setattr__(self, "history", ((INITIAL, self.count),))

    def update(self, change: str, count: int) -> GroupSize:
        """A copy with a new count, the change recorded in history."""
        return replace(self, count=count, history=(*self.history, (change, count)))

    @property
    def change(self) -> str:
        """The type of the last change (INITIAL if none)."""
        return self.history[-1][0]

    @property
    def previous_change(self) -> int:
        """The last change in count (new minus previous; 0 for an initial size)."""
        if len(self.history) < 2:
            return 0
        return self.history[-1][1] - self.history[-2][1]

    @property
    def first_count(self) -> int:
        """The count before any change."""
        return self.history[0][1]


Sizes = list[tuple[Hashable, GroupSize]]


def buffer_for(count: int, buffer_pct: float) -> int:
    """Cases added as buffer to a count: round-half-up((count / 100) x buffer %)."""
    return round_half_up((count / 100) * buffer_pct)


def sample_sizes(
    n: int, group_totals: Sequence[tuple[Hashable, int]], buffer_pct: float = 0.0
) -> Sizes:
    """HMIP's ``calculateSampleSize``: cases to take from each group for a sample of n.

    group_totals: (group, cases) in order of first appearance. Each group: base =
    min(total, round-half-up(n x share)); with a buffer, min(total, base + buffer_for(base)).
    Then ``adjust_for_rounding`` to n + buffer_for(n). Returns (group, GroupSize) in the
    same order.
    """
    if n < 0:
        raise ValueError(f"sample size must be at least 0, got {n}")
    total_cases = sum(int(t) for _, t in group_totals)
    results: Sizes = []
    for key, total in group_totals:
        proportion = int(total) / total_cases if total_cases else math.nan
        base = min(int(total), round_half_up(n * proportion)) if total_cases else 0
        size = GroupSize(base, int(total), percent_text(proportion) if total_cases else "")
        adjusted = min(int(total), base + buffer_for(base, buffer_pct))
        if adjusted != base:
            size = size.update(WITH_BUFFER, adjusted)
        results.append((key, size))
    return adjust_for_rounding(n + buffer_for(n, buffer_pct), results)


def adjust_for_rounding(n: int, sizes: Sizes) -> Sizes:
    """HMIP's ``adjustForRounding``: bring the counts' total to n, one case at a time.

    Too few: add to the groups from the smallest count up (stable: ties keep list order),
    going round that order, skipping groups that are full. Too many: remove from the
    largest down, skipping empty groups. Gives up (short) when no group can move.
    """
    if not sizes:
        return sizes
    current = sum(s.count for _, s in sizes)
    if current == n:
        return sizes
    by_key = dict(sizes)
    if current < n:
        order = [k for k, _ in sorted(sizes, key=lambda kv: kv[1].count)]
        can = lambda s: s.count < s.total  # noqa: E731 - mirrors HMIP's addSample test
        step, change = 1, INCREASED_FOR_ROUNDING
    else:
        order = [k for k, _ in sorted(sizes, key=lambda kv: -kv[1].count)]
        can = lambda s: s.count > 0  # noqa: E731
        step, change = -1, DECREASED_FOR_ROUNDING
    keys = itertools.cycle(order)
    for _ in range(abs(n - current)):
        # One full turn at most, as HMIP's loop over keyToSize.size tries.
        for _ in range(len(by_key)):
            key = next(keys)
            if can(by_key[key]):
                by_key[key] = by_key[key].update(change, by_key[key].count + step)
                break
    return [(k, by_key[k]) for k, _ in sizes]


class OfficerCapAdjuster:
    """HMIP's ``RoAllocationAdjuster``: at most ``max_per_officer`` cases from one officer.

    One adjuster serves a whole sample: ``counts`` remembers how many cases each officer
    already gives, across strata and offices. ``adjust`` takes one office's officer sizes,
    cuts each to what the cap leaves, then gives the cut cases one at a time to the
    office's officers in order of their (cut) size, smallest first, going round, skipping
    officers at the cap or with no cases left. Returns the sizes sorted by officer name.
    """

    def __init__(self, max_per_officer: int = MAX_CASES_PER_OFFICER) -> None:
        self.max_per_officer = max_per_officer
        self.counts: dict[str, int] = {}

    def size(self, officer: str) -> int:
        """Cases this officer gives to the sample so far."""
        return self.counts.get(officer, 0)

    def _add(self, officer: str, number: int) -> None:
        new = self.size(officer) + number
        if new > self.max_per_officer:
            raise AssertionError(f"{officer} would give more than {self.max_per_officer}")
        self.counts[officer] = new

    def adjust(self, sizes: Sizes) -> Sizes:
        """Sizes per officer for one office, capped and re-allocated (see the class)."""
        reduced: Sizes = []
        for officer, size in sizes:
            already = self.size(officer)
            cut = max(0, already + size.count - self.max_per_officer)
            if cut > 0:
                self._add(officer, size.count - cut)
                reduced.append((officer, size.update(DECREASED_FOR_RO, size.count - cut)))
            else:
                self._add(officer, size.count)
                reduced.append((officer, size))
        removed = sum(abs(s.previous_change) for _, s in reduced if s.change == DECREASED_FOR_RO)
        by_officer = dict(reduced)
        order = [o for o, _ in sorted(reduced, key=lambda kv: kv[1].count)]
        officers = itertools.cycle(order)
        for _ in range(removed):
            for _ in range(len(by_officer)):
                officer = next(officers)
                size = by_officer[officer]
                if self.size(officer) < self.max_per_officer and size.count + 1 <= size.total:
                    self._add(officer, 1)
                    by_officer[officer] = size.update(INCREASED_FOR_RO, size.count + 1)
                    break
        return sorted(by_officer.items(), key=lambda kv: str(kv[0]))


# ---------------------------------------------------------------------------------------
# Cases: eligibility, de-duplication, strata
# ---------------------------------------------------------------------------------------

COMMUNITY = "community"
POST_CUSTODY = "post_custody"

# HMIP's SentenceType aliases, and the dashboard's own sentence types.
SENTENCE_GROUPS = {
    "ORA Community Order": COMMUNITY,
    "ORA Suspended Sentence Order": COMMUNITY,
    "CJA - Youth Rehabilitation Order": COMMUNITY,
    "Adult Licence": POST_CUSTODY,
    "ORA Supervision Default Order": POST_CUSTODY,
    "community_order": COMMUNITY,
    "suspended_sentence_order": COMMUNITY,
    "licence": POST_CUSTODY,
}
# HMIP's RiskOfSeriousHarmLevel aliases (low is the only "low"), and ours.
ROSH_LOW = {
    "RLRH": True,
    "RMRH": False,
    "RHRH": False,
    "RVRH": False,
    "low": True,
    "medium": False,
    "high": False,
    "very_high": False,
}
GENDERS = {"M": "male", "F": "female", "male": "male", "female": "female"}


def stratum_of(gender: str, sentence_group: str, rosh_low: bool) -> str:
    """HMIP's ``getStratum``: female, or male by sentence group and RoSH low / non-low.

    gender 'male'/'female'; sentence_group COMMUNITY or POST_CUSTODY. Raises ValueError for
    any other gender ("Cannot determine type of stratification", as HMIP's code says).
    """
    if gender == "female":
        return FEMALE
    if gender != "male":
        raise ValueError("Cannot determine type of stratification")
    if sentence_group == COMMUNITY:
        return MALE_COMMUNITY_LOW if rosh_low else MALE_COMMUNITY_NON_LOW
    if sentence_group == POST_CUSTODY:
        return MALE_POST_CUSTODY_LOW if rosh_low else MALE_POST_CUSTODY_NON_LOW
    raise ValueError(f"unknown sentence group {sentence_group!r}")


def exclusion_reasons(cases: pd.DataFrame, reference_day: date) -> pd.Series:
    """Why each case is not eligible ('' if eligible): 'redacted', 'not started', 'gender'.

    cases: columns gender ('male'/'female'/other), start_date (date); optional first_name
    and family_name (a '*' in either marks the case redacted). The first reason found
    wins, in HMIP's order.
    """
    reasons = pd.Series("", index=cases.index, dtype=object)
    if "first_name" in cases and "family_name" in cases:
        redacted = cases["first_name"].fillna("").astype(str).str.contains("*", regex=False) | (
            cases["family_name"].fillna("").astype(str).str.contains("*", regex=False)
        )
    else:
        redacted = pd.Series(False, index=cases.index)
    later = pd.to_datetime(cases["start_date"]) > pd.Timestamp(reference_day)
    other = ~cases["gender"].isin(["male", "female"])
    reasons[other] = "gender"
    reasons[later] = "not started"
    reasons[redacted] = "redacted"
    return reasons


def earliest_for_person(cases: pd.DataFrame) -> pd.Series:
    """HMIP's ``isEarliestCaseForOffender`` for every row: True where no case of the same
    person starts earlier (or the same day and earlier in the list).

    The same person: same non-blank PNC, same non-blank CRN (HMIP's README; its code
    leaves CRN as a to-do), or the same first name, family name and date of birth (all
    three present). Without pnc / name columns every case is its own person.
    HMIP compares each case with the ones that match *it* (not a chain of matches), so do
    we: the earliest over the PNC matches and the name matches together.
    """
    n = len(cases)
    if n == 0:
        return pd.Series([], index=cases.index, dtype=bool)
    order = pd.DataFrame(
        {"start": pd.to_datetime(cases["start_date"]).to_numpy(), "pos": np.arange(n)}
    )
    rank = order.sort_values(["start", "pos"], kind="stable").index.to_numpy()
    position = np.empty(n, dtype=np.int64)
    position[rank] = np.arange(n)  # 0 = earliest in (start date, list order)
    best = position.copy()

    def fold(keys: pd.Series) -> None:
        present = keys.notna().to_numpy()
        if not present.any():
            return
        frame = pd.DataFrame({"key": keys.to_numpy()[present], "pos": position[present]})
        low = frame.groupby("key", sort=False)["pos"].transform("min").to_numpy()
        best[present] = np.minimum(best[present], low)

    def blank_to_none(col: str) -> pd.Series:
        s = cases[col].astype(object).where(cases[col].notna(), None)
        return s.map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip())

    if "pnc" in cases:
        fold(blank_to_none("pnc"))
    if "crn" in cases:
        # HMIP's README lists the same CRN as a match (its code has it as a to-do); a CRN
        # is one person's record, so two rows with one CRN are one person.
        fold(blank_to_none("crn"))
    if {"first_name", "family_name", "dob"} <= set(cases.columns):
        parts = [blank_to_none(c) for c in ("first_name", "family_name", "dob")]
        key = pd.Series(
            [
                None if any(p is None for p in t) else "\x1f".join(t)
                for t in zip(*parts, strict=True)
            ],
            dtype=object,
        )
        fold(key)
    return pd.Series(best == position, index=cases.index)


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


HMIP_COLUMNS = ("case_key", "gender", "sentence_group", "rosh_low", "start_date")


def prepare(cases: pd.DataFrame, reference_day: date) -> tuple[pd.DataFrame, dict[str, int]]:
    """The eligible, de-duplicated cases with their HMIP stratum, and the exclusion counts.

    cases: the long list, one row per case, in list order: gender ('male'/'female'/...),
    sentence_group (COMMUNITY/POST_CUSTODY), rosh_low (bool), start_date, cluster,
    office, officer; optional pnc, first_name, family_name, dob. Returns (eligible rows
    with a ``stratum`` column, list order kept, index reset; counts by reason).
    """
    reasons = exclusion_reasons(cases, reference_day)
    earliest = earliest_for_person(cases)
    dup = (reasons == "") & ~earliest
    excluded = {r: int((reasons == r).sum()) for r in ("redacted", "not started", "gender")}
    excluded["duplicate"] = int(dup.sum())
    kept = cases[(reasons == "") & earliest].reset_index(drop=True)
    kept["stratum"] = [
        stratum_of(g, s, bool(low))
        for g, s, low in zip(kept["gender"], kept["sentence_group"], kept["rosh_low"], strict=True)
    ]
    return kept, excluded


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
    if n < 0:
        raise ValueError(f"sample size must be at least 0, got {n}")
    if buffer_pct < 0:
        raise ValueError("the buffer cannot be negative")
    pop, excluded = prepare(cases, reference_day)
    strata_rows = _groups(list(pop["stratum"]), list(range(len(pop))))
    # HMIP's stratum order is first appearance in the list, as groupBy gives it.
    stratum_sizes = sample_sizes(n, [(k, len(v)) for k, v in strata_rows.items()], buffer_pct)
    cluster = [str(v) for v in pop["cluster"]]
    office = [str(v) for v in pop["office"]]
    officer = [str(v) for v in pop["officer"]]
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
    eligible = sum(s.total for _, s in sizes)
    drawn_all = sum(b.officer_size.count for b in buckets)
    rows = []
    for stratum, size in sizes:
        mine = [b for b in buckets if b.stratum == stratum]
        s_drawn = sum(b.officer_size.count for b in mine)
        rows.append(
            (
                "stratum",
                stratum,
                "",
                "",
                "",
                s_drawn,
                size.total,
                _pct(size.total, eligible),
                _pct(s_drawn, drawn_all),
            )
        )
        for c in dict.fromkeys(b.cluster for b in mine):
            in_c = [b for b in mine if b.cluster == c]
            c_drawn = sum(b.officer_size.count for b in in_c)
            c_avail = in_c[0].cluster_size.total
            rows.append(
                (
                    "cluster",
                    stratum,
                    c,
                    "",
                    "",
                    c_drawn,
                    c_avail,
                    _pct(c_avail, size.total),
                    _pct(c_drawn, s_drawn),
                )
            )
            for o in dict.fromkeys(b.office for b in in_c):
                in_o = [b for b in in_c if b.office == o]
                o_drawn = sum(b.officer_size.count for b in in_o)
                o_avail = in_o[0].office_size.total
                rows.append(
                    (
                        "office",
                        stratum,
                        c,
                        o,
                        "",
                        o_drawn,
                        o_avail,
                        _pct(o_avail, c_avail),
                        _pct(o_drawn, c_drawn),
                    )
                )
                for b in in_o:
                    rows.append(
                        (
                            "officer",
                            stratum,
                            c,
                            o,
                            b.officer,
                            b.officer_size.count,
                            b.officer_size.total,
                            _pct(b.officer_size.total, o_avail),
                            _pct(b.officer_size.count, o_drawn),
                        )
                    )
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
