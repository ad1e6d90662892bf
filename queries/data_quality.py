"""Data quality and freshness: how far to trust each number.

Row counts and the latest date per table, the last import of each table, the share of
missing values in the fields the measures rely on, and records that break rules across
tables. Counts only: no rows naming a person, so admins may see this page too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from dashboard.core.filters import Filters, month_end, month_start
from dashboard.core.labels import column_label
from dashboard.data import stat_state
from dashboard.data.schema import (
    app_user,
    appointment,
    audit_answer,
    case_audit,
    custody_release,
    establishment,
    import_run,
    metadata,
    person,
    staff_absence,
    staff_member,
    upw_order,
    upw_session,
)
from dashboard.data.sqlfuncs import month_text
from dashboard.data.summaries import month_range
from dashboard.data.summary_schema import dq_check_month, dq_table_size
from dashboard.ingest.extract_formats import FORMATS

# The date that says how recent a table's rows are (None: the table is reference data).
FRESHNESS_DATE = {
    "staff_member": staff_member.c.start_date,
    "establishment": establishment.c.month,
    "staff_absence": staff_absence.c.end_date,
    "person_on_probation": person.c.start_date,
    "appointment": appointment.c.appointment_date,
    "upw_order": upw_order.c.sentence_date,
    "upw_session": upw_session.c.session_date,
    "custody_release": custody_release.c.release_date,
    "case_audit": case_audit.c.audit_date,
}
RUN_COLUMNS = ["id", "table_name", "file_name", "file_sha256", "username", "started_at",
               "finished_at", "status", "mode", "rows_read", "inserted", "updated",
               "unchanged", "rejected", "max_date", "message"]


def count_table_sizes(conn: Connection, names) -> pd.DataFrame:
    """Rows and latest date of the importable tables `names`, counted now, in load order.
    Columns: table, rows, latest_date (None for reference tables)."""
    out = []
    for name in (n for n in FORMATS if n in set(names)):
        table = metadata.tables[name]
        date_col = FRESHNESS_DATE.get(name)
        cols = [func.count().label("rows")]
        if date_col is not None:
            cols.append(func.max(date_col).label("latest_date"))
        row = conn.execute(select(*cols).select_from(table)).mappings().one()
        out.append({"table": name, "rows": int(row["rows"]),
                    "latest_date": row.get("latest_date")})
    return pd.DataFrame(out, columns=["table", "rows", "latest_date"])


# Tables whose sizes are stored with the data-quality counts (the large ones; the rest are
# counted at view time, audits included: saving a sample adds draft audits)
STORED_SIZES = tuple(name for name in FORMATS if name in stat_state.CHECK_SOURCES)


def table_sizes(conn: Connection) -> pd.DataFrame:
    """Rows and latest date of every importable table, in load order. Columns: table,
    rows, latest_date (None for reference tables). The large tables' sizes are read from
    dq_table_size while the stored counts are up to date (a count over 11.6 M appointments
    takes seconds at national scale); the others are counted now. The page caches the
    result by data version as well."""
    t = dq_table_size
    stored = pd.DataFrame(columns=["table", "rows", "latest_date"])
    if stat_state.coverage(conn, stat_state.CHECKS) is not None:
        stored = pd.DataFrame(conn.execute(select(t.c.table_name, t.c.row_count,
                                                  t.c.latest_date)).all(),
                              columns=["table", "rows", "latest_date"])
    live = count_table_sizes(conn, [n for n in FORMATS if n not in set(stored["table"])])
    out = pd.concat([df for df in (stored, live) if not df.empty], ignore_index=True)
    return (out.set_index("table").reindex(list(FORMATS)).reset_index()
            .astype({"rows": int}))


def table_freshness(conn: Connection, sizes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per importable table, in load order: its size (``table_sizes``, read now
    unless given) and its last import, read now (a rejected import changes no data).

    Columns: table, title, rows, latest_date (None for reference tables), last_import_at,
    last_import_file, last_import_user, last_import_status, last_import_rejected,
    last_success_at.
    """
    sizes = table_sizes(conn) if sizes is None else sizes
    by_table = {row["table"]: row for row in sizes.to_dict("records")}
    runs = import_history(conn, limit=None)
    out = []
    for name, fmt in FORMATS.items():
        size = by_table[name]
        mine = runs[runs["table_name"] == name]
        last = mine.iloc[0] if len(mine) else None
        ok = mine[mine["status"].isin(["succeeded", "partial"])]
        out.append({
            "table": name, "title": fmt.title, "rows": int(size["rows"]),
            "latest_date": size["latest_date"],
            "last_import_at": None if last is None else last["started_at"],
            "last_import_file": None if last is None else last["file_name"],
            "last_import_user": None if last is None else last["username"],
            "last_import_status": None if last is None else last["status"],
            "last_import_rejected": None if last is None else int(last["rejected"]),
            "last_success_at": ok.iloc[0]["started_at"] if len(ok) else None,
        })
    return pd.DataFrame(out)


