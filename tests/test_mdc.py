"""Making Data Count icons (dashboard.stats.mdc) against XmR charts worked out by hand."""

from __future__ import annotations

import math

import pytest

from dashboard.stats import mdc

# 13 points: 20, 24 six times, then 48.
#   mean = (6 x 44 + 48) / 13 = 312 / 13 = 24
#   moving ranges: eleven of |24 - 20| = 4, then |48 - 24| = 24 -> mR-bar = 68 / 12 = 5.6667
#   limits = 24 +/- 2.66 x 5.6667 = 24 +/- 15.0733 -> 8.9267 .. 39.0733
#   48 > 39.07: outside the limits. Sides alternate (20 below, 24 on the mean... 24 is the
#   mean, so no run); no 6 rises in a row; 2-sigma line at 24 + 10.049 = 34.05: only 48.
OUTLIER = [20, 24] * 6 + [48]


def test_limits_of_the_hand_case():
    mean, mr_bar, lpl, upl = mdc.limits([float(v) for v in OUTLIER])
    assert mean == pytest.approx(24.0)
    assert mr_bar == pytest.approx(68 / 12)
    assert lpl == pytest.approx(24 - 2.66 * 68 / 12)  # 8.9267
    assert upl == pytest.approx(24 + 2.66 * 68 / 12)  # 39.0733


def test_a_point_above_the_upper_limit_is_improving_when_higher_is_better():
    got = mdc.assess(OUTLIER, higher_is_better=True, target=20)
    assert got.latest_rules == {mdc.OUTSIDE_LIMITS}
    assert got.variation == mdc.IMPROVING
    # target 20 lies between 8.93 and 39.07: some months will meet it, some not
    assert got.assurance == mdc.HIT_OR_MISS
    assert all(not r for r in got.rules[:-1])  # no earlier point breaks a rule


def test_the_same_point_is_concerning_when_lower_is_better():
    got = mdc.assess(OUTLIER, higher_is_better=False, target=20)
    assert got.variation == mdc.CONCERNING
    assert got.assurance == mdc.HIT_OR_MISS


def test_assurance_from_where_the_limits_sit():
    # higher is better: lower limit 8.93 >= 5 -> every month expected to pass
    assert mdc.assess(OUTLIER, True, target=5).assurance == mdc.PASSES
    # upper limit 39.07 < 45 -> every month expected to fail
    assert mdc.assess(OUTLIER, True, target=45).assurance == mdc.FAILS
    # lower is better (e.g. vacancy, target <= 45): upper limit 39.07 <= 45 passes
    assert mdc.assess(OUTLIER, False, target=45).assurance == mdc.PASSES
    # lower is better, target <= 5: lower limit 8.93 > 5 fails
    assert mdc.assess(OUTLIER, False, target=5).assurance == mdc.FAILS
    assert mdc.assess(OUTLIER, True, target=None).assurance == mdc.NO_TARGET


def test_just_inside_the_limit_is_common_cause():
    # 20, 24 six times, then 35: mean = (264 + 35) / 13 = 23; mR-bar = (44 + 11) / 12
    # = 4.5833; upper limit = 23 + 2.66 x 4.5833 = 35.19 -> 35 is inside. The 2-sigma line
    # is 23 + 8.128 = 31.13: only 35 is beyond it, and one of three is not two of three.
    got = mdc.assess([20, 24] * 6 + [35], True, target=30)
    assert got.upl == pytest.approx(23 + 2.66 * 55 / 12)
    assert got.latest_rules == set()
    assert got.variation == mdc.COMMON
    assert got.assurance == mdc.HIT_OR_MISS


def test_a_shift_of_seven_below_the_mean_is_concerning():
    # 60, 62, 60, 62, 60, 62, 60 then 55, 53, 55, 53, 55, 53, 55 (14 points)
    #   mean = (4 x 60 + 3 x 62 + 4 x 55 + 3 x 53) / 14 = 805 / 14 = 57.5
    #   moving ranges: six 2s, one 5, six 2s -> mR-bar = 29 / 13 = 2.2308
    #   limits 57.5 +/- 5.934 = 51.57 .. 63.43: every point inside
    #   the first 7 are all above 57.5 and the last 7 all below: two shifts, the latest
    #   one below the mean
    values = [60, 62, 60, 62, 60, 62, 60, 55, 53, 55, 53, 55, 53, 55]
    got = mdc.assess(values, higher_is_better=True, target=50)
    assert got.mean == pytest.approx(57.5)
    assert got.mr_bar == pytest.approx(29 / 13)
    assert mdc.OUTSIDE_LIMITS not in set().union(*got.rules)
    assert mdc.SHIFT in got.latest_rules
    assert all(mdc.SHIFT in r for r in got.rules)
    assert got.variation == mdc.CONCERNING
    # lower limit 51.57 >= 50: passes
    assert got.assurance == mdc.PASSES


def test_six_in_a_row_is_not_a_shift():
    # 12 points: 60, 62, 60, 62, 60, 62 then 55, 53, 55, 53, 55, 53; mean = 57.5 again
    # (3 x 60 + 3 x 62 + 3 x 55 + 3 x 53 = 690; 690 / 12 = 57.5); mR-bar = (10 + 5 + 10)
    # / 11 = 2.2727, limits 51.45 .. 63.55. Only 6 below: no shift. 2-sigma lines at
    # 57.5 +/- 4.03 = 53.47 .. 61.53: the 53s and 62s are beyond them, two in every three
    # of their own side, so the last point (53) breaks the two-of-three rule instead.
    values = [60, 62, 60, 62, 60, 62, 55, 53, 55, 53, 55, 53]
    got = mdc.assess(values, True)
    assert not any(mdc.SHIFT in r for r in got.rules)
    assert got.latest_rules == {mdc.TWO_OF_THREE}
    assert got.variation == mdc.CONCERNING


