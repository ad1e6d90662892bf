"""Case samples for internal audits: the eligible population, HMIP's long list, drawing
from the database, saved samples and their members.

Saving a sample is a command: ``dashboard.commands.samples`` (SaveSample, RedrawSample).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, and_, func, literal, select

from dashboard.access.scope import Scope
from dashboard.data.schema import (
    app_user,
    area,
    audit_answer,
    case_audit,
    case_sample,
    case_sample_member,
    office,
    person,
    staff_member,
)
from dashboard.hmip import hmip_sampling
from dashboard.hmip.sampling import STRATA
from queries._frames import read_frame

OfficeIds = tuple[int, ...] | None  # the offices a sample covers; None: the whole region
METHODS = {"hmip": "HMIP method", "custom_strata": "Custom strata"}
CUSTOM_RULE = (
    "Custom strata: cases active at any time in the window (start on or before its end, end "
    "on or after its start); strata sentence type x RoSH level x gender; largest-remainder "
    "allocation; no officer cap."
)
HMIP_WINDOW_RULE = "Cases whose sentence or licence started in the window. "


class SampleError(ValueError):
    """A sample cannot be drawn or saved as asked; the message is fit to show as is."""


class SampleWindowError(SampleError):
    """The window ends before it starts."""


def _active(window_start: date, window_end: date) -> list:
    # A case is active in the window when its supervision overlaps it by at least a day.
    return [person.c.start_date <= window_end, person.c.end_date >= window_start]


def check_window(window_start: date, window_end: date) -> None:
    """Raise SampleWindowError when the window ends before it starts."""
    if window_end < window_start:
        raise SampleWindowError(
            "The window ends before it starts: choose an end on or after the start.")


def scope_office_ids(conn: Connection, office_id: int | None, area_id: int | None) -> OfficeIds:
    """The offices a sample scope covers: (office_id,), the area's offices, or None for
    the whole region."""
    if office_id is not None:
        return (int(office_id),)
    if area_id is not None:
        ids = conn.execute(
            select(office.c.id).where(office.c.area_id == area_id).order_by(office.c.id)
        ).scalars()
        return tuple(int(i) for i in ids)
    return None


def sample_scope(
    offices: pd.DataFrame, office_code: str | None, area_code: str | None
) -> tuple[int | None, int | None, OfficeIds]:
    """(office_id, area_id, office ids covered) of the office or area chosen by code, from
    the reference.offices() frame already loaded (office_code, office_id, area_code,
    area_id columns); (None, None, None) for the whole region."""
    if office_code:
        office_id = int(offices.loc[offices["office_code"] == office_code, "office_id"].iloc[0])
        return office_id, None, (office_id,)
    if area_code:
        mine = offices[offices["area_code"] == area_code]
        return None, int(mine["area_id"].iloc[0]), tuple(sorted(int(i) for i in mine["office_id"]))
    return None, None, None


def _in_window_and_offices(stmt, window: list, office_ids: OfficeIds, scope: Scope):
    # a case belongs to a sample by its office, inside the user's scope
    stmt = stmt.where(*window, scope.office_clause(person.c.office_id))
    return stmt if office_ids is None else stmt.where(person.c.office_id.in_(office_ids))


def eligible_cases(conn: Connection, window_start: date, window_end: date,
                   office_ids: OfficeIds, scope: Scope) -> pd.DataFrame:
    """Cases active at any time in the window (start_date <= window_end and end_date >=
    window_start) in the offices (None: all), limited to the user's scope.

    One row per case. Columns: person_id, office_id, sentence_type, rosh_level, gender.
    """
    check_window(window_start, window_end)
    stmt = select(person.c.id.label("person_id"), person.c.office_id,
                  *(person.c[c] for c in STRATA)).order_by(person.c.id)
    stmt = _in_window_and_offices(stmt, _active(window_start, window_end), office_ids, scope)
    return read_frame(stmt, conn)


def hmip_long_list(conn: Connection, window_start: date, window_end: date,
                   office_ids: OfficeIds, scope: Scope) -> pd.DataFrame:
    """The long list for HMIP's method: cases whose sentence or licence started in the
    window (start_date from window_start to window_end), in the offices (None: all),
    limited to the user's scope; ordered by start date then CRN (the list order is HMIP's
    tie-break order).

    One row per case. Columns: person_id, crn, sentence_type, rosh_level, gender,
    start_date, cluster (area name), office (office name), officer (staff reference, or
    'Unallocated'), sentence_group and rosh_low (for ``hmip_sampling``).
    """
    check_window(window_start, window_end)
    stmt = (
        select(
            person.c.id.label("person_id"),
            person.c.crn,
            *(person.c[c] for c in STRATA),
            person.c.start_date,
            area.c.name.label("cluster"),
            office.c.name.label("office"),
            func.coalesce(staff_member.c.staff_ref, literal("Unallocated")).label("officer"),
        )
        .select_from(
            person.join(office, office.c.id == person.c.office_id)
            .join(area, area.c.id == office.c.area_id)
            .outerjoin(staff_member, staff_member.c.id == person.c.officer_id)
        )
        .order_by(person.c.start_date, person.c.crn)
    )
    started = [person.c.start_date >= window_start, person.c.start_date <= window_end]
    df = read_frame(_in_window_and_offices(stmt, started, office_ids, scope), conn)
    df["start_date"] = pd.to_datetime(df["start_date"]).dt.date
    df["sentence_group"] = df["sentence_type"].map(hmip_sampling.SENTENCE_GROUPS)
    df["rosh_low"] = df["rosh_level"].map(hmip_sampling.ROSH_LOW).astype(bool)
    return df


def hmip_population(conn: Connection, window_start: date, window_end: date,
                    office_ids: OfficeIds, scope: Scope, as_of: date
                    ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The cases of the long list (``hmip_long_list``) HMIP's method may draw from on
    `as_of`, with their stratum, and how many it leaves out by reason
    (``hmip_sampling.prepare``). Deterministic in its arguments: the page keeps it in the
    query cache and draws from it for each seed (``hmip_sampling.draw_prepared``); a
    country's long list takes a second to read and prepare."""
    return hmip_sampling.prepare(
        hmip_long_list(conn, window_start, window_end, office_ids, scope), as_of)