def import_history(conn: Connection, limit: int | None = 200) -> pd.DataFrame:
    """Import runs, newest first (all of them when limit is None). Columns: RUN_COLUMNS."""
    stmt = select(*(import_run.c[c] for c in RUN_COLUMNS)).order_by(
        import_run.c.started_at.desc(), import_run.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return pd.DataFrame(conn.execute(stmt).all(), columns=RUN_COLUMNS)


# --- missing values in the fields the measures use ------------------------------------

@dataclass(frozen=True)
class KeyField:
    table: str
    field: str  # the extract's column name
    missing: ColumnElement[bool]
    used_for: str


def _in_period(f: Filters, table: str) -> list[ColumnElement[bool]]:
    """The rows of table that belong to f's period and offices."""
    if table == "person_on_probation":
        return [person.c.start_date <= f.end, person.c.end_date >= f.start,
                *f.office_clause(person.c.office_id)]
    if table == "custody_release":
        return f.clauses(custody_release.c.release_date, person.c.office_id)
    if table == "case_audit":
        return f.clauses(case_audit.c.audit_date, person.c.office_id)
    raise ValueError(table)


KEY_FIELDS = (
    KeyField("person_on_probation", "officer_staff_ref", person.c.officer_id.is_(None),
             "caseload per officer, workload"),
    KeyField("person_on_probation", "routeway_needs", person.c.routeway_needs == "",
             "needs profile"),
    KeyField("custody_release", "screening_date", custody_release.c.screening_date.is_(None),
             "screened within 5 working days"),
    KeyField("custody_release", "plan_completed_date",
             custody_release.c.plan_completed_date.is_(None), "plan before release"),
    KeyField("custody_release", "pre_release_contact_date",
             custody_release.c.pre_release_contact_date.is_(None),
             "contact 12 weeks before release"),
    KeyField("custody_release", "accommodation_on_release",
             custody_release.c.accommodation_on_release.is_(None), "housed on release"),
    KeyField("custody_release", "first_appointment_kept",
             custody_release.c.first_appointment_kept.is_(None),
             "first appointment kept"),
)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _base(table: str) -> Select:
    if table == "person_on_probation":
        return select().select_from(person)
    source = {"custody_release": custody_release, "case_audit": case_audit}[table]
    return select().select_from(source).join(person, person.c.id == source.c.person_id)


def missing_values(conn: Connection, f: Filters) -> pd.DataFrame:
    """Share of missing values in key fields, over the records in f's period and offices
    (people: open at any time in the period; releases and audits: dated in it).

    Columns: table, field (the extract's column), field_label (the field in words, with
    what its table holds), used_for, records, missing, missing_pct (None if no records).
    """
    out = []
    for table in dict.fromkeys(k.table for k in KEY_FIELDS):
        fields = [k for k in KEY_FIELDS if k.table == table]
        stmt = _base(table).add_columns(
            func.count().label("records"),
            *(_count(k.missing).label(k.field) for k in fields)).where(*_in_period(f, table))
        row = conn.execute(stmt).mappings().one()
        for k in fields:
            records, missing = int(row["records"]), int(row[k.field])
            out.append({"table": table, "field": k.field,
                        "field_label": f"{column_label(k.field)} ({FORMATS[table].title})",
                        "used_for": k.used_for,
                        "records": records, "missing": missing,
                        "missing_pct": 100 * missing / records if records else None})
    return pd.DataFrame(out, columns=["table", "field", "field_label", "used_for", "records",
                                      "missing", "missing_pct"])


# --- rules across tables ------------------------------------------------------------------

@dataclass(frozen=True)
class CrossCheck:
    key: str
    description: str
    table: str


CROSS_CHECKS = (
    CrossCheck("release_not_licence", "Custody releases whose case is not a licence case",
               "custody_release"),
    CrossCheck("release_outside_case", "Custody releases dated outside their case's "
               "supervision (before it starts or after it ends)", "custody_release"),
    CrossCheck("audit_without_answers", "Case audits with no key-question answers",
               "case_audit"),
    CrossCheck("audit_outside_case", "Case audits dated outside the audited case's "
               "supervision", "case_audit"),
    CrossCheck("audit_unknown_auditor", "Case audits assigned to an auditor with no "
               "account (the auditor cannot open them)", "case_audit"),
    CrossCheck("appointment_outside_case", "Appointments dated outside the case's "
               "supervision", "appointment"),
    CrossCheck("session_outside_order", "Unpaid work sessions before the order's sentence "
               "date or after it was completed or terminated", "upw_session"),
    CrossCheck("order_over_worked", "Unpaid work orders with more hours worked than "
               "ordered", "upw_order"),
    CrossCheck("order_on_licence", "Unpaid work orders on licence cases", "upw_order"),
    CrossCheck("case_with_leaver", "Cases open at the period's end whose officer had left "
               "by then", "person_on_probation"),
)


def _outside(day: ColumnElement, start: ColumnElement, end: ColumnElement):
    return or_(day < start, day > end)


def _dated_check(key: str) -> tuple[FromClause, ColumnElement, ColumnElement[bool]]:
    """(the records checked, joined to their person; the record's date; the rule broken)
    for a check of records dated in the period (every check but case_with_leaver)."""
    r, a, ap, s, o = custody_release, case_audit, appointment, upw_session, upw_order
    if key in ("release_not_licence", "release_outside_case"):
        bad = (person.c.sentence_type != "licence" if key == "release_not_licence"
               else _outside(r.c.release_date, person.c.start_date, person.c.end_date))
        return r.join(person, person.c.id == r.c.person_id), r.c.release_date, bad
    if key.startswith("audit_"):
        if key == "audit_without_answers":
            bad = ~exists().where(audit_answer.c.audit_id == a.c.id)
        elif key == "audit_outside_case":
            bad = _outside(a.c.audit_date, person.c.start_date, person.c.end_date)
        else:
            bad = ~exists().where(app_user.c.username == a.c.auditor)
        return a.join(person, person.c.id == a.c.person_id), a.c.audit_date, bad
    if key == "appointment_outside_case":
        bad = _outside(ap.c.appointment_date, person.c.start_date, person.c.end_date)
        return ap.join(person, person.c.id == ap.c.person_id), ap.c.appointment_date, bad
    if key == "session_outside_order":
        ended = func.coalesce(o.c.completed_date, o.c.terminated_date)
        bad = or_(s.c.session_date < o.c.sentence_date,
                  and_(ended.is_not(None), s.c.session_date > ended))
        return (s.join(o, o.c.id == s.c.order_id).join(person, person.c.id == o.c.person_id),
                s.c.session_date, bad)
    if key in ("order_over_worked", "order_on_licence"):
        if key == "order_over_worked":
            worked = (select(func.coalesce(func.sum(s.c.hours_worked), 0))
                      .where(s.c.order_id == o.c.id).scalar_subquery())
            bad = worked > o.c.hours_ordered
        else:
            bad = person.c.sentence_type == "licence"
        return o.join(person, person.c.id == o.c.person_id), o.c.sentence_date, bad
    raise ValueError(f"unknown check {key!r}")


_leaver = aliased(staff_member)


def _open_at_end(day: date) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[bool]]:
    """case_with_leaver on `day`: (cases joined to their officer, the cases open that day,
    the officer had left by then)."""
    source = person.outerjoin(_leaver, _leaver.c.id == person.c.officer_id)
    bad = and_(_leaver.c.end_date.is_not(None), _leaver.c.end_date < day)
    return source, [person.c.start_date <= day, person.c.end_date >= day], bad


