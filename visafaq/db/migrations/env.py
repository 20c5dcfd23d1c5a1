"""Alembic environment: uses the engine handed over by visafaq.db.migrate (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from visafaq.db.base import Base
from visafaq.db.engine import make_engine
from visafaq.knowledge import schema as knowledge_schema  # noqa: F401 - registers tables
from visafaq.triage import schema as triage_schema  # noqa: F401 - registers tables


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    """FTS5's shadow tables are made by the migration's raw SQL, not by our models."""
    return not (type_ == "table" and name is not None and name.startswith("kb_fact_search"))


config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    engine = make_engine()  # the `alembic` command line: VISAFAQ_DATABASE_URL

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()
