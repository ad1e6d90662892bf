"""case samples record how they were drawn: method, buffer and eligibility rule

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:50:00

Samples saved before this migration were drawn by the flexible stratified draw, so they
are marked "custom_strata" (the server default fills them in). New samples default to
HMIP's method ("hmip"), chosen in the page.
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: no table rebuild, so SQLite's foreign keys into case_sample
    # (case_sample_member, case_audit) stay valid
    op.add_column(
        "case_sample",
        sa.Column("method", sa.String(length=24), nullable=False, server_default="custom_strata"),
    )
    op.add_column("case_sample", sa.Column("buffer_pct", sa.Float(), nullable=True))
    op.add_column("case_sample", sa.Column("eligibility_rule", sa.Text(), nullable=True))
    op.add_column("case_sample", sa.Column("source", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_sample") as batch:
        batch.drop_column("source")
        batch.drop_column("eligibility_rule")
        batch.drop_column("buffer_pct")
        batch.drop_column("method")
