"""The ChangeTargets command called directly: each typed problem is found and nothing is
written; a change writes its target row and exactly one audit_log row."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import insert, select

from dashboard.access import audit_log
from dashboard.commands import targets
from dashboard.data import reference
from dashboard.data.schema import target
from tests.accounts import engine_fixture, log_count  # noqa: F401

OFFICES = {10: "Ashford", 20: "Guildford"}


@pytest.fixture
def current(engine) -> pd.DataFrame:
    """The default targets, stored; returns them as the edit starts from them."""
    with engine.begin() as conn:
        conn.execute(insert(target), [
            {"measure": m, "office_id": None, "green_from": g, "amber_from": a,
             "higher_is_better": h}
            for m, (g, a, h) in reference.DEFAULT_TARGETS.items()])
    return _stored(engine)


def _stored(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(*(target.c[c] for c in targets.EDIT_COLUMNS))
                            .order_by(target.c.id)).all()
    return pd.DataFrame(rows, columns=targets.EDIT_COLUMNS)


def _edit(current: pd.DataFrame, measure: str, **values) -> pd.DataFrame:
    edited = current.copy()
    for column, value in values.items():
        edited.loc[edited["measure"] == measure, column] = value
    return edited


def _with_row(current: pd.DataFrame, **row) -> pd.DataFrame:
    return pd.concat([current, pd.DataFrame([row])], ignore_index=True)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda c: _with_row(c, measure="no_such_measure", office_id=None, green_from=1.0,
                             amber_from=0.0), targets.UnknownMeasure),
        (lambda c: _with_row(c, measure="vacancy_rate", office_id=99, green_from=10.0,
                             amber_from=20.0), targets.UnknownOffice),
        (lambda c: _edit(c, "vacancy_rate", green_from=None), targets.MissingNumber),
        (lambda c: _edit(c, "pct_sufficient", green_from=120.0), targets.NotAPercentage),
        (lambda c: _edit(c, "caseload_per_officer", green_from=-1.0), targets.BelowZero),
        (lambda c: _edit(c, "vacancy_rate", green_from=30.0), targets.ThresholdsOutOfOrder),
        (lambda c: _edit(c, "pct_sufficient", amber_from=70.0), targets.ThresholdsOutOfOrder),
        (lambda c: _with_row(c, measure="vacancy_rate", office_id=None, green_from=10.0,
                             amber_from=20.0), targets.DuplicateTarget),
        (lambda c: _with_row(c[c["measure"] != "vacancy_rate"], measure="vacancy_rate",
                             office_id=10, green_from=10.0, amber_from=20.0),
         targets.DefaultTargetMissing),
    ],
)
def test_each_typed_problem_is_refused_before_writing(engine, current, change, error):
    edited = change(current)
    found = targets.problems(edited, OFFICES)
    assert [type(p) for p in found] == [error]
    logged = log_count(engine)
    with engine.begin() as conn:
        with pytest.raises(targets.InvalidTargets) as raised:
            targets.ChangeTargets(conn, "admin", current, edited, OFFICES).validate()
        with pytest.raises(targets.InvalidTargets):
            targets.ChangeTargets(conn, "admin", current, edited, OFFICES).run()
    assert [type(e) for e in raised.value.errors] == [error]
    assert raised.value.problems == [str(p) for p in found]
    assert isinstance(raised.value, targets.TargetError)
    pd.testing.assert_frame_equal(_stored(engine), current)
    assert log_count(engine) == logged


def test_targets_changed_meanwhile_are_not_overwritten(engine, current):
    with engine.begin() as conn:
        targets.ChangeTargets(conn, "someone", current,
                              _edit(current, "vacancy_rate", green_from=12.0), OFFICES).run()
    before, logged = _stored(engine), log_count(engine)
    with engine.begin() as conn, pytest.raises(targets.TargetsChangedMeanwhile,
                                               match="changed by someone else"):
        targets.ChangeTargets(conn, "admin", current,
                              _edit(current, "vacancy_rate", green_from=8.0), OFFICES).run()
    pd.testing.assert_frame_equal(_stored(engine), before)
    assert log_count(engine) == logged


@pytest.mark.parametrize("kind", ["updated", "added", "removed"])
def test_a_change_writes_its_row_and_one_audit_row(engine, current, kind):
    office_row = _with_row(current, measure="vacancy_rate", office_id=20, green_from=15.0,
                           amber_from=25.0)
    if kind == "removed":  # start from a table that holds the office's own target
        with engine.begin() as conn:
            targets.ChangeTargets(conn, "admin", current, office_row, OFFICES).run()
        current = _stored(engine)
    edited = {"updated": _edit(current, "vacancy_rate", green_from=12.0),
              "added": office_row,
              "removed": current[current["office_id"].isna()]}[kind]
    logged = log_count(engine)
    with engine.begin() as conn:
        changes = targets.ChangeTargets(conn, "admin", current, edited, OFFICES).run()
    assert [c.kind for c in changes] == [kind]
    assert log_count(engine) == logged + 1
    assert targets.diff(_stored(engine), edited) == []
    with engine.connect() as conn:
        row = audit_log.read_log(conn, limit=1).iloc[0]
    assert (row["username"], row["action"]) == ("admin", "target_changed")
    office = "default" if kind == "updated" else "Guildford"
    assert row["target"] == f"vacancy_rate:{office}"
    assert json.loads(row["detail"])["change"] == kind
