"""allocation history: teams, staff teams and case_allocation (issue 12)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00

Every event is counted where its case was allocated on the event's date. An existing
database has one office and officer per person (person_on_probation.office_id and
officer_id), so each person gets one open allocation from those columns. It starts on the
earlier of the person's start date and their earliest dated event, so every event keeps
the office it is counted under today: no figure changes. The summaries need no refresh.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# the dated events a figure attributes by its date (dashboard.data.allocations)
EVENT_DATES = (
    ("appointment", "person_id", "appointment_date"),
    ("upw_order", "person_id", "sentence_date"),
    ("upw_order", "person_id", "completed_date"),
    ("custody_release", "person_id", "release_date"),
    ("case_audit", "person_id", "audit_date"),
)
BACKFILL = """
INSERT INTO case_allocation (person_id, office_id, team_id, officer_id, start_date, end_date)
SELECT p.id, p.office_id, NULL, p.officer_id,
       CASE WHEN e.first_day IS NOT NULL AND e.first_day < p.start_date
            THEN e.first_day ELSE p.start_date END,
       NULL
FROM person_on_probation p
LEFT JOIN (
    SELECT person_id, MIN(day) AS first_day FROM (
        {events}
        UNION ALL
        SELECT o.person_id, s.session_date FROM upw_session s
        JOIN upw_order o ON o.id = s.order_id
    ) dated GROUP BY person_id
) e ON e.person_id = p.id
"""


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"],
                                name=op.f("fk_team_office_id_office")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("code", name=op.f("uq_team_code")),
    )
    op.create_index("ix_team_office_id", "team", ["office_id"], unique=False)
    # plain ADD COLUMN (no table rebuild on SQLite, as in 0002): a nullable reference;
    # SQLite takes the reference inline only, alembic cannot add it as a constraint there
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE staff_member ADD COLUMN team_id INTEGER REFERENCES team (id)")
    else:
        op.add_column("staff_member", sa.Column(
            "team_id", sa.Integer(),
            sa.ForeignKey("team.id", name=op.f("fk_staff_member_team_id_team")),
            nullable=True))
    op.create_index("ix_staff_member_team_id", "staff_member", ["team_id"], unique=False)
    op.create_table(
        "case_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date",
                           name=op.f("ck_case_allocation_dates")),
        sa.ForeignKeyConstraint(["person_id"], ["person_on_probation.id"],
                                name=op.f("fk_case_allocation_person_id_person_on_probation")),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"],
                                name=op.f("fk_case_allocation_office_id_office")),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"],
                                name=op.f("fk_case_allocation_team_id_team")),
        sa.ForeignKeyConstraint(["officer_id"], ["staff_member.id"],
                                name=op.f("fk_case_allocation_officer_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_allocation")),
        sa.UniqueConstraint("person_id", "start_date", name="uq_case_allocation_person_start"),
    )
    op.create_index("ix_case_allocation_office_id", "case_allocation", ["office_id"])
    op.create_index("ix_case_allocation_team_id", "case_allocation", ["team_id"])
    op.create_index("ix_case_allocation_officer_id", "case_allocation", ["officer_id"])
    events = "\n        UNION ALL\n        ".join(
        f"SELECT {who} AS person_id, {day} AS day FROM {table} WHERE {day} IS NOT NULL"
        for table, who, day in EVENT_DATES)
    op.execute(BACKFILL.format(events=events))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE case_allocation")


def downgrade() -> None:
    op.drop_index("ix_case_allocation_officer_id", table_name="case_allocation")
    op.drop_index("ix_case_allocation_team_id", table_name="case_allocation")
    op.drop_index("ix_case_allocation_office_id", table_name="case_allocation")
    op.drop_table("case_allocation")
    op.drop_index("ix_staff_member_team_id", table_name="staff_member")
    with op.batch_alter_table("staff_member") as batch_op:
        batch_op.drop_column("team_id")
    op.drop_index("ix_team_office_id", table_name="team")
    op.drop_table("team")