def _check_statement(key: str, f: Filters) -> Select:
    """SELECT checked, failing for one cross-table check in f's period and offices."""
    if key == "case_with_leaver":
        source, open_cases, bad = _open_at_end(f.end)
        where = [*open_cases, *f.office_clause(person.c.office_id)]
    else:
        source, day, bad = _dated_check(key)
        where = f.clauses(day, person.c.office_id)
    return (select(func.count().label("checked"), _count(bad).label("failing"))
            .select_from(source).where(*where))


# Checks stored per office and month (dashboard.precompute.data_checks); the audit checks
# are counted at view time (see dashboard.data.stat_state.CHECK_SOURCES).
STORED_CHECKS = ("release_not_licence", "release_outside_case", "appointment_outside_case",
                 "session_outside_order", "order_over_worked", "order_on_licence",
                 "case_with_leaver")


def check_counts_by_office_month(conn: Connection, first: date, last: date) -> pd.DataFrame:
    """The STORED_CHECKS per office and month from first's month to last's month, as
    cross_checks counts them: dated checks by the record's month, case_with_leaver on each
    month's last day. Rows only where a record was checked. Columns: office_id, month
    (first day), check_key, checked, failing."""
    frames = []
    for key in STORED_CHECKS[:-1]:
        source, day, bad = _dated_check(key)
        month = month_text(day)
        stmt = (select(person.c.office_id.label("office_id"), month.label("month"),
                       func.count().label("checked"), _count(bad).label("failing"))
                .select_from(source)
                .where(day >= month_start(first), day <= month_end(last))
                .group_by(person.c.office_id, month))
        frames.append(pd.read_sql(stmt, conn).assign(check_key=key))
    for m in month_range(first, last):
        source, open_cases, bad = _open_at_end(month_end(m))
        stmt = (select(person.c.office_id.label("office_id"), func.count().label("checked"),
                       _count(bad).label("failing"))
                .select_from(source).where(*open_cases).group_by(person.c.office_id))
        frames.append(pd.read_sql(stmt, conn).assign(month=m.isoformat()[:7],
                                                     check_key="case_with_leaver"))
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.to_datetime(out["month"].astype(str) + "-01").dt.date
    return out[["office_id", "month", "check_key", "checked", "failing"]].astype(
        {"office_id": int, "checked": int, "failing": int})


