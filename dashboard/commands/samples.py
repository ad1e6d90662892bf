"""Saving case samples: ``SaveSample`` stores a drawn sample, its members and one draft audit
per member, shared between auditors in turn; ``RedrawSample`` draws a saved sample again
from the database with a new seed and stores it in place.

``validate()`` raises a typed ``SampleError`` (its message fit to show) before anything is
written; ``run()`` writes the sample, its members, its audits and one audit_log
'sample_drawn' row in the caller's transaction (``with engine.begin() as conn:``), so all
are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from dashboard.access import audit_log
from dashboard.access.scope import Scope
from dashboard.data.schema import case_audit, case_sample, case_sample_member
from dashboard.hmip import hmip_sampling
from dashboard.hmip.sampling import SEED_MAX, assign_round_robin
from queries import samples
from queries.samples import SampleError, check_window

NAME_MAX = 120


class SampleNameError(SampleError):
    """The sample's name is blank or longer than NAME_MAX characters."""


class EmptySampleError(SampleError):
    """The sample has no cases."""


class DuplicateCaseError(SampleError):
    """The sample lists a case twice."""


class SeedError(SampleError):
    """The seed is not a whole number from 0 to SEED_MAX."""


class UnknownMethodError(SampleError):
    """The sampling method is not one of samples.METHODS."""


class NoAuditorError(SampleError):
    """No auditor chosen to share the sample's audits."""


class NotAnAuditorError(SampleError):
    """A name chosen to audit is not an enabled auditor account."""


class SampleNotFoundError(SampleError):
    """The sample to re-draw does not exist."""


class SampleLockedError(SampleError):
    """The sample already has audit answers: re-drawing it would throw recorded work away."""


class SampleFromFileError(SampleError):
    """The sample was drawn from a long-list file: only that file can draw it again."""


def _check_not_locked(conn: Connection, sample_id: int) -> None:
    answered = samples.answers_in_sample(conn, sample_id)
    if answered:
        raise SampleLockedError(
            f"Sample {sample_id} already has {answered} audit answers: it cannot be "
            "re-drawn. Keep it, or draw a new sample alongside it."
        )


@dataclass
class SaveSample:
    """Store a drawn sample, its members and one draft audit per member; ``run()`` returns
    the sample's id.

    members: columns person_id and stratum, in draw order; the cases are assigned to the
    auditors in assign_to in turn (``sampling.assign_round_robin``). With
    replace_sample_id the saved sample is re-drawn in place (same id, new members, seed
    and settings) unless any of its audits has an answer. method ('hmip' or
    'custom_strata'), buffer_pct, eligibility_rule (the rule in words; defaults to the
    method's) and source (the long-list file, None for the database) are stored with the
    sample so it says how it was drawn. population (cases eligible) goes to the log.
    """

    conn: Connection
    name: str
    window_start: date
    window_end: date
    office_id: int | None
    area_id: int | None
    confidence: float
    margin: float
    seed: int
    members: pd.DataFrame
    assign_to: Sequence[str]
    scheme: str
    created_by: str
    population: int | None = None
    replace_sample_id: int | None = None
    now: datetime | None = None
    method: str = "custom_strata"
    buffer_pct: float | None = None
    eligibility_rule: str | None = None
    source: str | None = None

    def validate(self) -> None:
        """Raise SampleNameError, SampleWindowError, EmptySampleError,
        DuplicateCaseError, SeedError, UnknownMethodError, NoAuditorError or
        NotAnAuditorError for the request; SampleNotFoundError or SampleLockedError for a
        sample to replace (its row then stays locked until the transaction ends)."""
        name = " ".join((self.name or "").split())
        if not name:
            raise SampleNameError("Give the sample a name (e.g. 'Kent internal audit, Q4 2026').")
        if len(name) > NAME_MAX:
            raise SampleNameError(f"The sample name is too long (at most {NAME_MAX} characters).")
        check_window(self.window_start, self.window_end)
        if self.members.empty:
            raise EmptySampleError("The sample has no cases: widen the window or the scope.")
        if self.members["person_id"].duplicated().any():
            raise DuplicateCaseError("The sample lists a case twice.")
        if not 0 <= int(self.seed) <= SEED_MAX:
            raise SeedError(f"The seed must be a whole number from 0 to {SEED_MAX}.")
        if self.method not in samples.METHODS:
            raise UnknownMethodError(f"Unknown sampling method {self.method!r}.")
        if not self.assign_to:
            raise NoAuditorError("Choose at least one auditor.")
        known = set(samples.auditors(self.conn)["username"])
        unknown = [a for a in self.assign_to if a not in known]
        if unknown:
            raise NotAnAuditorError(
                f"Choose at least one auditor; not an enabled auditor: {', '.join(unknown)}.")
        if self.replace_sample_id is not None:
            sample_id = int(self.replace_sample_id)
            exists = self.conn.execute(
                select(case_sample.c.id).where(case_sample.c.id == sample_id).with_for_update()
            ).first()
            if exists is None:
                raise SampleNotFoundError(f"Sample {sample_id} does not exist.")
            _check_not_locked(self.conn, sample_id)
        self.name = name

    def run(self) -> int:
        """Validate, then write the sample (or replace it), its members, a draft audit per
        member and one audit_log row; returns the sample's id."""
        self.validate()
        now = self.now or datetime.now(UTC)
        sample_id = self._store_sample(now)
        people = [int(p) for p in self.members["person_id"]]
        self.conn.execute(insert(case_sample_member), [
            {"sample_id": sample_id, "person_id": p, "stratum": str(s)}
            for p, s in zip(people, self.members["stratum"], strict=True)
        ])
        assigned = assign_round_robin(self.members, list(self.assign_to))
        self.conn.execute(insert(case_audit), [
            {"person_id": p, "sample_id": sample_id, "auditor": a, "audit_date": now.date(),
             "status": "draft", "scheme": self.scheme}
            for p, a in zip(people, assigned, strict=True)
        ])
        audit_log.record(
            self.conn,
            self.created_by,
            "sample_drawn",
            target=f"case_sample:{sample_id}",
            filters={
                "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
                "office_id": self.office_id,
                "area_id": self.area_id,
            },
            detail={
                "name": self.name,
                "sample_size": len(self.members),
                "seed": int(self.seed),
                "confidence": float(self.confidence),
                "margin": float(self.margin),
                "population": self.population,
                "scheme": self.scheme,
                "method": self.method,
                "buffer_pct": self.buffer_pct,
                "source": self.source,
                "auditors": list(self.assign_to),
                "replaced": self.replace_sample_id is not None,
            },
            now=now,
        )
        return sample_id

    def _store_sample(self, now: datetime) -> int:
        """Insert the case_sample row, or replace a saved one's settings and clear its
        members and audits; returns its id."""
        rule = self.eligibility_rule
        if rule is None:
            rule = (samples.HMIP_WINDOW_RULE + hmip_sampling.ELIGIBILITY_RULE
                    if self.method == "hmip" else samples.CUSTOM_RULE)
        values: dict[str, Any] = dict(
            name=self.name,
            office_id=self.office_id,
            area_id=self.area_id,
            window_start=self.window_start,
            window_end=self.window_end,
            confidence=float(self.confidence),
            margin=float(self.margin),
            sample_size=len(self.members),
            seed=int(self.seed),
            created_by=self.created_by,
            created_at=now,
            method=self.method,
            buffer_pct=None if self.buffer_pct is None else float(self.buffer_pct),
            eligibility_rule=rule,
            source=self.source,
        )
        if self.replace_sample_id is None:
            inserted = self.conn.execute(insert(case_sample).values(**values))
            return int(inserted.inserted_primary_key[0])
        sample_id = int(self.replace_sample_id)
        self.conn.execute(delete(case_audit).where(case_audit.c.sample_id == sample_id))
        self.conn.execute(
            delete(case_sample_member).where(case_sample_member.c.sample_id == sample_id))
        self.conn.execute(update(case_sample).where(case_sample.c.id == sample_id).values(**values))
        return sample_id


