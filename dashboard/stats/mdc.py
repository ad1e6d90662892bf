"""NHS England "Making Data Count" (MDC) icons for a monthly series: pure functions.

MDC reads every board measure on an **XmR chart** (individuals chart) of its monthly
values, not on a p-chart: the values themselves vary, whatever their denominators.

- mean: the mean of the values charted;
- moving range: |x_i - x_(i-1)| between consecutive values; mR-bar its mean;
- process limits: mean +/- 2.66 x mR-bar (2.66 = 3 / 1.128, so three estimated sigmas,
  sigma = mR-bar / 1.128); the 2-sigma lines sit at mean +/- (2/3) x 2.66 x mR-bar.

Special-cause rules, as the MDC tools (NHS-R "plot the dots", the MDC Excel tool) apply
them; every one is implemented here, since the icons are judged on the latest point and
any of them can be what flags it:

1. ``outside_limits``: a point above the upper or below the lower process limit;
2. ``shift``: 7 or more consecutive points on the same side of the mean (a point exactly
   on the mean breaks the run). MDC uses 7, not the Western Electric 8 (the p-charts of
   dashboard.stats.spc use 8): about a 1 in 64 chance for any run under common cause;
3. ``trend``: 7 or more consecutive points each higher (or each lower) than the one
   before (6 rises or 6 falls; a tie breaks the trend);
4. ``two_of_three``: 2 of 3 consecutive points beyond the same 2-sigma line, all three on
   that side of the mean; the points beyond the line are flagged.

Every point of a qualifying shift or trend is flagged (as in the MDC tools), so the
latest point carries a signal while it continues one.

**Variation icon** (from the latest point): ``common_cause`` when it breaks no rule;
otherwise ``improving`` or ``concerning`` by the measure's direction (higher or lower is
better), judged on the side of the mean the point lies (for a trend alone: the trend's
direction); ``special_cause`` when the measure has no better direction.

**Assurance icon** (from where the process limits sit against the target, the Green
threshold of dashboard.core.targets): ``passes`` when the whole band between the limits is
on the target's side (a value equal to the target meets it, as in the RAG rule), so every
month to be expected under common cause meets it; ``fails`` when the whole band misses it;
``hit_or_miss`` when the target lies between the limits.

Fewer than MIN_POINTS values: both icons are ``not_enough_data``: limits from a handful of
points are too wide or too narrow to say anything (MDC advises 15-20 points; its tools
warn below 12). Missing months (NaN: no denominator) are left out, so the moving range
joins the months either side of a gap. Limits are not clipped to 0..100 % here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_POINTS = 12
RUN = 7  # shift and trend length
E2 = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of two points
D2 = 1.128

OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE = "outside_limits", "shift", "trend", "two_of_three"
RULE_TEXT = {
    OUTSIDE_LIMITS: "outside the process limits",
    SHIFT: f"{RUN} or more months in a row on one side of the mean",
    TREND: f"{RUN} or more months in a row each rising or each falling",
    TWO_OF_THREE: "2 of 3 months beyond the 2-sigma line on one side",
}

COMMON, IMPROVING, CONCERNING, SPECIAL = (
    "common_cause", "improving", "concerning", "special_cause")
PASSES, FAILS, HIT_OR_MISS = "passes", "fails", "hit_or_miss"
NO_TARGET, NOT_ENOUGH = "no_target", "not_enough_data"

# Symbol and words together: never a colour or a glyph alone (WCAG 1.4.1).
VARIATION_LABEL = {
    COMMON: "≈ Common cause",
    IMPROVING: "★ Improving",
    CONCERNING: "⚠ Concerning",
    SPECIAL: "◆ Special cause",
    NOT_ENOUGH: "… Too few months",
}
ASSURANCE_LABEL = {
    PASSES: "✓ Passes target",
    FAILS: "✗ Fails target",
    HIT_OR_MISS: "↕ Hit or miss",
    NO_TARGET: "– No target",
    NOT_ENOUGH: "… Too few months",
}


@dataclass(frozen=True)
class Assessment:
    """An XmR chart's figures and its two icons.

    values: the points charted (missing months left out); mean, mr_bar (mean moving
    range), lpl and upl (process limits) in the values' unit (NaN when fewer than 2
    points); rules: the rules each point breaks (one set per point); variation and
    assurance: the icon codes above; latest_rules: the rules the latest point breaks.
    """

    values: tuple[float, ...]
    mean: float
    mr_bar: float
    lpl: float
    upl: float
    rules: tuple[frozenset[str], ...] = field(default=())
    variation: str = NOT_ENOUGH
    assurance: str = NOT_ENOUGH
    latest_rules: frozenset[str] = frozenset()

    @property
    def enough(self) -> bool:
        return len(self.values) >= MIN_POINTS


def limits(values: Sequence[float]) -> tuple[float, float, float, float]:
    """(mean, mR-bar, lower, upper process limit) of values (NaN for fewer than 2)."""
    if len(values) < 2:
        mean = values[0] if values else math.nan
        return mean, math.nan, math.nan, math.nan
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    mr_bar = sum(ranges) / len(ranges)
    return mean, mr_bar, mean - E2 * mr_bar, mean + E2 * mr_bar


def _side(value: float, mean: float) -> int:
    return (value > mean) - (value < mean)


def rules_per_point(values: Sequence[float], mean: float, lpl: float,
                    upl: float) -> list[set[str]]:
    """The rules each point breaks (see the module docstring), one set per point."""
    n = len(values)
    out: list[set[str]] = [set() for _ in range(n)]
    for i, v in enumerate(values):
        if v > upl or v < lpl:
            out[i].add(OUTSIDE_LIMITS)
    sides = [_side(v, mean) for v in values]
    start = 0
    for i in range(1, n + 1):  # runs on one side of the mean
        if i == n or sides[i] != sides[start] or not sides[i]:
            if sides[start] and i - start >= RUN:
                for j in range(start, i):
                    out[j].add(SHIFT)
            start = i
    steps = [_side(b, a) for a, b in zip(values, values[1:], strict=False)]
    start = 0  # steps[k] is the move from point k to point k + 1
    for k in range(1, len(steps) + 1):
        if k == len(steps) or steps[k] != steps[start] or not steps[k]:
            if steps and steps[start] and k - start >= RUN - 1:
                for j in range(start, k + 1):
                    out[j].add(TREND)
            start = k
    two_sigma = (upl - mean) * 2.0 / 3.0
    beyond = [_side(v, mean) if abs(v - mean) > two_sigma else 0 for v in values]
    for i in range(n - 2):
        window = range(i, i + 3)
        for side in (1, -1):
            if (all(sides[j] == side for j in window)
                    and sum(beyond[j] == side for j in window) >= 2):
                for j in window:
                    if beyond[j] == side:
                        out[j].add(TWO_OF_THREE)
    return out


def variation(values: Sequence[float], rules: Sequence[set[str]], mean: float,
              higher_is_better: bool | None) -> str:
    """The variation icon code from the latest point's rules."""
    if not values:
        return NOT_ENOUGH
    latest = rules[-1]
    if not latest:
        return COMMON
    if higher_is_better is None:
        return SPECIAL
    if latest == {TREND}:
        direction = _side(values[-1], values[-2])
    else:
        direction = _side(values[-1], mean)
    return IMPROVING if (direction > 0) == higher_is_better else CONCERNING


