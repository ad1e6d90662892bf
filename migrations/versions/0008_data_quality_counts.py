"""stored data-quality counts: cross-table checks per office and month, large tables' sizes
(issue 16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 21:00:00

Derived data, like the stored statistics of 0007: dashboard.precompute.data_checks fills
them when the summaries of the tables they count are refreshed, and the data quality page
reads them. Until they are filled (stat_state has no 'data_quality' row) the page counts the
raw rows at view time, so upgrading changes no figure; fill them with
``python -m dashboard.precompute``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_check_month",
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("check_key", sa.String(length=40), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", "month", "check_key",
                                name=op.f("pk_dq_check_month")),
    )
    op.create_index("ix_dq_check_month_month_office", "dq_check_month",
                    ["month", "office_id"], unique=False)
    op.create_table(
        "dq_table_size",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("latest_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_dq_table_size")),
    )


def downgrade() -> None:
    op.drop_table("dq_table_size")
    op.drop_index("ix_dq_check_month_month_office", table_name="dq_check_month")
    op.drop_table("dq_check_month")
