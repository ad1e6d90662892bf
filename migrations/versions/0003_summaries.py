"""monthly summary tables read by the page queries (issue 7: national scale)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00

Derived data: dashboard.data.summaries refreshes them from the raw rows (refresh_all at the end
of demo generation, refresh_months after an import). Until they are filled the queries
read the raw rows, so upgrading an existing database changes no figure; fill them with
``python -m dashboard.data.summaries`` (or regenerate the demo data).
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _office_month(name, *columns, extra_keys=()):
    """A summary keyed by office, month (first day) and extra_keys, indexed by month."""
    op.create_table(
        name,
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *extra_keys,
        *columns,
        sa.PrimaryKeyConstraint("office_id", "month", *[c.name for c in extra_keys],
                                name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{name}_month_office", name, ["month", "office_id"], unique=False)


def _count(name):
    return sa.Column(name, sa.Integer(), nullable=False)


def _amount(name):
    return sa.Column(name, sa.Float(), nullable=False)


def upgrade() -> None:
    _office_month(
        "summary_staffing",
        _amount("establishment_fte"), _amount("in_post_fte"), _amount("vacancy_fte"), _count("staff_in_post"),
        extra_keys=(sa.Column("grade", sa.String(length=8), nullable=False),),
    )
    _office_month(
        "summary_caseload",
        _count("open_cases_change"), _amount("workload_points_change"), _count("open_cases"), _amount("workload_points"),
    )
    _office_month(
        "summary_upw_outstanding",
        _count("live_orders_change"), _amount("hours_outstanding_change"), _count("live_orders"), _amount("hours_outstanding"),
    )
    _office_month(
        "summary_absence",
        _count("episodes"), _amount("working_days_lost"),
    )
    _office_month(
        "summary_audit",
        _count("audits"),
    )
    _office_month(
        "summary_audit_answer",
        _count("answers"), _count("applicable"), _count("sufficient"),
        extra_keys=(sa.Column("scheme", sa.String(length=32), nullable=False),
                    sa.Column("standard", sa.String(length=8), nullable=False),
                    sa.Column("key_question", sa.String(length=16), nullable=False),),
    )
    _office_month(
        "summary_upw_session",
        _count("sessions"), _count("sessions_attended"), _amount("hours_worked"),
    )
    _office_month(
        "summary_upw_order",
        _count("orders"), _count("hours_ordered"),
    )
    _office_month(
        "summary_upw_completed",
        _count("orders_completed"),
    )
    _office_month(
        "summary_upw_due",
        _count("due_12_months"), _count("completed_in_12_months"),
    )
    _office_month(
        "summary_upw_start",
        _count("orders_due_to_start"), _count("started_in_7_days"),
        extra_keys=(sa.Column("in_last_10_days", sa.Boolean(), nullable=False),),
    )
    _office_month(
        "summary_release",
        _count("releases"), _count("screened_in_5_days"), _count("plan_before_release"), _count("custody_12_weeks"), _count("contact_12_weeks"), _count("accommodation_known"), _count("settled"), _count("temporary"), _count("no_fixed_abode"), _count("first_appointment_due"), _count("first_appointment_kept"),
    )
    _office_month(
        "summary_appointment",
        _count("appointments"), _count("kept"), _count("acceptable_absence"), _count("failed"), _count("enforcement_actions"),
    )
    op.create_table(
        "summary_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_summary_state")),
    )


def downgrade() -> None:
    op.drop_table("summary_state")
    op.drop_index("ix_summary_appointment_month_office", table_name="summary_appointment")
    op.drop_table("summary_appointment")
    op.drop_index("ix_summary_release_month_office", table_name="summary_release")
    op.drop_table("summary_release")
    op.drop_index("ix_summary_upw_start_month_office", table_name="summary_upw_start")
    op.drop_table("summary_upw_start")
    op.drop_index("ix_summary_upw_due_month_office", table_name="summary_upw_due")
    op.drop_table("summary_upw_due")
    op.drop_index("ix_summary_upw_completed_month_office", table_name="summary_upw_completed")
    op.drop_table("summary_upw_completed")
    op.drop_index("ix_summary_upw_order_month_office", table_name="summary_upw_order")
    op.drop_table("summary_upw_order")
    op.drop_index("ix_summary_upw_session_month_office", table_name="summary_upw_session")
    op.drop_table("summary_upw_session")
    op.drop_index("ix_summary_audit_answer_month_office", table_name="summary_audit_answer")
    op.drop_table("summary_audit_answer")
    op.drop_index("ix_summary_audit_month_office", table_name="summary_audit")
    op.drop_table("summary_audit")
    op.drop_index("ix_summary_absence_month_office", table_name="summary_absence")
    op.drop_table("summary_absence")
    op.drop_index("ix_summary_upw_outstanding_month_office", table_name="summary_upw_outstanding")
    op.drop_table("summary_upw_outstanding")
    op.drop_index("ix_summary_caseload_month_office", table_name="summary_caseload")
    op.drop_table("summary_caseload")
    op.drop_index("ix_summary_staffing_month_office", table_name="summary_staffing")
    op.drop_table("summary_staffing")
