"""Case audits: the audits a user may open, their case, their saved answers, progress per
sample and auditor, and which key questions a case is asked.

Saving an audit is a command: ``dashboard.commands.audits.SaveAudit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Connection, exists, func, select

from dashboard.access.scope import Scope
from dashboard.data.schema import (
    audit_answer,
    case_audit,
    case_sample,
    custody_release,
    office,
    person,
    upw_order,
)
from dashboard.hmip.ratings import KeyQuestion, Scheme
from queries._frames import read_frame

ANSWER_LABELS = {
    "sufficient": "Sufficient",
    "not_sufficient": "Not sufficient",
    "not_applicable": "Not applicable",
}
# Standards that apply only to some cases, by standard name (any scheme): a case is asked
# them only when it has the service. Other case-sample standards are asked of every case.
STANDARD_NEEDS = {
    "unpaid work": "has_unpaid_work",
    "through the gate": "has_release",
    "resettlement": "has_release",
}
PROGRESS_COUNTS = ["audits", "complete", "in_progress", "not_started"]


def _audit_rows(scope: Scope):
    has_upw = exists().where(upw_order.c.person_id == person.c.id)
    has_release = exists().where(custody_release.c.person_id == person.c.id)
    return (
        select(
            case_audit.c.id.label("audit_id"),
            case_audit.c.sample_id,
            case_sample.c.name.label("sample"),
            person.c.id.label("person_id"),
            person.c.crn,
            office.c.name.label("office"),
            person.c.office_id,
            person.c.sentence_type,
            person.c.rosh_level,
            person.c.gender,
            person.c.tier,
            person.c.start_date,
            person.c.end_date,
            case_audit.c.auditor,
            case_audit.c.status,
            case_audit.c.audit_date,
            case_audit.c.scheme,
            has_upw.label("has_unpaid_work"),
            has_release.label("has_release"),
        )
        .select_from(
            case_audit.join(person, person.c.id == case_audit.c.person_id)
            .join(office, office.c.id == person.c.office_id)
            .outerjoin(case_sample, case_sample.c.id == case_audit.c.sample_id)
        )
        .where(scope.audit_clause(case_audit.c.auditor, person.c.office_id))
    )


def assigned_audits(
    conn: Connection, scope: Scope, samples_only: bool = True, sample_id: int | None = None
) -> pd.DataFrame:
    """The case audits the user may open: an auditor's own; for others those of people
    in their office scope. samples_only keeps audits that belong to a sample.

    One row per audit, drafts first then by CRN. Columns: audit_id, sample_id, sample,
    crn, office, sentence_type, rosh_level, gender, auditor, status, audit_date, scheme,
    answers (saved).
    """
    answers = (
        select(audit_answer.c.audit_id, func.count().label("answers"))
        .group_by(audit_answer.c.audit_id)
        .subquery()
    )
    base = _audit_rows(scope).subquery()
    stmt = (
        select(
            base.c.audit_id,
            base.c.sample_id,
            base.c.sample,
            base.c.crn,
            base.c.office,
            base.c.sentence_type,
            base.c.rosh_level,
            base.c.gender,
            base.c.auditor,
            base.c.status,
            base.c.audit_date,
            base.c.scheme,
            func.coalesce(answers.c.answers, 0).label("answers"),
        )
        .select_from(base.outerjoin(answers, answers.c.audit_id == base.c.audit_id))
        .order_by((base.c.status == "complete"), base.c.sample_id.desc(), base.c.crn)
    )
    if samples_only:
        stmt = stmt.where(base.c.sample_id.is_not(None))
    if sample_id is not None:
        stmt = stmt.where(base.c.sample_id == sample_id)
    df = read_frame(stmt, conn)
    df["audit_date"] = pd.to_datetime(df["audit_date"]).dt.date
    return df


def progress(conn: Connection, scope: Scope, audit_version: int = 0) -> pd.DataFrame:
    """How far each sample's audits have got, per sample and auditor (counts only).
    audit_version (queries.readiness.audit_version) is only a cache key: it moves on
    every audit saved and sample drawn.

    Audits the user may open (``scope.audit_clause``). One row per (sample, auditor),
    newest sample first. Columns: sample_id, sample (name), auditor, audits, complete,
    in_progress (drafts with at least one answer), not_started (drafts with none),
    pct_complete (0..100).
    """
    answered = select(audit_answer.c.audit_id).distinct().subquery()
    is_draft = case_audit.c.status != "complete"
    stmt = (
        select(
            case_audit.c.sample_id,
            case_sample.c.name.label("sample"),
            case_audit.c.auditor,
            func.count(case_audit.c.id).label("audits"),
            func.count(case_audit.c.id).filter(case_audit.c.status == "complete").label(
                "complete"
            ),
            func.count(case_audit.c.id)
            .filter(is_draft, answered.c.audit_id.is_not(None))
            .label("in_progress"),
            func.count(case_audit.c.id)
            .filter(is_draft, answered.c.audit_id.is_(None))
            .label("not_started"),
        )
        .select_from(
            case_audit.join(case_sample, case_sample.c.id == case_audit.c.sample_id)
            .join(person, person.c.id == case_audit.c.person_id)
            .outerjoin(answered, answered.c.audit_id == case_audit.c.id)
        )
        .where(scope.audit_clause(case_audit.c.auditor, person.c.office_id))
        .group_by(case_audit.c.sample_id, case_sample.c.name, case_audit.c.auditor)
        .order_by(case_audit.c.sample_id.desc(), case_audit.c.auditor)
    )
    df = read_frame(stmt, conn)
    df["pct_complete"] = (100 * df["complete"] / df["audits"]).astype("float64")
    return df


def progress_totals(progress_rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``progress`` rows added up by the columns in by (["sample_id", "sample"] per sample,
    ["auditor"] per auditor), in the order first met for a sample, by auditor name for
    auditors. Columns: by..., audits, complete, in_progress, not_started, pct_complete
    (0..100).
    """
    out = progress_rows.groupby(by, as_index=False, sort="auditor" in by)[PROGRESS_COUNTS].sum()
    out["pct_complete"] = 100 * out["complete"] / out["audits"]
    return out


