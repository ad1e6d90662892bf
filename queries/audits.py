"""Recording case audits: the audits a user may open, their answers, and saving them.

``save_audit`` replaces one audit's answers and must run inside one transaction
(``with engine.begin() as conn:``): the answers, the audit's status and the audit_log row
are stored together or not at all. Input is checked first by ``validate_answers`` (pure),
which returns a message per field, so nothing is written when anything is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, exists, func, insert, select, update

from dashboard.access import audit_log
from dashboard.access.scope import Scope
from dashboard.data import summaries
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

REASON_MAX = 2000
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

Answers = Mapping[str, tuple[str | None, str | None]]


class AuditNotFoundError(PermissionError):
    """No such audit, or not one this user may open."""


class AuditValidationError(ValueError):
    """The answers are not fit to save; ``errors`` maps field keys to messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(f"{len(self.errors)} answer(s) need attention")


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


def progress(conn: Connection, scope: Scope) -> pd.DataFrame:
    """How far each sample's audits have got, per sample and auditor (counts only).

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


def audit_case(conn: Connection, audit_id: int, scope: Scope) -> dict[str, Any] | None:
    """One audit and its case, or None if it does not exist or is outside the scope.

    Keys: audit_id, sample_id, sample, person_id, crn, office, office_id, sentence_type,
    rosh_level, gender, tier, start_date, end_date, auditor, status, audit_date, scheme,
    has_unpaid_work, has_release (bools).
    """
    row = conn.execute(_audit_rows(scope).where(case_audit.c.id == audit_id)).mappings().first()
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


def reason_key(code: str) -> str:
    """The field key of a key question's reason in validation errors ('2.1a.reason')."""
    return f"{code}.reason"


def validate_answers(
    questions: Sequence[KeyQuestion], answers: Answers, complete: bool
) -> dict[str, str]:
    """Messages for the fields that cannot be saved; empty when the answers are fine.

    answers maps key question code -> (answer or None, reason or None). Keys of the
    result are the code (the answer) or ``reason_key(code)`` (its reason). Rules:
    answers must be one of sufficient / not_sufficient / not_applicable; not applicable
    only where the question allows it; "not sufficient" needs a reason (at most
    REASON_MAX characters); a complete audit answers every question. A draft may leave
    questions unanswered.
    """
    errors: dict[str, str] = {}
    by_code = {q.code: q for q in questions}
    for code in answers:
        if code not in by_code:
            errors[code] = f"{code} is not a key question of this audit."
    for q in questions:
        answer, reason = answers.get(q.code, (None, None))
        reason = (reason or "").strip()
        if answer is None:
            if complete:
                errors[q.code] = "Answer this question to complete the audit (or save a draft)."
            continue
        if answer not in ANSWER_LABELS:
            errors[q.code] = f"Unknown answer {answer!r}."
        elif answer == "not_applicable" and not q.may_be_not_applicable:
            errors[q.code] = "This question applies to every case: choose sufficient or not."
        elif answer == "not_sufficient" and not reason:
            errors[reason_key(q.code)] = "Give the reason this is not sufficient."
        if len(reason) > REASON_MAX:
            errors[reason_key(q.code)] = f"Keep the reason under {REASON_MAX} characters."
    return errors


# --- saving ---------------------------------------------------------------------------------


def save_audit(
    conn: Connection,
    audit_id: int,
    answers: Answers,
    *,
    complete: bool,
    scope: Scope,
    scheme: Scheme,
    now: datetime | None = None,
) -> int:
    """Replace the audit's answers, set its status and log it; returns answers stored.

    Call inside one transaction. The audit must be one the user may open
    (``scope.audit_clause``) and their role must open the audit page, else
    ``AuditNotFoundError``; the answers are checked with ``validate_answers`` against the
    case's questions, else ``AuditValidationError`` (nothing written). Unanswered
    questions of a draft are not stored; reasons are kept only for "not sufficient".
    status becomes 'complete' or 'draft', audit_date today; one audit_log 'audit_saved'.
    """
    now = now or datetime.now(UTC)
    if not scope.may_open("audit"):
        raise AuditNotFoundError("Your role does not record case audits.")
    row = (
        conn.execute(
            _audit_rows(scope).where(case_audit.c.id == audit_id).with_for_update(of=case_audit)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AuditNotFoundError(f"Audit {audit_id} is not one you can open.")
    if row["scheme"] != scheme.scheme_id:
        raise AuditValidationError(
            {"scheme": f"This audit uses scheme {row['scheme']}, not {scheme.scheme_id}."}
        )
    questions = questions_for_case(scheme, row)
    errors = validate_answers(questions, answers, complete)
    if errors:
        raise AuditValidationError(errors)
    rows = []
    for q in questions:
        answer, reason = answers.get(q.code, (None, None))
        if answer is None:
            continue
        reason = (reason or "").strip() if answer == "not_sufficient" else None
        rows.append(
            {
                "audit_id": audit_id,
                "standard": q.standard,
                "key_question": q.code,
                "answer": answer,
                "reason": reason,
            }
        )
    conn.execute(delete(audit_answer).where(audit_answer.c.audit_id == audit_id))
    if rows:
        conn.execute(insert(audit_answer), rows)
    status = "complete" if complete else "draft"
    conn.execute(
        update(case_audit)
        .where(case_audit.c.id == audit_id)
        .values(status=status, audit_date=now.date())
    )
    # keep the monthly quality summaries exact: the old and the new audit month change
    old_date = row["audit_date"]
    old_date = old_date if isinstance(old_date, date) else date.fromisoformat(str(old_date)[:10])
    summaries.refresh_months(conn, [old_date.replace(day=1), now.date().replace(day=1)],
                             [int(row["office_id"])], tables=["case_audit", "audit_answer"])
    audit_log.record(
        conn,
        scope.username,
        "audit_saved",
        target=f"case_audit:{audit_id}",
        detail={
            "status": status,
            "answers": len(rows),
            "questions": len(questions),
            "not_sufficient": sum(r["answer"] == "not_sufficient" for r in rows),
            "crn": row["crn"],
            "sample_id": row["sample_id"],
        },
        now=now,
    )
    return len(rows)