def _stored_checks(conn: Connection, f: Filters) -> dict[str, tuple[int, int]] | None:
    """{check: (checked, failing)} of the STORED_CHECKS in f's period and offices from the
    stored counts, or None when they do not serve this period."""
    if not stat_state.checks_serve(conn, f.start, f.end):
        return None
    t = dq_check_month
    in_period = and_(t.c.check_key != "case_with_leaver",
                     *f.clauses(t.c.month))
    at_end = and_(t.c.check_key == "case_with_leaver", t.c.month == month_start(f.end))
    stmt = (select(t.c.check_key, func.sum(t.c.checked), func.sum(t.c.failing))
            .where(or_(in_period, at_end), *f.office_clause(t.c.office_id))
            .group_by(t.c.check_key))
    found = {key: (int(c), int(n)) for key, c, n in conn.execute(stmt).all()}
    return {key: found.get(key, (0, 0)) for key in STORED_CHECKS}


def cross_checks(conn: Connection, f: Filters) -> pd.DataFrame:
    """Records breaking a rule across tables, in f's period and offices.

    Columns: check, description, table, checked, failing, failing_pct (None if none
    checked).
    """
    stored = _stored_checks(conn, f) or {}
    out = []
    for check in CROSS_CHECKS:
        if check.key in stored:
            checked, failing = stored[check.key]
        else:
            row = conn.execute(_check_statement(check.key, f)).mappings().one()
            checked, failing = int(row["checked"]), int(row["failing"] or 0)
        out.append({"check": check.key, "description": check.description,
                    "table": check.table, "checked": checked, "failing": failing,
                    "failing_pct": 100 * failing / checked if checked else None})
    return pd.DataFrame(out, columns=["check", "description", "table", "checked", "failing",
                                      "failing_pct"])

