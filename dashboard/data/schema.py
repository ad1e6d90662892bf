"""The database schema: one MetaData for every table the dashboard reads or writes.

Shaped on how case management and HR systems hold probation data. Alembic migrations in
``migrations/`` create these tables; ``tests/test_migrations.py`` checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

GRADES = ("PO", "PSO", "SPO", "TRAINEE")
SENTENCE_TYPES = ("community_order", "suspended_sentence_order", "licence")
ROSH_LEVELS = ("low", "medium", "high", "very_high")
GENDERS = ("male", "female")
TIERS = ("A", "B", "C", "D")
ROUTEWAYS = ("Outlook", "Home", "Money", "Habit", "Future", "Support", "Health")
APPOINTMENT_OUTCOMES = ("kept", "acceptable_absence", "failed")
ACCOMMODATION = ("settled", "temporary", "no_fixed_abode")
ANSWERS = ("sufficient", "not_sufficient", "not_applicable")
ROLES = ("chief_executive", "area_manager", "quality_lead", "auditor", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


area = Table(
    "area",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(80), nullable=False, unique=True),
)

office = Table(
    "office",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("area_id", ForeignKey("area.id"), nullable=False, index=True),
)

staff_member = Table(
    "staff_member",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_ref", String(16), nullable=False, unique=True),
    Column("office_id", ForeignKey("office.id"), nullable=False, index=True),
    Column("grade", String(8), nullable=False),
    Column("fte", Float, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    CheckConstraint(_in("grade", GRADES), name="grade"),
    CheckConstraint("fte > 0 AND fte <= 1", name="fte"),
)

staff_absence = Table(
    "staff_absence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_member_id", ForeignKey("staff_member.id"), nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("working_days_lost", Float, nullable=False),
    Column("reason", String(32), nullable=False),
    CheckConstraint("end_date >= start_date", name="dates"),
)

establishment = Table(
    "establishment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", ForeignKey("office.id"), nullable=False),
    Column("grade", String(8), nullable=False),
    Column("month", Date, nullable=False),  # first day of the month
    Column("budgeted_fte", Float, nullable=False),
    UniqueConstraint("office_id", "grade", "month", name="uq_establishment_office_grade_month"),
    CheckConstraint(_in("grade", GRADES), name="grade"),
)

person = Table(
    "person_on_probation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("crn", String(16), nullable=False, unique=True),  # case reference number
    Column("office_id", ForeignKey("office.id"), nullable=False, index=True),
    Column("officer_id", ForeignKey("staff_member.id"), index=True),
    Column("sentence_type", String(32), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("tier", String(2), nullable=False),
    Column("rosh_level", String(16), nullable=False),
    Column("gender", String(8), nullable=False),
    Column("routeway_needs", String(120), nullable=False, default=""),  # comma-separated
    CheckConstraint(_in("sentence_type", SENTENCE_TYPES), name="sentence_type"),
    CheckConstraint(_in("rosh_level", ROSH_LEVELS), name="rosh_level"),
    CheckConstraint(_in("gender", GENDERS), name="gender"),
    CheckConstraint("end_date >= start_date", name="dates"),
)
Index("ix_person_office_dates", person.c.office_id, person.c.start_date, person.c.end_date)

# --- Allocation history (issue 12, migration 0004) -------------------------------------
# Teams within an office (nDelius: team within a PDU/office), and each case's allocation
# over time: office, team and responsible officer from a date to a date (end NULL: the
# current allocation). Every event is counted where the case was allocated on the event's
# date (dashboard.data.allocations); person_on_probation.office_id and officer_id mirror the
# open allocation, so case lists and scopes read today's allocation as before.
team = Table(
    "team",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("office_id", ForeignKey("office.id"), nullable=False, index=True),
)

# The team an officer works in (NULL: not in a team, e.g. an SPO or a trainee).
staff_member.append_column(Column("team_id", ForeignKey("team.id"), index=True))

case_allocation = Table(
    "case_allocation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), nullable=False),
    Column("office_id", ForeignKey("office.id"), nullable=False, index=True),
    Column("team_id", ForeignKey("team.id"), index=True),
    Column("officer_id", ForeignKey("staff_member.id"), index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),  # inclusive; NULL while the allocation is open
    # the natural key, and (person first) the index the event-date join looks up
    UniqueConstraint("person_id", "start_date", name="uq_case_allocation_person_start"),
    CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
)

appointment = Table(
    "appointment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), nullable=False, index=True),
    Column("appointment_date", Date, nullable=False, index=True),
    Column("outcome", String(24), nullable=False),
    Column("enforcement_action", Boolean, nullable=False, default=False),
    CheckConstraint(_in("outcome", APPOINTMENT_OUTCOMES), name="outcome"),
)

upw_order = Table(
    "upw_order",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), nullable=False, index=True),
    Column("sentence_date", Date, nullable=False, index=True),
    Column("hours_ordered", Integer, nullable=False),
    Column("completed_date", Date, index=True),
    Column("terminated_date", Date),
    CheckConstraint("hours_ordered BETWEEN 40 AND 300", name="hours"),
)

upw_session = Table(
    "upw_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("upw_order.id"), nullable=False, index=True),
    Column("session_date", Date, nullable=False, index=True),
    Column("attended", Boolean, nullable=False),
    Column("hours_worked", Float, nullable=False),
    CheckConstraint("hours_worked >= 0 AND hours_worked <= 12", name="hours"),
)

custody_release = Table(
    "custody_release",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), nullable=False, index=True),
    Column("prison", String(64), nullable=False),
    Column("reception_date", Date, nullable=False),
    Column("screening_date", Date),
    Column("plan_completed_date", Date),
    Column("pre_release_contact_date", Date),
    Column("release_date", Date, nullable=False, index=True),
    Column("accommodation_on_release", String(16)),
    Column("first_appointment_kept", Boolean),
    CheckConstraint("release_date >= reception_date", name="dates"),
    CheckConstraint(
        "accommodation_on_release IS NULL OR " + _in("accommodation_on_release", ACCOMMODATION),
        name="accommodation",
    ),
)

# England and Wales working days: day_number counts working days, so the working days
# between two dates is a subtraction that runs the same on SQLite and PostgreSQL.
calendar_day = Table(
    "calendar_day",
    metadata,
    Column("day", Date, primary_key=True),
    Column("is_working_day", Boolean, nullable=False),
    Column("working_day_number", Integer, nullable=False),
)

app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("email", String(254), unique=True),
    Column("password_hash", String(255)),  # argon2id; NULL for SSO-only users
    Column("role", String(24), nullable=False),
    Column("area_id", ForeignKey("area.id")),  # area managers' scope
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(_in("role", ROLES), name="role"),
)

case_sample = Table(
    "case_sample",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("office_id", ForeignKey("office.id")),  # NULL: whole region or area
    Column("area_id", ForeignKey("area.id")),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("margin", Float, nullable=False),
    Column("sample_size", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # how it was drawn (migration 0005): "hmip" or "custom_strata", the buffer % (HMIP),
    # the eligibility rule in words, and the long-list file it came from (NULL: database)
    Column("method", String(24), nullable=False, server_default="custom_strata"),
    Column("buffer_pct", Float),
    Column("eligibility_rule", Text),
    Column("source", String(255)),
)

case_sample_member = Table(
    "case_sample_member",
    metadata,
    Column("sample_id", ForeignKey("case_sample.id"), primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), primary_key=True),
    Column("stratum", String(120), nullable=False),
)

case_audit = Table(
    "case_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("person_on_probation.id"), nullable=False, index=True),
    Column("sample_id", ForeignKey("case_sample.id")),
    Column("auditor", String(64), nullable=False),
    Column("audit_date", Date, nullable=False, index=True),
    Column("status", String(12), nullable=False, default="complete"),
    Column("scheme", String(32), nullable=False),
    CheckConstraint(_in("status", ("draft", "complete")), name="status"),
)

audit_answer = Table(
    "audit_answer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("audit_id", ForeignKey("case_audit.id"), nullable=False, index=True),
    Column("standard", String(8), nullable=False),
    Column("key_question", String(16), nullable=False),
    Column("answer", String(16), nullable=False),
    Column("reason", Text),
    UniqueConstraint("audit_id", "key_question", name="uq_audit_answer_audit_question"),
    CheckConstraint(_in("answer", ANSWERS), name="answer"),
)

target = Table(
    "target",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("measure", String(48), nullable=False),
    Column("office_id", ForeignKey("office.id")),  # NULL: the default for every office
    Column("green_from", Float, nullable=False),
    Column("amber_from", Float, nullable=False),
    Column("higher_is_better", Boolean, nullable=False),
    UniqueConstraint("measure", "office_id", name="uq_target_measure_office"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64), nullable=False, index=True),
    Column("action", String(48), nullable=False, index=True),
    Column("target", String(255)),
    Column("filters", Text),
    Column("detail", Text),
)

# Key-value facts about the loaded data: data_as_of, demo mode, generator seed.
dataset_info = Table(
    "dataset_info",
    metadata,
    Column("key", String(48), primary_key=True),
    Column("value", String(255), nullable=False),
)

# Domain 1 (and other evidence-based) standards: a recorded judgement, not a case sample.
standard_judgement = Table(
    "standard_judgement",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scheme", String(32), nullable=False),
    Column("standard", String(8), nullable=False),
    Column("area_id", ForeignKey("area.id")),  # NULL: the whole region
    Column("rating", String(32), nullable=False),
    Column("notes", Text, nullable=False),
    Column("evidence_link", String(500)),
    Column("judged_by", String(64), nullable=False),
    Column("judged_at", DateTime(timezone=True), nullable=False),
)

# --- Imports of case-management extracts (issue 5, migration 0002) ---------------------
# Extracts name rows by natural keys, not our integer ids. Child rows that have no natural
# key of their own get the source system's reference: nullable (demo rows have none), and
# unique when present (NULLs never collide on SQLite or PostgreSQL). A unique index, not a
# constraint, so SQLite can add it without rebuilding tables that others reference.
IMPORT_STATUSES = ("running", "succeeded", "partial", "rejected", "failed")
NATURAL_REF_COLUMNS = {
    "staff_absence": "absence_ref",
    "appointment": "source_ref",
    "upw_order": "order_ref",
    "upw_session": "session_ref",
    "custody_release": "release_ref",
    "case_audit": "audit_ref",
}
for _table_name, _column_name in NATURAL_REF_COLUMNS.items():
    _table = metadata.tables[_table_name]
    _table.append_column(Column(_column_name, String(32)))
    Index(f"ux_{_table_name}_{_column_name}", _table.c[_column_name], unique=True)

# One row per import attempt: who loaded which file (by name and SHA-256), when, and what
# happened to its rows. Rejected and failed attempts are kept too (nothing else is written).
import_run = Table(
    "import_run",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("table_name", String(32), nullable=False, index=True),
    Column("file_name", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(12), nullable=False),
    Column("mode", String(16), nullable=False),  # all_or_nothing | keep_valid
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("max_date", Date),  # latest date in the loaded rows
    Column("message", Text),
    CheckConstraint(_in("status", IMPORT_STATUSES), name="status"),
    CheckConstraint(_in("mode", ("all_or_nothing", "keep_valid")), name="mode"),
)

# Browser sessions of signed-in users (issue 20). The browser holds a random secret in an
# HttpOnly cookie; only its SHA-256 is stored. A row starts "pending" with a single-use
# bind code (hash) that the /_bind route exchanges for the cookie; ended_at set = signed out.
app_session = Table(
    "app_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("token_sha256", String(64), unique=True),
    Column("bind_sha256", String(64), unique=True),
    Column("bind_expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(24)),
)
