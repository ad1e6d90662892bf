"""The one display rule (dashboard/core/display.py): the shown figure never disagrees with the
status or rating decided on the exact value, at every threshold of every default target
and every rating band of every scheme."""

from __future__ import annotations

import math

import pytest

from dashboard.core import display
from dashboard.core.targets import Target, rag
from dashboard.data.reference import DEFAULT_TARGETS
from dashboard.hmip import ratings

TARGETS = [Target(m, g, a, h) for m, (g, a, h) in DEFAULT_TARGETS.items()]
# just below, on and just above a threshold, at distances that one- and no-decimal
# rounding would carry across it
OFFSETS = (-0.5, -0.05, -0.04, -0.004, -1e-4, 0.0, 1e-4, 0.004, 0.04, 0.05, 0.45, 0.5)


def _parse(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.measure)
@pytest.mark.parametrize("base", [0, 1])
def test_shown_value_keeps_the_rag_status_at_every_threshold(target, base):
    judge = display.rag_judge(target)
    for edge in (target.green_from, target.amber_from):
        for offset in OFFSETS:
            exact = edge + offset
            status = rag(exact, target)
            text = display.text(exact, judge, base, "%")
            assert rag(_parse(text), target) == status, (target, exact, text)
            assert rag(display.shown(exact, judge, base), target) == status
            # no more decimals than needed: one fewer would change the status
            d = display.decimals(exact, judge, base)
            if d > base:
                assert rag(round(exact, d - 1), target) != status, (exact, d)


def test_the_reported_cases():
    screened = Target("ttg_screened_in_5_days", 90.0, 80.0, True)
    # Sussex Sep-Nov 2026: 79.64 % is Red against "amber from 80"
    assert rag(100 * 223 / 280, screened) == "Red"
    assert display.text(100 * 223 / 280, display.rag_judge(screened), 0, "%") == "79.6 %"
    scheme = ratings.load_scheme("crc_2018")
    judge = display.rating_judge(scheme)
    assert ratings.rating_for_percent(64.955, scheme) == "Requires improvement"
    assert display.text(64.955, judge, 1) == "64.95"  # the float is just below 64.955
    assert ratings.rating_for_percent(display.shown(64.955, judge, 1), scheme) == (
        "Requires improvement")
    # far from any edge the usual decimals stay
    assert display.text(72.34, judge, 1) == "72.3"
    assert display.text(58.0, display.rag_judge(screened), 0, "%") == "58 %"


BANDED = [s for s in ratings.available_schemes() if ratings.load_scheme(s).standard_bands]


def test_some_scheme_has_bands():
    assert "crc_2018" in BANDED


@pytest.mark.parametrize("scheme_id", BANDED)
def test_shown_percent_keeps_the_rating_at_every_band_edge(scheme_id):
    scheme = ratings.load_scheme(scheme_id)
    bands = scheme.standard_bands
    judge = display.rating_judge(scheme)
    for band in bands:
        for offset in OFFSETS:
            exact = min(max(band.min_pct + offset, 0.0), 100.0)
            rating = ratings.rating_for_percent(exact, scheme)
            for base in (0, 1):
                shown = display.shown(exact, judge, base)
                assert ratings.rating_for_percent(shown, scheme) == rating, (band, exact)
                text = display.text(exact, judge, base)
                assert ratings.rating_for_percent(_parse(text), scheme) == rating, text


def test_line_judge_never_rounds_onto_the_line():
    judge = display.line_judge(80.0)
    assert display.text(79.96, judge, 1) == "79.96"
    assert display.text(80.04, judge, 1) == "80.04"
    assert display.text(80.0, judge, 1) == "80.0"
    assert display.text(45.26, judge, 1) == "45.3"


def test_missing_values_and_no_judge():
    assert display.text(None, None) == "–"
    assert display.text(float("nan"), display.line_judge(5.0)) == "–"
    assert math.isnan(display.shown(None, None))
    assert display.text(1234.5, None, 0) == "1,234"  # round half to even, as Python does
    assert display.text(79.96, None, 1, "%") == "80.0 %"  # nothing to judge: usual rounding


def test_target_book_picks_the_office_own_target_else_the_default():
    """look_up over a book built once answers as a filter of the target rows would: the
    office's own row first (the first of repeated rows), the default otherwise, None for a
    measure with no target."""
    import pandas as pd

    from dashboard.core.targets import look_up, target_book, target_for

    rows = pd.DataFrame([
        ("vacancy_rate", None, 10.0, 20.0, False),
        ("vacancy_rate", 7, 12.0, 22.0, False),
        ("vacancy_rate", 7, 99.0, 99.0, False),  # a repeat: the first row wins
        ("appointments_kept", None, 90.0, 80.0, True),
        ("appointments_kept", 3, 85.0, 70.0, True),
    ], columns=["measure", "office_id", "green_from", "amber_from", "higher_is_better"])
    book = target_book(rows)
    assert look_up(book, "vacancy_rate", 7).green_from == 12.0
    assert look_up(book, "vacancy_rate", 3).green_from == 10.0
    assert look_up(book, "vacancy_rate").green_from == 10.0
    assert look_up(book, "appointments_kept", 3) == target_for(rows, "appointments_kept", 3)
    assert look_up(book, "appointments_kept", 3).amber_from == 70.0
    assert look_up(book, "pct_sufficient", 3) is None
    for measure in ("vacancy_rate", "appointments_kept", "pct_sufficient"):
        for office in (None, 3, 7, 8):
            expected = rows[(rows["measure"] == measure) & (
                rows["office_id"] == office)] if office is not None else rows.iloc[0:0]
            if expected.empty:
                expected = rows[(rows["measure"] == measure) & rows["office_id"].isna()]
            got = look_up(book, measure, office)
            assert (got is None) == expected.empty
            if got is not None:
                assert got.green_from == expected.iloc[0]["green_from"]
