"""The migrations build the tables the models describe, on SQLite and on PostgreSQL: a model changed
without its migration (a new knowledge section, a new column) fails here, not on a user's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

# Imported for their tables, which they register in Base.metadata.
import visafaq.knowledge.schema
import visafaq.triage.schema  # noqa: F401
from visafaq.db.base import Base
from visafaq.db.migrate import upgrade

#: Full-text search over facts exists only in the migrations, per dialect (visafaq.knowledge.schema's
#: docstring): SQLite's FTS5 table and its shadow tables, PostgreSQL's generated column and index.
SEARCH_OBJECTS = "kb_fact_search", "search_vector"


def test_models_and_migrations_agree(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    unexpected = [d for d in differences if not any(name in repr(d) for name in SEARCH_OBJECTS)]
    assert unexpected == []
