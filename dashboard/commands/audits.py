"""Saving a case audit: ``SaveAudit`` checks the answers (``validate()`` raises a typed
error, nothing written) and stores them (``run()``): the answers, the audit's status, the
monthly quality summaries it changes and one audit_log row, in the caller's transaction
(``with engine.begin() as conn:``), so all are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, update

from dashboard.access import audit_log
from dashboard.access.scope import Scope
from dashboard.data import summaries
from dashboard.data.schema import audit_answer, case_audit
from dashboard.hmip.ratings import KeyQuestion, Scheme
from queries.audits import ANSWER_LABELS, audit_case, questions_for_case

REASON_MAX = 2000

# answers maps key question code -> (answer or None, reason or None)
Answers = Mapping[str, tuple[str | None, str | None]]


class AuditError(Exception):
    """An audit cannot be saved as asked; the message is fit to show as is."""


class AuditNotAssignedError(AuditError, PermissionError):
    """No such audit, or not one this user may open (an auditor opens only their own)."""


class RoleMayNotAuditError(AuditNotAssignedError):
    """The user's role does not record case audits."""


class AuditValidationError(AuditError, ValueError):
    """The answers are not fit to save; ``errors`` maps field keys (a key question's code,
    or ``reason_key(code)``) to messages, every problem at once."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(f"{len(self.errors)} answer(s) need attention")


class SchemeMismatchError(AuditValidationError):
    """The audit answers another scheme than the one the answers were given for."""


class AnswerOutsideSchemeError(AuditValidationError):
    """An answer that is not one of the scheme's: an unknown answer, a code that is not a
    key question of this audit, or "not applicable" where the question applies to all."""


class AnswerMissingError(AuditValidationError):
    """Saved as complete with key questions unanswered."""


class ReasonMissingError(AuditValidationError):
    """A "not sufficient" answer without its reason."""


class ReasonTooLongError(AuditValidationError):
    """A reason longer than REASON_MAX characters."""


# When the answers have several kinds of problem, the error raised is the first kind here
# (every problem is still in its .errors).
_SEVERITY = (AnswerOutsideSchemeError, AnswerMissingError, ReasonMissingError,
             ReasonTooLongError)


def reason_key(code: str) -> str:
    """The field key of a key question's reason in validation errors ('2.1a.reason')."""
    return f"{code}.reason"


def _problems(
    questions: Sequence[KeyQuestion], answers: Answers, complete: bool
) -> dict[str, tuple[type[AuditValidationError], str]]:
    problems: dict[str, tuple[type[AuditValidationError], str]] = {}
    by_code = {q.code: q for q in questions}
    for code in answers:
        if code not in by_code:
            problems[code] = (
                AnswerOutsideSchemeError, f"{code} is not a key question of this audit.")
    for q in questions:
        answer, reason = answers.get(q.code, (None, None))
        reason = (reason or "").strip()
        if answer is None:
            if complete:
                problems[q.code] = (
                    AnswerMissingError,
                    "Answer this question to complete the audit (or save a draft).",
                )
            continue
        if answer not in ANSWER_LABELS:
            problems[q.code] = (AnswerOutsideSchemeError, f"Unknown answer {answer!r}.")
        elif answer == "not_applicable" and not q.may_be_not_applicable:
            problems[q.code] = (
                AnswerOutsideSchemeError,
                "This question applies to every case: choose sufficient or not.",
            )
        elif answer == "not_sufficient" and not reason:
            problems[reason_key(q.code)] = (
                ReasonMissingError, "Give the reason this is not sufficient.")
        if len(reason) > REASON_MAX:
            problems[reason_key(q.code)] = (
                ReasonTooLongError, f"Keep the reason under {REASON_MAX} characters.")
    return problems


def validate_answers(
    questions: Sequence[KeyQuestion], answers: Answers, complete: bool
) -> dict[str, str]:
    """Messages for the fields that cannot be saved; empty when the answers are fine.

    Keys of the result are the code (the answer) or ``reason_key(code)`` (its reason).
    Rules: answers must be one of sufficient / not_sufficient / not_applicable; not
    applicable only where the question allows it; "not sufficient" needs a reason (at most
    REASON_MAX characters); a complete audit answers every question. A draft may leave
    questions unanswered.
    """
    return {key: message for key, (_, message) in _problems(questions, answers, complete).items()}


@dataclass
class SaveAudit:
    """Replace one audit's answers and set its status ('complete' or 'draft').

    conn must be inside one transaction. Unanswered questions of a draft are not stored;
    reasons are kept only for "not sufficient". The audit date becomes today.
    """

    conn: Connection
    scope: Scope
    audit_id: int
    answers: Answers
    complete: bool
    scheme: Scheme
    now: datetime | None = None

    def validate(self) -> None:
        """Raise before anything is written: RoleMayNotAuditError, AuditNotAssignedError
        (not an audit this user may open), SchemeMismatchError, or for the answers the
        AuditValidationError of their first kind of problem (_SEVERITY)."""
        if not self.scope.may_open("audit"):
            raise RoleMayNotAuditError("Your role does not record case audits.")
        case = audit_case(self.conn, self.audit_id, self.scope, lock=True)
        if case is None:
            raise AuditNotAssignedError(f"Audit {self.audit_id} is not one you can open.")
        if case["scheme"] != self.scheme.scheme_id:
            raise SchemeMismatchError(
                {"scheme": f"This audit uses scheme {case['scheme']}, not "
                           f"{self.scheme.scheme_id}."})
        questions = questions_for_case(self.scheme, case)
        problems = _problems(questions, self.answers, self.complete)
        if problems:
            kinds = {kind for kind, _ in problems.values()}
            kind = next(k for k in _SEVERITY if k in kinds)
            raise kind({key: message for key, (_, message) in problems.items()})
        self._case, self._questions = case, questions

    def run(self) -> int:
        """Validate, then write the answers, the status, the summaries of the old and new
        audit month and one audit_log 'audit_saved' row; returns the answers stored."""
        self.validate()
        now = self.now or datetime.now(UTC)
        case, rows = self._case, self._answer_rows()
        self.conn.execute(delete(audit_answer).where(audit_answer.c.audit_id == self.audit_id))
        if rows:
            self.conn.execute(insert(audit_answer), rows)
        status = "complete" if self.complete else "draft"
        self.conn.execute(
            update(case_audit)
            .where(case_audit.c.id == self.audit_id)
            .values(status=status, audit_date=now.date())
        )
        # keep the monthly quality summaries exact: the old and the new audit month change
        old = case["audit_date"]
        old = old if isinstance(old, date) else date.fromisoformat(str(old)[:10])
        summaries.refresh_months(self.conn, [old.replace(day=1), now.date().replace(day=1)],
                                 [int(case["office_id"])], tables=["case_audit", "audit_answer"])
        audit_log.record(
            self.conn,
            self.scope.username,
            "audit_saved",
            target=f"case_audit:{self.audit_id}",
            detail={
                "status": status,
                "answers": len(rows),
                "questions": len(self._questions),
                "not_sufficient": sum(r["answer"] == "not_sufficient" for r in rows),
                "crn": case["crn"],
                "sample_id": case["sample_id"],
            },
            now=now,
        )
        return len(rows)

    def _answer_rows(self) -> list[dict[str, Any]]:
        rows = []
        for q in self._questions:
            answer, reason = self.answers.get(q.code, (None, None))
            if answer is None:
                continue
            reason = (reason or "").strip() if answer == "not_sufficient" else None
            rows.append({"audit_id": self.audit_id, "standard": q.standard,
                         "key_question": q.code, "answer": answer, "reason": reason})
        return rows
