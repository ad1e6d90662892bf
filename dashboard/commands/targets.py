"""Changing targets as a command: ChangeTargets checks an edited target table and stores
the changes, one audit_log row per changed target, in the caller's transaction (all or
nothing). problems() and diff() also serve the page's preview before saving.

The RAG rule itself lives in dashboard/core/targets.py; this module only guards what goes into
the ``target`` table so that rule always has consistent bands: where higher is better,
green_from >= amber_from; where lower is better, green_from <= amber_from. The direction
(higher_is_better) is a property of the measure (dashboard.core.glossary), not something an
editor chooses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from dashboard.access import audit_log
from dashboard.core.glossary import MEASURES
from dashboard.data.schema import target

# Measures a target can be set for: every glossary measure with a better direction.
TARGET_MEASURES: tuple[str, ...] = tuple(
    k for k, m in MEASURES.items() if m.higher_is_better is not None)
# Proportions in percent cannot leave 0..100 (workload capacity can pass 100 %).
PERCENT_0_100 = frozenset(k for k in TARGET_MEASURES
                          if MEASURES[k].unit == "%" and k != "workload_capacity")
EDIT_COLUMNS = ["measure", "office_id", "green_from", "amber_from"]


class TargetProblem(ValueError):
    """One thing wrong with an edited target table; the message names the row (1-based, as
    shown) and the field, fit to show as is."""


class UnknownMeasure(TargetProblem):
    """A row's measure is not one a target can be set for (TARGET_MEASURES)."""


class UnknownOffice(TargetProblem):
    """A row's office is not an office of the region."""


class MissingNumber(TargetProblem):
    """Green from or amber from is empty or not a number."""


class NotAPercentage(TargetProblem):
    """A percentage measure's threshold outside 0..100."""


class BelowZero(TargetProblem):
    """A threshold below 0."""


class ThresholdsOutOfOrder(TargetProblem):
    """Green from is on the wrong side of amber from for the measure's better direction."""


class DuplicateTarget(TargetProblem):
    """Two rows for the same measure and office."""


class DefaultTargetMissing(TargetProblem):
    """Office targets for a measure that has no default (all offices) target."""