def person_ids_for_crns(conn: Connection, crns: tuple[str, ...], scope: Scope) -> dict[str, int]:
    """{crn: person_id} for the CRNs held in the database that the user may see (the
    others are left out), so a long list's cases can be matched to ours."""
    out: dict[str, int] = {}
    wanted = sorted(set(crns))
    for i in range(0, len(wanted), 500):  # bounded IN lists
        stmt = select(person.c.crn, person.c.id).where(
            person.c.crn.in_(wanted[i : i + 500]), scope.office_clause(person.c.office_id)
        )
        out.update({str(c): int(p) for c, p in conn.execute(stmt)})
    return out


def long_list_in_window(conn: Connection, long_list: pd.DataFrame, window_start: date,
                        window_end: date, scope: Scope) -> pd.DataFrame:
    """The rows of a long-list file (``longlist.read_long_list``) whose start_date lies in
    the window, renumbered from 0, with person_id: the case held here under that CRN and
    visible to the user (NaN where none is)."""
    in_window = long_list[
        (long_list["start_date"] >= window_start) & (long_list["start_date"] <= window_end)
    ].reset_index(drop=True)
    known = person_ids_for_crns(conn, tuple(in_window["crn"]), scope)
    return in_window.assign(person_id=in_window["crn"].map(known))


def with_stratum_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """frame with HMIP's stratum codes replaced by their labels (the text stored with each
    member, e.g. 'Male, community, RoSH low')."""
    return frame.assign(stratum=frame["stratum"].map(hmip_sampling.STRATUM_LABELS))


