"""Recording a judgement on a standard rated from evidence (HMIP's domain one, for
example): ``RecordJudgement`` checks it (``validate()`` raises a typed error, nothing
written) and stores it (``run()``): a new row (earlier ones are kept as history) and one
audit_log row, in the caller's transaction (``with engine.begin() as conn:``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from sqlalchemy import Connection, insert

from dashboard.access import audit_log
from dashboard.access.scope import Scope
from dashboard.data.schema import standard_judgement
from dashboard.hmip.ratings import Scheme

NOTES_MAX = 4000
LINK_MAX = 500


class JudgementError(ValueError):
    """The judgement is not fit to save; ``errors`` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class NotAQualityLeadError(PermissionError):
    """Only quality leads record standard judgements."""


def validate_judgement(scheme: Scheme, standard: str, rating: str | None, notes: str,
                       evidence_link: str | None) -> dict[str, str]:
    """Messages per field ('standard', 'rating', 'notes', 'evidence_link'); empty if fine.

    The standard must be a judgement standard of the scheme, the rating one of its rating
    words, notes are required, and a link (optional) must be an http(s) address.
    """
    errors: dict[str, str] = {}
    judged = {s.code for s in scheme.standards if s.kind == "judgement"}
    if standard not in judged:
        errors["standard"] = "Choose a standard that is judged from evidence."
    if rating not in scheme.rating_names:
        errors["rating"] = "Choose a rating."
    text = (notes or "").strip()
    if not text:
        errors["notes"] = "Say what the judgement rests on."
    elif len(text) > NOTES_MAX:
        errors["notes"] = f"Keep the notes under {NOTES_MAX} characters."
    link = (evidence_link or "").strip()
    if link:
        parsed = urlparse(link)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors["evidence_link"] = (
                "Give a full web address starting https:// (or leave it empty)."
            )
        elif len(link) > LINK_MAX:
            errors["evidence_link"] = f"Keep the link under {LINK_MAX} characters."
    return errors


@dataclass
class RecordJudgement:
    """One judgement by a quality lead on one standard, for the region (area_id None) or
    an area."""

    conn: Connection
    scheme: Scheme
    standard: str
    rating: str | None
    notes: str
    evidence_link: str | None
    area_id: int | None
    scope: Scope
    now: datetime | None = None

    def validate(self) -> None:
        """Raises NotAQualityLeadError, or JudgementError with every field's problem."""
        if self.scope.role != "quality_lead":
            raise NotAQualityLeadError("Only quality leads record standard judgements.")
        errors = validate_judgement(self.scheme, self.standard, self.rating, self.notes,
                                    self.evidence_link)
        if errors:
            raise JudgementError(errors)

    def run(self) -> int:
        """Validate, then store the judgement and its audit-log row; returns the row's id."""
        self.validate()
        now = self.now or datetime.now(UTC)
        link = (self.evidence_link or "").strip() or None
        new_id = int(self.conn.execute(insert(standard_judgement).values(
            scheme=self.scheme.scheme_id, standard=self.standard, area_id=self.area_id,
            rating=self.rating, notes=self.notes.strip(), evidence_link=link,
            judged_by=self.scope.username, judged_at=now,
        )).inserted_primary_key[0])
        audit_log.record(self.conn, self.scope.username, "judgement_recorded",
                         target=f"standard_judgement:{new_id}",
                         detail={"scheme": self.scheme.scheme_id, "standard": self.standard,
                                 "rating": self.rating, "area_id": self.area_id}, now=now)
        return new_id