def test_a_rising_trend_of_seven():
    # 40, 60, 40, 60, 48, then 44, 46, 48, 50, 52, 54, 56 (12 points)
    #   mean = (248 + 350) / 12 = 49.833
    #   moving ranges: three 20s, a 12, a 4, six 2s -> mR-bar = 88 / 11 = 8.0
    #   limits 49.83 +/- 21.28 = 28.55 .. 71.11: all inside
    #   2-sigma lines 49.83 +/- 14.19 = 35.65 .. 64.02: none beyond
    #   above the mean: 50, 52, 54, 56 (4): no shift. 48 -> 44 falls, then 44 -> 56 rises
    #   6 times: a trend of 7 points.
    values = [40, 60, 40, 60, 48, 44, 46, 48, 50, 52, 54, 56]
    got = mdc.assess(values, higher_is_better=True, target=None)
    assert got.mr_bar == pytest.approx(8.0)
    assert got.latest_rules == {mdc.TREND}
    assert [bool(r) for r in got.rules] == [False] * 5 + [True] * 7
    assert got.variation == mdc.IMPROVING
    assert mdc.assess(values, higher_is_better=False).variation == mdc.CONCERNING
    assert got.assurance == mdc.NO_TARGET


def test_a_falling_trend_above_the_mean_is_judged_by_its_direction():
    # 70, 30, 70, 30, 70, 30, then 68, 66, 64, 62, 60, 58, 56 (13 points)
    #   mean = (210 + 90 + 434) / 13 = 734 / 13 = 56.46: 56 is just below, 58..68 above
    #   (6 above: no shift). mR-bar = (5 x 40 + 38 + 6 x 2) / 12 = 250 / 12 = 20.83;
    #   limits 56.46 +/- 55.4: all inside; 2-sigma +/- 36.9: none beyond.
    #   68 -> 56 falls 6 times: a falling trend, so worse where higher is better.
    values = [70, 30, 70, 30, 70, 30, 68, 66, 64, 62, 60, 58, 56]
    got = mdc.assess(values, higher_is_better=True)
    assert got.latest_rules == {mdc.TREND}
    assert got.variation == mdc.CONCERNING


def test_two_of_three_beyond_two_sigma():
    # 50, 52 five times, then 56, 57 (12 points)
    #   mean = (250 + 260 + 113) / 12 = 623 / 12 = 51.917
    #   moving ranges: nine 2s, a 4, a 1 -> mR-bar = 23 / 11 = 2.0909
    #   upper limit 51.917 + 5.562 = 57.48: 57 is inside
    #   upper 2-sigma line 51.917 + 3.707 = 55.62: 56 and 57 beyond; 52, 56, 57 all above
    values = [50, 52] * 5 + [56, 57]
    got = mdc.assess(values, True, target=50)
    assert got.upl == pytest.approx(623 / 12 + 2.66 * 23 / 11)
    assert got.latest_rules == {mdc.TWO_OF_THREE}
    assert got.rules[-2] == {mdc.TWO_OF_THREE}
    assert got.variation == mdc.IMPROVING


def test_a_flat_series_is_common_cause_with_limits_on_the_mean():
    got = mdc.assess([90.0] * 15, True, target=85)
    assert (got.mean, got.mr_bar, got.lpl, got.upl) == (90.0, 0.0, 90.0, 90.0)
    assert got.variation == mdc.COMMON  # on the mean: no side, no run, no trend
    assert got.assurance == mdc.PASSES
    assert mdc.assess([90.0] * 15, True, target=95).assurance == mdc.FAILS
    assert mdc.assess([90.0] * 15, True, target=90).assurance == mdc.PASSES  # meets it


def test_fewer_than_twelve_points_is_not_enough_data():
    got = mdc.assess([20, 24] * 5 + [48], True, target=20)  # 11 points
    assert not got.enough
    assert got.variation == mdc.NOT_ENOUGH and got.assurance == mdc.NOT_ENOUGH
    assert mdc.VARIATION_LABEL[got.variation].endswith("Too few months")
    assert mdc.assess([], True).variation == mdc.NOT_ENOUGH
    assert math.isnan(mdc.assess([5.0], True).upl)


def test_missing_months_are_left_out():
    # the outlier case with two empty months: the same chart
    values = [20, 24, None, 20, 24, 20, 24, float("nan"), 20, 24, 20, 24, 20, 24, 48]
    got = mdc.assess(values, True, target=20)
    assert got.values == tuple(float(v) for v in OUTLIER)
    assert got.variation == mdc.IMPROVING


def test_no_direction_is_special_cause_without_a_verdict():
    assert mdc.assess(OUTLIER, higher_is_better=None).variation == mdc.SPECIAL
    assert mdc.assess(OUTLIER, None, target=20).assurance == mdc.NO_TARGET


def test_every_icon_has_words():
    for code in (mdc.COMMON, mdc.IMPROVING, mdc.CONCERNING, mdc.SPECIAL, mdc.NOT_ENOUGH):
        label = mdc.VARIATION_LABEL[code]
        assert len(label.split(" ", 1)[1]) >= 5  # a symbol, then words
    for code in (mdc.PASSES, mdc.FAILS, mdc.HIT_OR_MISS, mdc.NO_TARGET, mdc.NOT_ENOUGH):
        assert len(mdc.ASSURANCE_LABEL[code].split(" ", 1)[1]) >= 5
    assert mdc.describe_rules({mdc.TREND, mdc.OUTSIDE_LIMITS}).startswith(
        "outside the process limits; 7 or more")