def draw_from_database(
    conn: Connection,
    *,
    method: str,
    window_start: date,
    window_end: date,
    office_ids: OfficeIds,
    scope: Scope,
    confidence: float,
    margin: float,
    seed: int,
    reference_day: date,
    buffer_pct: float | None = None,
) -> tuple[pd.DataFrame, int]:
    """Draw a sample from the database's cases by method; (members, eligible cases).

    members: person_id and stratum (the label stored with each member), in draw order.
    The sample size is ``ratings.sample_size(confidence, margin, eligible)``; HMIP's
    method adds buffer_pct and judges "not yet started" against reference_day.
    """
    from dashboard.hmip import ratings, sampling

    if method == "hmip":
        cases = hmip_long_list(conn, window_start, window_end, office_ids, scope)
        eligible = len(hmip_sampling.prepare(cases, reference_day)[0])
    else:
        cases = eligible_cases(conn, window_start, window_end, office_ids, scope)
        eligible = len(cases)
    if not eligible:
        return pd.DataFrame(columns=["person_id", "stratum"]), 0
    n = ratings.sample_size(confidence, margin, population=eligible)
    if method == "hmip":
        drawn = with_stratum_labels(
            hmip_sampling.draw(cases, n, seed, reference_day, buffer_pct or 0.0).sample)
    else:
        drawn = sampling.draw_sample(cases, n, seed)
    return drawn[["person_id", "stratum"]], eligible


def population_strata(
    conn: Connection, window_start: date, window_end: date, office_ids: OfficeIds
) -> pd.DataFrame:
    """Cases active in the window per stratum (counts only, no people).

    Columns: sentence_type, rosh_level, gender, population (cases).
    """
    check_window(window_start, window_end)
    groups = [person.c[c] for c in STRATA]
    stmt = (
        select(*groups, func.count(person.c.id).label("population"))
        .where(*_active(window_start, window_end))
        .group_by(*groups)
        .order_by(*groups)
    )
    if office_ids is not None:
        stmt = stmt.where(person.c.office_id.in_(office_ids))
    return read_frame(stmt, conn)


def auditors(conn: Connection) -> pd.DataFrame:
    """Enabled accounts with the auditor role. Columns: username, display_name."""
    stmt = (
        select(app_user.c.username, app_user.c.display_name)
        .where(app_user.c.role == "auditor", app_user.c.disabled.is_(False))
        .order_by(app_user.c.username)
    )
    return read_frame(stmt, conn)


def samples(conn: Connection, sample_id: int | None = None) -> pd.DataFrame:
    """Saved samples, newest first (no person-level data); only sample_id's if given.

    Columns: sample_id, name, scope (office or area name, or "Region"), office_id,
    area_id, window_start, window_end, confidence and margin (proportions 0..1),
    sample_size, seed, created_by, created_at, method ('hmip' / 'custom_strata'),
    buffer_pct (HMIP buffer %, None for custom strata), eligibility_rule (text), source
    (long-list file name, None for the database), scheme, members (cases), audits_draft,
    audits_complete, audits_answered (audits with at least one answer saved).
    """
    members = (
        select(case_sample_member.c.sample_id, func.count().label("members"))
        .group_by(case_sample_member.c.sample_id)
        .subquery()
    )
    answered = select(audit_answer.c.audit_id).distinct().subquery()
    audits = (
        select(
            case_audit.c.sample_id,
            func.min(case_audit.c.scheme).label("scheme"),
            func.count(case_audit.c.id).label("audits"),
            func.count(case_audit.c.id)
            .filter(case_audit.c.status == "complete")
            .label("audits_complete"),
            func.count(answered.c.audit_id).label("audits_answered"),
        )
        .select_from(case_audit.outerjoin(answered, answered.c.audit_id == case_audit.c.id))
        .where(case_audit.c.sample_id.is_not(None))
        .group_by(case_audit.c.sample_id)
        .subquery()
    )
    scope_name = func.coalesce(office.c.name, area.c.name, literal("Region"))
    stmt = (
        select(
            case_sample.c.id.label("sample_id"),
            case_sample.c.name,
            scope_name.label("scope"),
            case_sample.c.office_id,
            case_sample.c.area_id,
            case_sample.c.window_start,
            case_sample.c.window_end,
            case_sample.c.confidence,
            case_sample.c.margin,
            case_sample.c.sample_size,
            case_sample.c.seed,
            case_sample.c.created_by,
            case_sample.c.created_at,
            case_sample.c.method,
            case_sample.c.buffer_pct,
            case_sample.c.eligibility_rule,
            case_sample.c.source,
            audits.c.scheme,
            func.coalesce(members.c.members, 0).label("members"),
            (func.coalesce(audits.c.audits, 0) - func.coalesce(audits.c.audits_complete, 0)).label(
                "audits_draft"
            ),
            func.coalesce(audits.c.audits_complete, 0).label("audits_complete"),
            func.coalesce(audits.c.audits_answered, 0).label("audits_answered"),
        )
        .select_from(
            case_sample.outerjoin(office, office.c.id == case_sample.c.office_id)
            .outerjoin(area, area.c.id == case_sample.c.area_id)
            .outerjoin(members, members.c.sample_id == case_sample.c.id)
            .outerjoin(audits, audits.c.sample_id == case_sample.c.id)
        )
        .order_by(case_sample.c.created_at.desc(), case_sample.c.id.desc())
    )
    if sample_id is not None:
        stmt = stmt.where(case_sample.c.id == sample_id)
    df = read_frame(stmt, conn)
    for col in ("window_start", "window_end"):
        df[col] = pd.to_datetime(df[col]).dt.date
    for col in ("office_id", "area_id"):  # None, not NaN, for "no office" / "no area"
        df[col] = pd.Series(
            [None if pd.isna(v) else int(v) for v in df[col]], dtype=object, index=df.index
        )
    return df