class TargetError(ValueError):
    """The edited targets cannot be stored; .problems lists every reason, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class InvalidTargets(TargetError):
    """The edited table has problems; .errors holds them as TargetProblems, in row order."""

    def __init__(self, errors: list[TargetProblem]) -> None:
        self.errors = errors
        super().__init__([str(e) for e in errors])


class TargetsChangedMeanwhile(TargetError):
    """The stored targets are no longer those the edit started from."""

    def __init__(self) -> None:
        super().__init__(["The targets were changed by someone else after you opened this "
                          "page. Reload the page and make your changes again."])


@dataclass(frozen=True)
class Change:
    measure: str
    office_id: int | None
    kind: str  # "added", "updated", "removed"
    before: dict | None
    after: dict | None


def _office(value) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return int(value)


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def problems(edited: pd.DataFrame, office_names: dict[int, str]) -> list[TargetProblem]:
    """Every problem with an edited target table (columns EDIT_COLUMNS; office_id None or
    NaN for the default), each naming the row (1-based, as shown) and field. An empty list
    means it can be stored."""
    found: list[TargetProblem] = []
    seen: dict[tuple[str, int | None], int] = {}
    for i, row in enumerate(edited.to_dict("records"), start=1):
        measure = row.get("measure")
        if measure not in TARGET_MEASURES:
            found.append(UnknownMeasure(f"Row {i}, field 'measure': choose a measure from "
                                        "the list."))
            continue
        name = MEASURES[measure].name
        office_id = _office(row.get("office_id"))
        where = f"Row {i} ({name}, {office_names.get(office_id, 'all offices')})"
        if office_id is not None and office_id not in office_names:
            found.append(UnknownOffice(f"{where}, field 'office': unknown office."))
        green, amber = _number(row.get("green_from")), _number(row.get("amber_from"))
        for field, value in (("green_from", green), ("amber_from", amber)):
            if value is None:
                found.append(MissingNumber(f"{where}, field '{field}': enter a number."))
            elif measure in PERCENT_0_100 and not 0 <= value <= 100:
                found.append(NotAPercentage(f"{where}, field '{field}': {value:g} is not a "
                                            "percentage between 0 and 100."))
            elif value < 0:
                found.append(BelowZero(f"{where}, field '{field}': {value:g} is below 0."))
        if green is not None and amber is not None:
            if MEASURES[measure].higher_is_better and green < amber:
                found.append(ThresholdsOutOfOrder(
                    f"{where}: higher is better, so green from ({green:g}) must be at least "
                    f"amber from ({amber:g})."))
            if MEASURES[measure].higher_is_better is False and green > amber:
                found.append(ThresholdsOutOfOrder(
                    f"{where}: lower is better, so green from ({green:g}) must be at most "
                    f"amber from ({amber:g})."))
        key = (measure, office_id)
        if key in seen:
            found.append(DuplicateTarget(f"{where}: the same measure and office as row "
                                         f"{seen[key]}; keep one."))
        seen.setdefault(key, i)
    defaults = {m for m, o in seen if o is None}
    for measure in sorted({m for m, _o in seen} - defaults):
        found.append(DefaultTargetMissing(
            f"{MEASURES[measure].name}: office targets need a default target (office left "
            "empty) for the other offices."))
    return found


def _as_dict(row: dict) -> dict:
    return {"green_from": float(row["green_from"]), "amber_from": float(row["amber_from"])}


def diff(current: pd.DataFrame, edited: pd.DataFrame) -> list[Change]:
    """The changes that turn the current targets into the edited ones, keyed on
    (measure, office_id); values compared as numbers."""
    def keyed(df: pd.DataFrame) -> dict[tuple[str, int | None], dict]:
        return {(r["measure"], _office(r["office_id"])): _as_dict(r)
                for r in df.to_dict("records")}

    before, after = keyed(current), keyed(edited)
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1] or 0)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        kind = "added" if old is None else "removed" if new is None else "updated"
        changes.append(Change(key[0], key[1], kind, old, new))
    return changes


class ChangeTargets:
    """Store an edited target table: one 'target_changed' audit_log row per added, updated
    or removed target, in the caller's transaction (all or nothing).

    current: the targets the edit started from (reference.targets columns); edited: the
    table as edited (EDIT_COLUMNS); office_names: office id -> name, for the messages and
    the audit rows.
    """

    def __init__(self, conn: Connection, username: str, current: pd.DataFrame,
                 edited: pd.DataFrame, office_names: dict[int, str]) -> None:
        self.conn = conn
        self.username = username
        self.current = current
        self.edited = edited
        self.office_names = office_names

    def validate(self) -> None:
        """Raise InvalidTargets with every problem of the edited table, or
        TargetsChangedMeanwhile if the stored targets are no longer those the edit started
        from (someone else saved meanwhile)."""
        found = problems(self.edited, self.office_names)
        if found:
            raise InvalidTargets(found)
        # lock the rows (PostgreSQL) so two admins saving at once cannot both pass this check
        stored = pd.DataFrame(self.conn.execute(select(*(target.c[c] for c in EDIT_COLUMNS))
                                                .with_for_update()).all(), columns=EDIT_COLUMNS)
        if diff(stored, self.current):
            raise TargetsChangedMeanwhile()

    def run(self) -> list[Change]:
        """Validate, then write every change with its audit row; returns the changes made."""
        self.validate()
        changes = diff(self.current, self.edited)
        for change in changes:
            self._write(change)
        return changes

    def _write(self, change: Change) -> None:
        conn = self.conn
        office_match = (target.c.office_id.is_(None) if change.office_id is None
                        else target.c.office_id == change.office_id)
        where = (target.c.measure == change.measure, office_match)
        if change.kind == "removed":
            conn.execute(delete(target).where(*where))
        elif change.kind == "updated":
            conn.execute(update(target).where(*where).values(**change.after))
        else:
            conn.execute(insert(target).values(
                measure=change.measure, office_id=change.office_id,
                higher_is_better=bool(MEASURES[change.measure].higher_is_better),
                **change.after))
        audit_log.record(
            conn, self.username, "target_changed",
            target=f"{change.measure}:{self.office_names.get(change.office_id, 'default')}",
            detail={"change": change.kind, "measure": change.measure,
                    "office_id": change.office_id, "before": change.before,
                    "after": change.after})
