"""HMIP's sampler, sizes: how many cases each group gives (``sample_sizes``), the
rounding adjustment to the exact total (``adjust_for_rounding``) and the officer cap
(``OfficerCapAdjuster``), with Kotlin's rounding. Ports of ``utils/SampleSizeCalculator.kt``,
``utils/RoundingAdjuster.kt`` and ``services/RoAllocationAdjuster.kt``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

MAX_CASES_PER_OFFICER = 6

# Size change types (HMIP's utils Type enum).
INITIAL = "INITIAL"
WITH_BUFFER = "WITH_BUFFER"
INCREASED_FOR_ROUNDING = "INCREASED_FOR_ROUNDING"
DECREASED_FOR_ROUNDING = "DECREASED_FOR_ROUNDING"
INCREASED_FOR_RO = "INCREASED_FOR_RO"
DECREASED_FOR_RO = "DECREASED_FOR_RO"


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