def audit_counts(listed: pd.DataFrame) -> dict[str, int]:
    """Headline counts of ``assigned_audits`` rows: audits, drafts, complete and started
    (not complete, at least one answer saved). Cases."""
    not_complete = listed["status"] != "complete"
    return {
        "audits": len(listed),
        "drafts": int((listed["status"] == "draft").sum()),
        "complete": int((listed["status"] == "complete").sum()),
        "started": int((not_complete & (listed["answers"] > 0)).sum()),
    }


def next_open_audit(listed: pd.DataFrame, current: int) -> int | None:
    """The audit to open after ``current``: the next one in the list that is not
    complete (wrapping round), or None when every other audit is complete. listed: as
    ``assigned_audits`` returns it (audit_id, status)."""
    ids = [int(i) for i in listed["audit_id"]]
    status = dict(zip(ids, listed["status"], strict=True))
    if current not in status:
        return next((i for i in ids if status[i] != "complete"), None)
    start = ids.index(current)
    for i in ids[start + 1 :] + ids[:start]:
        if status[i] != "complete":
            return i
    return None


def audit_case(
    conn: Connection, audit_id: int, scope: Scope, lock: bool = False
) -> dict[str, Any] | None:
    """One audit and its case, or None if it does not exist or is outside the scope.
    lock: hold the audit's row for update until the transaction ends (before saving it).

    Keys: audit_id, sample_id, sample, person_id, crn, office, office_id, sentence_type,
    rosh_level, gender, tier, start_date, end_date, auditor, status, audit_date, scheme,
    has_unpaid_work, has_release (bools).
    """
    stmt = _audit_rows(scope).where(case_audit.c.id == audit_id)
    if lock:
        stmt = stmt.with_for_update(of=case_audit)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["has_unpaid_work"] = bool(out["has_unpaid_work"])
    out["has_release"] = bool(out["has_release"])
    return out


def audit_answers(conn: Connection, audit_id: int, scope: Scope) -> pd.DataFrame:
    """The saved answers of one audit in the user's scope.

    Columns: standard, key_question, answer, reason.
    """
    stmt = (
        select(
            audit_answer.c.standard,
            audit_answer.c.key_question,
            audit_answer.c.answer,
            audit_answer.c.reason,
        )
        .join(case_audit, case_audit.c.id == audit_answer.c.audit_id)
        .join(person, person.c.id == case_audit.c.person_id)
        .where(
            audit_answer.c.audit_id == audit_id,
            scope.audit_clause(case_audit.c.auditor, person.c.office_id),
        )
        .order_by(audit_answer.c.key_question)
    )
    return read_frame(stmt, conn)


# --- pure rules ---------------------------------------------------------------------------


def questions_for_case(scheme: Scheme, case: Mapping[str, Any]) -> list[KeyQuestion]:
    """The key questions an auditor answers for this case, in scheme order: every
    case-sample standard's questions, except standards (e.g. Unpaid work, Through the
    Gate) whose service the case did not have (case['has_unpaid_work'] /
    case['has_release'])."""
    out = []
    for standard in scheme.standards:
        if standard.kind != "case_sample":
            continue
        need = STANDARD_NEEDS.get(standard.name.casefold())
        if need and not case.get(need):
            continue
        out.extend(standard.key_questions)
    return out