def sample_members(conn: Connection, sample_id: int, scope: Scope) -> pd.DataFrame:
    """The cases of one sample the user may see, with their audit.

    Columns: person_id, crn, office, sentence_type, rosh_level, gender, stratum,
    audit_id, auditor, status ('draft' / 'complete'; None if no audit), answers (saved).
    """
    answers = (
        select(audit_answer.c.audit_id, func.count().label("answers"))
        .group_by(audit_answer.c.audit_id)
        .subquery()
    )
    stmt = (
        select(
            person.c.id.label("person_id"),
            person.c.crn,
            office.c.name.label("office"),
            *(person.c[c] for c in STRATA),
            case_sample_member.c.stratum,
            case_audit.c.id.label("audit_id"),
            case_audit.c.auditor,
            case_audit.c.status,
            func.coalesce(answers.c.answers, 0).label("answers"),
        )
        .select_from(
            case_sample_member.join(person, person.c.id == case_sample_member.c.person_id)
            .join(office, office.c.id == person.c.office_id)
            .outerjoin(
                case_audit,
                and_(
                    case_audit.c.sample_id == case_sample_member.c.sample_id,
                    case_audit.c.person_id == person.c.id,
                ),
            )
            .outerjoin(answers, answers.c.audit_id == case_audit.c.id)
        )
        .where(
            case_sample_member.c.sample_id == sample_id,
            scope.person_clause(person.c.id, person.c.office_id),
        )
        .order_by(case_sample_member.c.stratum, person.c.crn)
    )
    return read_frame(stmt, conn)


def sample_strata(conn: Connection, sample_id: int) -> pd.DataFrame:
    """Members of a sample per stratum, with how many audits are complete (counts only).

    Columns: sentence_type, rosh_level, gender, sample (cases), audited (complete audits).
    """
    groups = [person.c[c] for c in STRATA]
    stmt = (
        select(
            *groups,
            func.count(func.distinct(person.c.id)).label("sample"),
            func.count(func.distinct(case_audit.c.id))
            .filter(case_audit.c.status == "complete")
            .label("audited"),
        )
        .select_from(
            case_sample_member.join(
                person, person.c.id == case_sample_member.c.person_id
            ).outerjoin(
                case_audit,
                and_(
                    case_audit.c.sample_id == case_sample_member.c.sample_id,
                    case_audit.c.person_id == person.c.id,
                ),
            )
        )
        .where(case_sample_member.c.sample_id == sample_id)
        .group_by(*groups)
        .order_by(*groups)
    )
    return read_frame(stmt, conn)


def answers_in_sample(conn: Connection, sample_id: int) -> int:
    """How many audit answers are saved for the sample's audits (0: safe to re-draw)."""
    stmt = (
        select(func.count(audit_answer.c.id))
        .join(case_audit, case_audit.c.id == audit_answer.c.audit_id)
        .where(case_audit.c.sample_id == sample_id)
    )
    return int(conn.execute(stmt).scalar_one())


def sample_auditors(conn: Connection, sample_id: int) -> list[str]:
    """The usernames the sample's audits are assigned to, sorted (empty: no audits)."""
    stmt = select(case_audit.c.auditor).distinct().where(case_audit.c.sample_id == sample_id)
    return sorted(str(a) for a in conn.execute(stmt).scalars())
