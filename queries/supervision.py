"""Supervision: appointments kept, missed and enforced.

appointments reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``appointments_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.summaries.supervision import APPOINTMENTS
from dashboard.data.summary_schema import summary_appointment
from queries import Level, level_columns
from queries._frames import read_frame

COUNTS = tuple(APPOINTMENTS.measures)


def appointments(conn: Connection, f: Filters, level: Level = "office",
                 by_month: bool = False) -> pd.DataFrame:
    """Appointments in the period. Columns: [month], [area, office, office_code],
    appointments, kept, acceptable_absence, failed, enforcement_actions."""
    if not summaries.serves(conn, f):
        return appointments_from_rows(conn, f, level, by_month)
    return read_frame(summaries.period_rollup(summary_appointment, COUNTS, f, level_columns(level),
                                               level == "office", by_month), conn)


def appointments_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], COUNTS from summary_appointment (summaries must serve f)."""
    return summaries.period_per_office(summary_appointment, COUNTS, f, by_month)


def appointments_from_rows(conn: Connection, f: Filters, level: Level = "office",
                           by_month: bool = False) -> pd.DataFrame:
    """appointments computed from appointment rows."""
    return read_frame(APPOINTMENTS.by_level(f, level_columns(level), by_month), conn)