@dataclass
class RedrawSample:
    """Draw a saved sample again from the database with a new seed, by its own method,
    window, scope, confidence, margin and buffer, and store it in place (``SaveSample``
    with replace_sample_id); ``run()`` returns the sample's id.

    The audits are shared between the sample's current auditors (none: every enabled
    auditor) and answer its current scheme (none: fallback_scheme). reference_day is the
    day HMIP's method judges "not yet started" against (the data's as-of date).
    """

    conn: Connection
    scope: Scope
    sample_id: int
    seed: int
    reference_day: date
    fallback_scheme: str
    now: datetime | None = None

    def validate(self) -> None:
        """Raise SampleNotFoundError, SampleFromFileError (drawn from a long-list file) or
        SampleLockedError (its audits have answers)."""
        saved = samples.samples(self.conn, sample_id=self.sample_id)
        if saved.empty:
            raise SampleNotFoundError(f"Sample {self.sample_id} does not exist.")
        row = saved.iloc[0]
        if row["source"]:
            raise SampleFromFileError(
                f"Sample {self.sample_id} was drawn from the long-list file {row['source']}: "
                "draw it again from that file."
            )
        _check_not_locked(self.conn, self.sample_id)
        self._row = row

    def run(self) -> int:
        """Validate, draw with the new seed, then store as SaveSample.run does."""
        self.validate()
        row = self._row
        buffer_pct = None if pd.isna(row["buffer_pct"]) else float(row["buffer_pct"])
        members, eligible = samples.draw_from_database(
            self.conn,
            method=row["method"],
            window_start=row["window_start"],
            window_end=row["window_end"],
            office_ids=samples.scope_office_ids(self.conn, row["office_id"], row["area_id"]),
            scope=self.scope,
            confidence=row["confidence"],
            margin=row["margin"],
            seed=self.seed,
            reference_day=self.reference_day,
            buffer_pct=buffer_pct,
        )
        auditors = (samples.sample_auditors(self.conn, self.sample_id)
                    or list(samples.auditors(self.conn)["username"]))
        return SaveSample(
            self.conn,
            name=row["name"],
            window_start=row["window_start"],
            window_end=row["window_end"],
            office_id=row["office_id"],
            area_id=row["area_id"],
            confidence=row["confidence"],
            margin=row["margin"],
            seed=self.seed,
            members=members,
            assign_to=auditors,
            scheme=row["scheme"] or self.fallback_scheme,
            created_by=self.scope.username,
            population=eligible,
            replace_sample_id=self.sample_id,
            now=self.now,
            method=row["method"],
            buffer_pct=buffer_pct,
            eligibility_rule=row["eligibility_rule"],
        ).run()