def assurance(lpl: float, upl: float, target: float | None,
              higher_is_better: bool | None) -> str:
    """The assurance icon code: where the process limits sit against the target."""
    if target is None or higher_is_better is None or math.isnan(target):
        return NO_TARGET
    if higher_is_better:
        if lpl >= target:
            return PASSES
        return FAILS if upl < target else HIT_OR_MISS
    if upl <= target:
        return PASSES
    return FAILS if lpl > target else HIT_OR_MISS


def assess(values: Sequence[float | None], higher_is_better: bool | None,
           target: float | None = None) -> Assessment:
    """The XmR chart of a monthly series (oldest first; None/NaN months left out) and its
    variation and assurance icons; both 'not_enough_data' below MIN_POINTS points."""
    points = tuple(float(v) for v in values
                   if v is not None and not (isinstance(v, float) and math.isnan(v)))
    mean, mr_bar, lpl, upl = limits(points)
    if len(points) < MIN_POINTS:
        return Assessment(points, mean, mr_bar, lpl, upl)
    rules = rules_per_point(points, mean, lpl, upl)
    return Assessment(
        points, mean, mr_bar, lpl, upl, tuple(frozenset(r) for r in rules),
        variation(points, rules, mean, higher_is_better),
        assurance(lpl, upl, target, higher_is_better), frozenset(rules[-1]))


def describe_rules(rules: frozenset[str] | set[str]) -> str:
    """The rules as words, e.g. 'outside the process limits; 7 or more months ...'."""
    order = [OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE]
    return "; ".join(RULE_TEXT[r] for r in order if r in rules)
