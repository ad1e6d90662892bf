"""Case quality sample scores: audit judgements against HMIP key questions.

Each query reads the monthly summaries (dashboard.data.summary_schema) when they cover the
period, else the raw rows (``*_from_rows``); both give the same figures.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, func, select

from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.schema import audit_answer, case_audit, person
from dashboard.data.summaries.audits import ANSWERS, AUDITS
from dashboard.data.summary_schema import summary_audit, summary_audit_answer
from dashboard.hmip import ratings
from dashboard.stats.measures import add_rate
from queries import Level, level_columns
from queries._frames import read_frame

KEY_QUESTION = ("audits", "applicable", "sufficient")
GLOSSARY = ("pct_sufficient", "cases_audited", "audits_completed")  # defined in the page's help


def key_question_counts(conn: Connection, f: Filters, level: Level = "office",
                        by_month: bool = False, scheme: str = "crc_2018") -> pd.DataFrame:
    """Completed audits in the period: judgements per key question.

    Columns: [month], [area, office, office_code], standard, key_question, audits (cases
    audited on it), applicable (answers other than not applicable), sufficient.
    % sufficient = sufficient / applicable.
    """
    if not summaries.serves(conn, f):
        return key_question_counts_from_rows(conn, f, level, by_month, scheme)
    return read_frame(summary_answer_counts(f, (scheme,), level, by_month), conn)


def summary_answer_counts(f: Filters, schemes: tuple[str, ...], level: Level = "office",
                          by_month: bool = False, where: tuple = ()):
    """The statement behind key_question_counts (also read by queries.readiness): the
    monthly summary of completed audits' answers in these schemes summed to the level,
    per standard and key question, with any further `where` clauses on
    summary_audit_answer. One answer per audit and key question (a unique key), so its
    answer count is the number of audits answering the question."""
    s = summary_audit_answer
    return summaries.rollup(
        s, [("audits", "answers"), ("applicable", "applicable"), ("sufficient", "sufficient")],
        level_columns(level),
        [s.c.scheme.in_(schemes), *where, *f.clauses(s.c.month, s.c.office_id)],
        by_month=by_month, keys=["standard", "key_question"],
        fixed=["scheme"] if len(schemes) == 1 else [], office_level=level == "office")


def standard_ratings(conn: Connection, f: Filters, level: Level = "region",
                     scheme: str = "crc_2018") -> pd.DataFrame:
    """The rating each case standard earns in the period (dashboard.hmip.ratings
    .standard_ratings over key_question_counts): one row per standard, per area or office
    at those levels (columns area[, office] first). Computed here so that the page's
    cache keeps the ratings, not only the counts behind them."""
    counts = key_question_counts(conn, f, level=level, scheme=scheme)
    by = {"office": ["area", "office"], "area": ["area"]}.get(level, [])
    return ratings.standard_ratings(counts, ratings.load_scheme(scheme), by=by)


def audits_completed(conn: Connection, f: Filters, level: Level = "office") -> pd.DataFrame:
    """Completed case audits in the period. Columns: [area, office, office_code], audits."""
    if not summaries.serves(conn, f):
        return audits_completed_from_rows(conn, f, level)
    s = summary_audit
    return read_frame(summaries.rollup(s, [("audits", "audits")], level_columns(level),
                                        f.clauses(s.c.month, s.c.office_id),
                                        office_level=level == "office"), conn)


def key_question_rates(counts: pd.DataFrame, scheme) -> pd.DataFrame:
    """key_question_counts (region level) with pct (% sufficient of applicable), pct_low
    and pct_high (Wilson 95 %, percent) and question (code and the scheme's label)."""
    kq = add_rate(counts.copy(), "sufficient", "applicable", "pct")
    kq["question"] = kq["key_question"] + " " + kq["key_question"].map(
        lambda code: scheme.key_question(code).label)
    return kq


def office_rates(by_office: pd.DataFrame) -> pd.DataFrame:
    """key_question_counts (office level) added up over the key questions. Columns: area,
    office, sufficient, applicable, pct (% sufficient), pct_low, pct_high (Wilson 95 %)."""
    offices = by_office.groupby(["area", "office"], as_index=False)[
        ["sufficient", "applicable"]].sum()
    return add_rate(offices, "sufficient", "applicable", "pct")


def monthly_rates(monthly: pd.DataFrame, series: str) -> pd.DataFrame:
    """key_question_counts by month added up over the key questions per month and
    `series` (a level column). Columns: month, <series>, sufficient, applicable, pct."""
    trend = monthly.groupby(["month", series], as_index=False)[["sufficient",
                                                                "applicable"]].sum()
    return add_rate(trend, "sufficient", "applicable", "pct", interval=False)


# --- per office, from the summaries (also composed by queries.overview) ------------------

def answers_per_office(f: Filters, scheme: str = "crc_2018", by_month: bool = False,
                       keys: tuple[str, ...] | list[str] = ()):
    """office_id, [month], keys, audits (answers), applicable, sufficient."""
    s = summary_audit_answer
    return summaries.per_office(
        s, [("audits", "answers"), ("applicable", "applicable"), ("sufficient", "sufficient")],
        [s.c.scheme == scheme, *f.clauses(s.c.month, s.c.office_id)], by_month=by_month,
        keys=keys, fixed=["scheme"])


def audits_per_office(f: Filters):
    """office_id, audits (completed audits, any scheme)."""
    s = summary_audit
    return summaries.per_office(s, [("audits", "audits")], f.clauses(s.c.month, s.c.office_id))


# --- the same figures from the raw rows -------------------------------------------------

def key_question_counts_from_rows(conn: Connection, f: Filters, level: Level = "office",
                                  by_month: bool = False,
                                  scheme: str = "crc_2018") -> pd.DataFrame:
    """key_question_counts computed from case_audit and audit_answer rows."""
    return read_frame(ANSWERS.by_level(
        f, level_columns(level), by_month, keys=[audit_answer.c.standard,
                                                 audit_answer.c.key_question],
        where=[case_audit.c.scheme == scheme], names={"answers": "audits"}), conn)


def audits_completed_from_rows(conn: Connection, f: Filters,
                               level: Level = "office") -> pd.DataFrame:
    """audits_completed computed from case_audit rows."""
    return read_frame(AUDITS.by_level(f, level_columns(level)), conn)


def cases_audited(conn: Connection, f: Filters, scheme: str = "crc_2018") -> pd.DataFrame:
    """Cases audited: distinct people on probation with at least one completed audit under
    the scheme dated in the period (a case audited twice counts once), and the audits
    themselves (counting every completed audit). One row. Columns: cases_audited, audits.
    """
    stmt = (
        select(func.count(func.distinct(case_audit.c.person_id)).label("cases_audited"),
               func.count(case_audit.c.id).label("audits"))
        .select_from(case_audit)
        .join(person, person.c.id == case_audit.c.person_id)
        .where(case_audit.c.status == "complete", case_audit.c.scheme == scheme,
               *f.clauses(case_audit.c.audit_date, person.c.office_id))
    )
    return read_frame(stmt, conn)
