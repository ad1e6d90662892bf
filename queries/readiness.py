"""Inspection readiness: the evidence behind each standard's rating, its trend, the
cases judged not sufficient, and domain 1 judgements.

The *basis* of a rating is either the completed audits dated in the filters' period (in
the filters' offices) or the completed audits of one saved sample (``sample_id``).
Functions that take ``audit_version`` use it only as part of the cache key: pass
``audit_version(conn)``, which changes whenever an audit, sample or judgement is saved, so
a cached rating is never older than the last save.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from sqlalchemy import Connection, false, func, not_, select, tuple_

from dashboard.access.scope import Scope
from dashboard.core.filters import Filters
from dashboard.data import summaries
from dashboard.data.allocations import held, office_held, on_date
from dashboard.data.schema import (
    area,
    audit_answer,
    case_audit,
    case_sample,
    office,
    person,
    standard_judgement,
)
from dashboard.data.schema import audit_log as audit_log_table
from dashboard.data.sqlfuncs import count_where, month_of
from dashboard.data.summary_schema import summary_audit_answer
from dashboard.hmip import ratings, sampling
from queries import Level, level_columns, quality, samples
from queries._frames import read_frame

GLOSSARY = quality.GLOSSARY  # the measures the page's help defines: the audit sample's
CHANGE_ACTIONS = ("audit_saved", "sample_drawn", "judgement_recorded")


def audit_version(conn: Connection) -> int:
    """Id of the newest audit_log row that changed audits, samples or judgements (0 if
    none): a cache key that moves on every save."""
    stmt = select(func.max(audit_log_table.c.id)).where(
        audit_log_table.c.action.in_(CHANGE_ACTIONS)
    )
    return int(conn.execute(stmt).scalar() or 0)


def _scheme_clause(scheme: str | tuple[str, ...]):
    # a regional scheme reads the audits of the PDU schemes it aggregates
    if isinstance(scheme, tuple):
        return case_audit.c.scheme.in_(scheme)
    return case_audit.c.scheme == scheme


def _basis(f: Filters, scheme: str | tuple[str, ...], sample_id: int | None) -> list:
    where = [case_audit.c.status == "complete", _scheme_clause(scheme)]
    if sample_id is not None:
        return [*where, case_audit.c.sample_id == sample_id]
    return [*where, *f.clauses(case_audit.c.audit_date, office_held)]


def _in_scheme(scheme: str | tuple[str, ...], table=audit_answer):
    """Answers whose key question (with its standard) belongs to the scheme (or, for a
    regional scheme's tuple of PDU schemes, to one of them). Answers that reached the table
    by another route with a code the scheme does not know are left out of every rating,
    and counted by ``answers_left_out`` so the page can say so. table: audit_answer, or
    the summary of answers (same column names)."""
    names = scheme if isinstance(scheme, tuple) else (scheme,)
    pairs = sorted({(kq.code, kq.standard) for name in names
                    for kq in ratings.load_scheme(name).key_questions})
    if not pairs:
        return false()
    return tuple_(table.c.key_question, table.c.standard).in_(pairs)


def _summary_counts(f: Filters, scheme: str | tuple[str, ...], level: Level,
                    by_month: bool = False):
    """key_question_counts' statement over the monthly summary of answers (the office
    holding the case on the audit date, as the raw rows give it), limited to the scheme's
    key questions as every rating is."""
    names = scheme if isinstance(scheme, tuple) else (scheme,)
    return quality.summary_answer_counts(f, names, level, by_month,
                                         where=(_in_scheme(scheme, summary_audit_answer),))


def answers_left_out(conn: Connection, f: Filters, scheme: str = "crc_2018",
                     sample_id: int | None = None, audit_version: int = 0) -> pd.DataFrame:
    """Answers on the basis whose key question or standard is not in the scheme, so no
    rating counts them (counts only, no people).

    Columns: standard, key_question, answers, audits.
    """
    groups = [audit_answer.c.standard, audit_answer.c.key_question]
    stmt = (
        select(
            *groups,
            func.count().label("answers"),
            func.count(func.distinct(case_audit.c.id)).label("audits"),
        )
        .select_from(_answers_from())
        .where(*_basis(f, scheme, sample_id), not_(_in_scheme(scheme)))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def _audits_from():
    """Audits joined to the person and to the office holding the case on the audit date
    (last year's evidence stays put): one row per audit."""
    return (
        case_audit.join(person, person.c.id == case_audit.c.person_id)
        .outerjoin(held, on_date(person.c.id, case_audit.c.audit_date))
        .join(office, office.c.id == office_held)
        .join(area, area.c.id == office.c.area_id)
    )


def _answers_from():
    """_audits_from with each audit's answers: one row per answer."""
    return _audits_from().join(audit_answer, audit_answer.c.audit_id == case_audit.c.id)


def _counts(groups: list):
    return select(
        *groups, func.count(func.distinct(case_audit.c.id)).label("audits"),
        count_where(audit_answer.c.answer != "not_applicable").label("applicable"),
        count_where(audit_answer.c.answer == "sufficient").label("sufficient"),
    ).select_from(_answers_from())


def key_question_counts(conn: Connection, f: Filters, scheme: str = "crc_2018",
                        sample_id: int | None = None, level: Level = "office",
                        audit_version: int = 0) -> pd.DataFrame:
    """Judgements per key question on the basis (period, or sample when sample_id).

    Columns: [area, office, office_code], standard, key_question, audits (cases answering
    it), applicable (answers other than not applicable), sufficient.
    """
    if sample_id is None and summaries.serves(conn, f):
        return read_frame(_summary_counts(f, scheme, level), conn)
    return key_question_counts_from_rows(conn, f, scheme, sample_id, level)


def key_question_counts_from_rows(conn: Connection, f: Filters, scheme: str = "crc_2018",
                                  sample_id: int | None = None, level: Level = "office",
                                  audit_version: int = 0) -> pd.DataFrame:
    """key_question_counts from the raw audit rows (a sample is always read so)."""
    groups = [*level_columns(level), audit_answer.c.standard, audit_answer.c.key_question]
    stmt = (
        _counts(groups)
        .where(*_basis(f, scheme, sample_id), _in_scheme(scheme))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def judgement_area(offices: pd.DataFrame,
                   f: Filters) -> tuple[str | None, str | None, int | None]:
    """The area whose domain 1 judgements apply to the filters: (area_code, area name,
    area_id) of the chosen area, or of the chosen office's area; (None, None, None) for the
    region. offices: queries.reference.offices (office_code, area_code, area, area_id)."""
    area_code = f.area_code or (
        offices.loc[offices["office_code"] == f.office_code, "area_code"].iloc[0]
        if f.office_code else None)
    if not area_code:
        return None, None, None
    row = offices.loc[offices["area_code"] == area_code].iloc[0]
    return area_code, row["area"], int(row["area_id"])


def quarter_of(month: str) -> str:
    """'2026-05' -> '2026 Q2'."""
    year, m = month.split("-")
    return f"{year} Q{(int(m) - 1) // 3 + 1}"


def trend_counts(conn: Connection, f: Filters, scheme: str = "crc_2018",
                 by: str = "quarter", audit_version: int = 0) -> pd.DataFrame:
    """Judgements per key question over time, in the filters' offices.

    by 'quarter': completed audits by the quarter of their audit date, from the start of
    the history up to the end of the chosen period (never beyond it); by 'sample':
    completed audits of each saved sample (in the order the samples were drawn).
    Columns: period ('2026 Q2' or the sample's name), period_order (sorts the periods),
    standard, key_question, audits, applicable, sufficient.
    """
    if by == "quarter":
        covered = summaries.coverage(conn)
        history = replace(f, start=covered[0]) if covered else None  # the whole history
        if history is not None and summaries.serves(conn, history):
            df = read_frame(_summary_counts(history, scheme, "region", by_month=True), conn)
            df["period"] = df["month"].map(quarter_of)
            df["period_order"] = df["period"]
            return _by_period(df)
    return trend_counts_from_rows(conn, f, scheme, by)


def _by_period(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["period", "period_order", "standard", "key_question"]
    out = df.groupby(keys, as_index=False)[["audits", "applicable", "sufficient"]].sum()
    return out.sort_values(["period_order", "key_question"]).reset_index(drop=True)


def trend_counts_from_rows(conn: Connection, f: Filters, scheme: str = "crc_2018",
                           by: str = "quarter", audit_version: int = 0) -> pd.DataFrame:
    """trend_counts from the raw audit rows (by sample always)."""
    where = [
        case_audit.c.status == "complete",
        _scheme_clause(scheme),
        _in_scheme(scheme),
        *f.office_clause(office_held),
    ]
    kq = [audit_answer.c.standard, audit_answer.c.key_question]
    if by == "quarter":
        month = month_of(case_audit.c.audit_date).label("month")
        stmt = (_counts([month, *kq]).where(*where, case_audit.c.audit_date <= f.end)
                .group_by(month, *kq))
        df = read_frame(stmt, conn)
        df["period"] = df["month"].map(quarter_of)
        df["period_order"] = df["period"]
    elif by == "sample":
        groups = [
            case_sample.c.id.label("sample_id"),
            case_sample.c.name.label("period"),
            case_sample.c.created_at.label("drawn_at"),
        ]
        stmt = (
            _counts([*groups, *kq])
            .join_from(case_audit, case_sample, case_sample.c.id == case_audit.c.sample_id)
            .where(*where)
            .group_by(*groups, *kq)
        )
        df = read_frame(stmt, conn)
        df["period_order"] = df["sample_id"].astype("int64")
    else:
        raise ValueError(f"by must be 'quarter' or 'sample', got {by!r}")
    return _by_period(df)


def _person_rows(conn: Connection, columns: list, where: list, order: list) -> pd.DataFrame:
    """Answers on the basis as person-level rows, audit_date as a date."""
    stmt = select(*columns).select_from(_answers_from()).where(*where).order_by(*order)
    df = read_frame(stmt, conn)
    df["audit_date"] = pd.to_datetime(df["audit_date"]).dt.date
    return df


def not_sufficient_cases(conn: Connection, f: Filters, scope: Scope,
                         scheme: str = "crc_2018", sample_id: int | None = None,
                         audit_version: int = 0) -> pd.DataFrame:
    """The cases behind each "not sufficient" on the basis, limited to the user's scope
    (``scope.person_clause``): person-level rows.

    Columns: audit_id, crn, office, audit_date, auditor, standard, key_question, reason.
    """
    return _person_rows(
        conn,
        [case_audit.c.id.label("audit_id"), person.c.crn, office.c.name.label("office"),
         case_audit.c.audit_date, case_audit.c.auditor, audit_answer.c.standard,
         audit_answer.c.key_question, audit_answer.c.reason],
        [audit_answer.c.answer == "not_sufficient", *_basis(f, scheme, sample_id),
         _in_scheme(scheme), scope.person_clause(person.c.id, person.c.office_id)],
        [audit_answer.c.key_question, office.c.name, person.c.crn],
    )


def answer_rows(conn: Connection, f: Filters, scope: Scope, scheme: str = "crc_2018",
                sample_id: int | None = None, audit_version: int = 0) -> pd.DataFrame:
    """Every answer on the basis that the user may see (person-level), for the evidence
    pack.

    Columns: audit_id, crn, area, office, sentence_type, rosh_level, gender, audit_date,
    auditor, standard, key_question, answer, reason.
    """
    return _person_rows(
        conn,
        [case_audit.c.id.label("audit_id"), person.c.crn, area.c.name.label("area"),
         office.c.name.label("office"), person.c.sentence_type, person.c.rosh_level,
         person.c.gender, case_audit.c.audit_date, case_audit.c.auditor,
         audit_answer.c.standard, audit_answer.c.key_question, audit_answer.c.answer,
         audit_answer.c.reason],
        [*_basis(f, scheme, sample_id), _in_scheme(scheme),
         scope.person_clause(person.c.id, person.c.office_id)],
        [audit_answer.c.standard, person.c.crn, audit_answer.c.key_question],
    )


def audited_strata(conn: Connection, f: Filters, scheme: str = "crc_2018",
                   sample_id: int | None = None, audit_version: int = 0) -> pd.DataFrame:
    """Completed audits on the basis per stratum (counts only, no people).

    Columns: sentence_type, rosh_level, gender, audited (cases).
    """
    groups = [person.c.sentence_type, person.c.rosh_level, person.c.gender]
    stmt = (
        select(*groups, func.count(func.distinct(case_audit.c.person_id)).label("audited"))
        .select_from(_audits_from())
        .where(*_basis(f, scheme, sample_id))
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


# --- domain 1: recorded judgements -----------------------------------------------------------


def judgements(conn: Connection, scheme: str, area_id: int | None = None,
               audit_version: int = 0) -> pd.DataFrame:
    """The latest recorded judgement of each standard of the scheme for the area (None:
    the region). Columns: standard, rating, notes, evidence_link, judged_by, judged_at.
    """
    j = standard_judgement
    where = [j.c.scheme == scheme,
             j.c.area_id.is_(None) if area_id is None else j.c.area_id == area_id]
    stmt = (
        select(j.c.id, j.c.standard, j.c.rating, j.c.notes, j.c.evidence_link, j.c.judged_by,
               j.c.judged_at)
        .where(*where)
        .order_by(j.c.standard, j.c.judged_at.desc(), j.c.id.desc())
    )
    df = read_frame(stmt, conn)
    latest = df.drop_duplicates("standard", keep="first").drop(columns="id")
    return latest.reset_index(drop=True)


# --- the evidence pack ---------------------------------------------------------------------


def evidence_frames(conn: Connection, f: Filters, scope: Scope, scheme: str = "crc_2018",
                    sample_id: int | None = None) -> dict:
    """What the evidence pack needs besides the ratings, for the same basis.

    Keys: answers (``answer_rows``), strata (``sampling.strata_table_from_counts`` of the
    sample, or of the audited cases, against the cases active in the window or period,
    plus an ``audited`` column), sample (``samples.sample_members`` or None), method
    (label -> text lines describing the basis).
    """
    answers = answer_rows(conn, f, scope, scheme, sample_id)
    if sample_id is None:
        population = samples.population_strata(conn, f.start, f.end, f.office_ids)
        audited = audited_strata(conn, f, scheme)
        strata = sampling.strata_table_from_counts(
            population, audited.rename(columns={"audited": "sample"})
        )
        strata["audited"] = strata["sample"]
        method = {
            "Cases": (
                f"Completed audits dated {f.period_text()} in {f.label}. They were not drawn as "
                "one stratified sample: the strata table sets the audited cases against every "
                f"case active in the period ({int(population['population'].sum()):,})."
            )
        }
        return {"answers": answers, "strata": strata, "sample": None, "method": method}
    info = conn.execute(select(case_sample).where(case_sample.c.id == sample_id)).mappings().one()
    ids = samples.scope_office_ids(conn, info["office_id"], info["area_id"])
    population = samples.population_strata(conn, info["window_start"], info["window_end"], ids)
    drawn = samples.sample_strata(conn, sample_id)
    strata = sampling.strata_table_from_counts(population, drawn)
    strata = (
        strata.merge(drawn[[*sampling.STRATA, "audited"]], on=list(sampling.STRATA), how="left")
        .fillna({"audited": 0})
        .astype({"audited": "int64"})
    )
    total = int(population["population"].sum())
    hmip = info["method"] == "hmip"
    method = {
        "Sample": (
            f"{info['name']} (sample {sample_id}): {int(info['sample_size']):,} cases "
            f"drawn by {info['created_by']} on {info['created_at']:%d %b %Y} by the "
            f"{samples.METHODS.get(info['method'], info['method'])}, window "
            f"{info['window_start']:%d %b %Y} to {info['window_end']:%d %b %Y}"
            + (f", from the long list {info['source']}" if info["source"] else "")
            + f"; seed {info['seed']}; {info['confidence']:.0%} confidence, "
            f"±{100 * info['margin']:g} points margin"
            + (f"; buffer {info['buffer_pct']:g} %" if info["buffer_pct"] is not None else "")
            + f". The strata table below sets it against the {total:,} cases active in "
            "the window."
        ),
        "Eligibility": info["eligibility_rule"] or "",
        "Sample size": sampling.sample_size_working(
            info["confidence"], info["margin"], max(total, 1)
        ),
        "Stratification": (
            "HMIP's case sampler: five strata (male community low / non-low RoSH, male "
            "post-custody low / non-low, female), sizes rounded half up and adjusted, "
            "proportional across area, office and officer, at most 6 cases per officer; a "
            "random pick within each officer's share, reproducible from the seed."
            if hmip
            else "Proportional allocation by sentence type, risk of serious harm "
            "level and gender, largest-remainder rounding; a simple random "
            "sample within each stratum, reproducible from the seed."
        ),
    }
    members = samples.sample_members(conn, sample_id, scope)
    return {"answers": answers, "strata": strata, "sample": members, "method": method}
