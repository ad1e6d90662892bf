"""The chief executive's headline figures: every measure at one level, from the measure
modules' own queries, so the overview and the measure pages can never disagree.

From the monthly summaries the frame is one SQL statement over the measure modules'
per-office selects; otherwise (raw rows) it merges the measure queries' results.
"""

from __future__ import annotations

from dataclasses import replace
from functools import reduce

import pandas as pd
from sqlalchemy import Connection, func, or_, select

from dashboard.core.filters import Filters, month_start
from dashboard.data import summaries
from dashboard.data.schema import area, office
from queries import Level, gate, level_columns, payback, quality, staffing, supervision
from queries._frames import read_frame

# measure key -> (numerator column, denominator column, scale) in the merged frame; the
# unpaid work and Through-the-Gate rates come from their own modules' lists
RATES = {
    "vacancy_rate": ("vacancy_fte", "establishment_fte", 100.0),
    "caseload_per_officer": ("open_cases", "case_holding_fte", 1.0),
    "workload_capacity": ("workload_points", "available_points", 100.0),
    "pct_sufficient": ("sufficient", "applicable", 100.0),
    **{key: (num, den, 100.0) for key, num, den in payback.CARDS + gate.MEASURES},
    "appointments_kept": ("kept", "appointments", 100.0),
}
TOTALS = ("hours_worked", "hours_ordered", "hours_outstanding", "releases", "audits")


def last_month(f: Filters) -> Filters:
    """The period's last month alone: staffing is a snapshot, not a sum over months."""
    return replace(f, start=month_start(f.end))


def measure_frame(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """One row per unit at `level` with every measure's numerator and denominator, and
    the rate columns named by RATES keys (percent, or cases per FTE for caseload)."""
    if summaries.serves(conn, f):
        frame = measure_counts_from_summaries(conn, f, level)
    else:
        frame = measure_counts_from_rows(conn, f, level)
    keys = [c.name for c in level_columns(level)]
    frame["housed"] = frame["settled"] + frame["temporary"]
    for key, (num, den, scale) in RATES.items():
        frame[key] = (scale * frame[num] / frame[den].where(frame[den] > 0)).astype(float)
    return frame.sort_values(keys).reset_index(drop=True) if keys else frame


def _summary_parts(f: Filters) -> list[tuple]:
    """(per-office select, its columns in the frame) for every measure, in frame order."""
    snapshot = last_month(f)
    return [
        (staffing.gaps_per_office(snapshot), staffing.GAPS),
        (staffing.caseload_per_office(snapshot), staffing.CASELOAD),
        (quality.answers_per_office(f), ("applicable", "sufficient")),
        (quality.audits_per_office(f), ("audits",)),
        (payback.sessions_per_office(f), payback.SESSIONS),
        (payback.orders_per_office(f), payback.ORDERS),
        (payback.outstanding_per_office(f), payback.OUTSTANDING),
        (payback.completions_per_office(f), payback.COMPLETIONS),
        (payback.starts_per_office(f), payback.STARTS),
        (gate.releases_per_office(f), gate.COUNTS),
        (supervision.appointments_per_office(f), supervision.COUNTS),
    ]


def measure_counts_from_summaries(conn: Connection, f: Filters,
                                  level: Level = "office") -> pd.DataFrame:
    """Every measure's counts in one statement: each measure's per-office select joined
    to the offices that appear in at least one of them, summed to the level."""
    keys = level_columns(level)
    parts = [(select_.subquery(f"part{i}"), names)
             for i, (select_, names) in enumerate(_summary_parts(f))]
    stmt = select(*keys, *[func.coalesce(func.sum(part.c[name]), 0).label(name)
                           for part, names in parts for name in names])
    stmt = stmt.select_from(office).join(area, area.c.id == office.c.area_id)
    for part, _names in parts:
        stmt = stmt.outerjoin(part, part.c.office_id == office.c.id)
    stmt = stmt.where(or_(*[part.c.office_id.is_not(None) for part, _names in parts]),
                      *f.office_clause(office.c.id))
    if keys:
        stmt = stmt.group_by(*keys)
    return read_frame(stmt, conn)


def measure_counts_from_rows(conn: Connection, f: Filters,
                             level: Level = "office") -> pd.DataFrame:
    """The measure queries' results merged on the level's columns (missing counts 0)."""
    keys = [c.name for c in level_columns(level)]
    snapshot = last_month(f)
    parts = [
        staffing.gaps_by_month(conn, snapshot, level, by_grade=False).drop(columns="month"),
        staffing.caseload_by_month(conn, snapshot, level).drop(columns="month"),
        quality.key_question_counts(conn, f, level).groupby(keys or (lambda _i: 0))[
            ["applicable", "sufficient"]].sum().reset_index(drop=not keys),
        quality.audits_completed(conn, f, level),
        payback.hours_worked(conn, f, level),
        payback.orders_made(conn, f, level),
        payback.outstanding(conn, f, level),
        payback.completions(conn, f, level),
        payback.start_times(conn, f, level),
        gate.coverage(conn, f, level),
        supervision.appointments(conn, f, level),
    ]
    if keys:
        frame = reduce(lambda a, b: a.merge(b, on=keys, how="outer"), parts)
    else:
        frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    return frame.fillna({c: 0 for c in frame.columns if c not in keys})
