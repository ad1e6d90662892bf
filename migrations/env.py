"""Alembic environment: uses the engine handed over by dashboard.data.db, or DATABASE_URL."""

from __future__ import annotations

from alembic import context

import dashboard.data.summary_schema  # noqa: F401  (registers the summary tables on metadata)
from dashboard.data.schema import metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from dashboard.data.db import make_engine

        engine = make_engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
