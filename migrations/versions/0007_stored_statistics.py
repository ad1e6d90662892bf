"""stored statistics: monthly counts, funnel and control-chart figures per window (issue 16)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00

Derived data, like the summaries of 0003: dashboard.precompute.statistics fills them when the
summaries are refreshed (demo generation, import, audit save) and the compare and overview
pages read them. Until they are filled the pages compute the same figures at view time, so
upgrading changes no figure; fill them with ``python -m dashboard.precompute`` (or regenerate
the demo data). A row of stat_pending with a NULL month marks everything out of date.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LIMITS = ("low_95", "high_95", "low_998", "high_998")


def _amount(name):
    return sa.Column(name, sa.Float(), nullable=False)


def _window(with_start=True):
    start = [sa.Column("window_start", sa.Date(), nullable=False)] if with_start else []
    return [*start, sa.Column("window_end", sa.Date(), nullable=False),
            sa.Column("measure", sa.String(length=40), nullable=False)]


def _pk(name, *columns):
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{name}"))


def upgrade() -> None:
    op.create_table(
        "stat_measure_month",
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        _amount("numerator"), _amount("denominator"),
        _pk("stat_measure_month", "office_id", "month", "measure"),
    )
    op.create_index("ix_stat_measure_month_month_office", "stat_measure_month",
                    ["month", "office_id"], unique=False)
    op.create_table(
        "stat_funnel_benchmark", *_window(),
        sa.Column("theta", sa.Float(), nullable=True), sa.Column("phi", sa.Float(), nullable=True),
        _pk("stat_funnel_benchmark", "window_start", "window_end", "measure"),
    )
    op.create_table(
        "stat_funnel_office", *_window(),
        sa.Column("adjusted", sa.Boolean(), nullable=False),
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        _amount("numerator"), _amount("denominator"), _amount("rate"),
        *[sa.Column(c, sa.Float(), nullable=True) for c in LIMITS],
        sa.Column("position", sa.String(length=24), nullable=False),
        sa.Column("signal", sa.String(length=16), nullable=False),
        _pk("stat_funnel_office", "window_start", "window_end", "measure", "adjusted",
            "office_id"),
    )
    op.create_table(
        "stat_funnel_curve", *_window(),
        sa.Column("adjusted", sa.Boolean(), nullable=False),
        sa.Column("denominator", sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(c, sa.Float(), nullable=True) for c in LIMITS],
        _pk("stat_funnel_curve", "window_start", "window_end", "measure", "adjusted",
            "denominator"),
    )
    op.create_table(
        "stat_control_chart", *_window(with_start=False),
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *[_amount(c) for c in ("numerator", "denominator", "rate", "centre", "sigma", "lcl",
                               "ucl")],
        sa.Column("flag", sa.String(length=200), nullable=False),
        _pk("stat_control_chart", "window_end", "measure", "office_id", "month"),
    )
    op.create_index("ix_stat_control_chart_office", "stat_control_chart",
                    ["window_end", "office_id"], unique=False)
    op.create_table(
        "stat_control_flag", *_window(with_start=False),
        sa.Column("office_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        _amount("rate"), _amount("centre"), sa.Column("z", sa.Float(), nullable=True),
        sa.Column("run_length", sa.Integer(), nullable=False),
        sa.Column("run_start", sa.String(length=7), nullable=False),
        _pk("stat_control_flag", "window_end", "measure", "office_id", "month", "rule"),
    )
    op.create_table(
        "stat_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=True),
        _pk("stat_pending", "id"),
    )
    op.create_table(
        "stat_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        _pk("stat_state", "name"),
    )
    # an existing database has no statistics yet: everything is pending
    op.execute("INSERT INTO stat_pending (month) VALUES (NULL)")


def downgrade() -> None:
    op.drop_table("stat_state")
    op.drop_table("stat_pending")
    op.drop_table("stat_control_flag")
    op.drop_index("ix_stat_control_chart_office", table_name="stat_control_chart")
    op.drop_table("stat_control_chart")
    op.drop_table("stat_funnel_curve")
    op.drop_table("stat_funnel_office")
    op.drop_table("stat_funnel_benchmark")
    op.drop_index("ix_stat_measure_month_month_office", table_name="stat_measure_month")
    op.drop_table("stat_measure_month")
