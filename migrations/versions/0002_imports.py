"""imports: natural-key reference columns and the import_run history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> the source system's reference column (nullable, unique when present)
REF_COLUMNS = {
    "staff_absence": "absence_ref",
    "appointment": "source_ref",
    "upw_order": "order_ref",
    "upw_session": "session_ref",
    "custody_release": "release_ref",
    "case_audit": "audit_ref",
}


def upgrade() -> None:
    for table, column in REF_COLUMNS.items():
        # plain ADD COLUMN + unique index: no table rebuild, so SQLite's foreign keys from
        # child tables (upw_session -> upw_order, audit_answer -> case_audit) stay valid
        op.add_column(table, sa.Column(column, sa.String(length=32), nullable=True))
        op.create_index(f"ux_{table}_{column}", table, [column], unique=True)

    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("max_date", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'partial', 'rejected', 'failed')",
            name=op.f("ck_import_run_status"),
        ),
        sa.CheckConstraint(
            "mode IN ('all_or_nothing', 'keep_valid')", name=op.f("ck_import_run_mode")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_run_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_run_table_name"), ["table_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_run_table_name"))
        batch_op.drop_index(batch_op.f("ix_import_run_started_at"))
    op.drop_table("import_run")

    for table, column in reversed(list(REF_COLUMNS.items())):
        op.drop_index(f"ux_{table}_{column}", table_name=table)
        # SQLite (3.35+) drops a column that no index or constraint uses without a rebuild
        op.drop_column(table, column)
