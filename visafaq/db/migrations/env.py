"""Alembic environment: uses the engine handed over by visafaq.db.migrate (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from visafaq.db.base import Base
from visafaq.db.engine import make_engine
from visafaq.knowledge import schema  # noqa: F401 - registers the knowledge tables

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    engine = make_engine()  # the `alembic` command line: VISAFAQ_DATABASE_URL

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
