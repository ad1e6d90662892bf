"""app_session: browser sessions bound to an HttpOnly cookie (issue 20)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("bind_sha256", sa.String(length=64), nullable=True),
        sa.Column("bind_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_session")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_app_session_token_sha256")),
        sa.UniqueConstraint("bind_sha256", name=op.f("uq_app_session_bind_sha256")),
    )
    op.create_index(op.f("ix_app_session_username"), "app_session", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_app_session_username"), table_name="app_session")
    op.drop_table("app_session")
