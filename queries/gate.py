"""Through-the-Gate coverage: resettlement work done in time for people leaving prison.

coverage reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``coverage_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.summaries import CONTACT_DAYS, SCREENING_WORKING_DAYS
from dashboard.data.summaries.gate import RELEASES
from dashboard.data.summary_schema import summary_release
from dashboard.stats.measures import add_rate
from queries import Level, level_columns
from queries._frames import read_frame

__all__ = ["CONTACT_DAYS", "COUNTS", "MEASURES", "SCREENING_WORKING_DAYS", "coverage",
           "coverage_from_rows", "coverage_rates", "releases_per_office"]

COUNTS = tuple(RELEASES.measures)
MEASURES = (  # measure key, numerator, denominator
    ("ttg_screened_in_5_days", "screened_in_5_days", "releases"),
    ("ttg_plan_before_release", "plan_before_release", "releases"),
    ("ttg_contact_12_weeks", "contact_12_weeks", "custody_12_weeks"),
    ("ttg_housed_on_release", "housed", "accommodation_known"),
    ("ttg_first_appointment_kept", "first_appointment_kept", "first_appointment_due"),
)
# the measures the page's help defines, in this order
GLOSSARY = (*(m for m, _n, _d in MEASURES), "ttg_settled_on_release")


def coverage(conn: Connection, f: Filters, level: Level = "office",
             by_month: bool = False) -> pd.DataFrame:
    """Releases in the period and the resettlement work done for them.

    Columns: [month], [area, office, office_code], releases,
    screened_in_5_days (screening within 5 working days of reception),
    plan_before_release (plan completed on or before the release date),
    custody_12_weeks (in custody at least 84 days, so 12-week contact was possible),
    contact_12_weeks (of those, first contact at least 84 days before release),
    accommodation_known, settled, temporary, no_fixed_abode,
    first_appointment_due (outcome recorded), first_appointment_kept.
    """
    if not summaries.serves(conn, f):
        return coverage_from_rows(conn, f, level, by_month)
    return read_frame(summaries.period_rollup(summary_release, COUNTS, f, level_columns(level),
                                               level == "office", by_month), conn)


def coverage_rates(conn: Connection, f: Filters, level: Level = "office",
                   by_month: bool = False) -> pd.DataFrame:
    """coverage with housed (settled + temporary) and, for each MEASURES key, its % of
    the denominator and Wilson 95 % interval (percent): columns <key>, <key>_low,
    <key>_high."""
    df = coverage(conn, f, level, by_month)
    df["housed"] = df["settled"] + df["temporary"]
    for key, num, den in MEASURES:
        add_rate(df, num, den, key)
    return df


def releases_per_office(f: Filters, by_month: bool = False):
    """office_id, [month], COUNTS from summary_release (summaries must serve f)."""
    return summaries.period_per_office(summary_release, COUNTS, f, by_month)


def coverage_from_rows(conn: Connection, f: Filters, level: Level = "office",
                       by_month: bool = False) -> pd.DataFrame:
    """coverage computed from custody_release rows."""
    return read_frame(RELEASES.by_level(f, level_columns(level), by_month), conn)
