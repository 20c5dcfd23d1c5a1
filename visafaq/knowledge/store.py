"""Load a validated KnowledgeBase into the database, and read it back.

A load replaces the whole knowledge store in one transaction: a reader sees either the old facts or
the new ones, and a failed load leaves the old ones in place. Loading the same files twice gives the
same rows (the load is idempotent); each load is recorded in kb_loads with its content hash.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session

from visafaq.db.base import Base
from visafaq.db.engine import transaction
from visafaq.db.migrate import upgrade
from visafaq.knowledge.documents import (
    Checklist,
    Fact,
    Parameter,
    ParameterVersion,
    Programme,
    ResidenceStatus,
    Rule,
    Source,
    Topic,
    WorkField,
)
from visafaq.knowledge.reader import SECTIONS, KnowledgeBase, KnowledgeError, read_knowledge
from visafaq.knowledge.schema import (
    ChecklistRow,
    CitationRow,
    FactRow,
    LoadRow,
    ParameterRow,
    ParameterVersionRow,
    ProgrammeRow,
    RuleRow,
    SourceRow,
    StatusRow,
    TopicRow,
    WorkFieldRow,
)

# (section of KnowledgeBase, row class, record model, citation kind or None). Order matters for
# foreign keys: sources and programmes before what refers to them.
_TABLES: tuple[tuple[str, type[Base], type[BaseModel], str | None], ...] = (
    ("sources", SourceRow, Source, None),
    ("programmes", ProgrammeRow, Programme, None),
    ("fields", WorkFieldRow, WorkField, None),
    ("topics", TopicRow, Topic, None),
    ("facts", FactRow, Fact, "fact"),
    ("checklists", ChecklistRow, Checklist, "checklist"),
    ("statuses", StatusRow, ResidenceStatus, "status"),
    ("rules", RuleRow, Rule, "rule"),
)


def content_hash(base: KnowledgeBase) -> str:
    return hashlib.sha256(dump_json(base).encode()).hexdigest()


def _columns(row_class: type[Base]) -> set[str]:
    return {column.key for column in row_class.__table__.columns}


def _row_values(record: BaseModel, row_class: type[Base]) -> dict[str, Any]:
    data = record.model_dump(mode="python")
    return {key: value for key, value in data.items() if key in _columns(row_class)}


def prepare(engine: Engine) -> None:
    """Create or migrate the schema (Alembic); cheap when it is current."""
    upgrade(engine)


def load(engine: Engine, base: KnowledgeBase) -> dict[str, int]:
    """Replace the stored knowledge with `base` in one transaction; return the counts loaded."""
    prepare(engine)
    counts = {section: len(getattr(base, section)) for section in SECTIONS}
    with transaction(engine) as session:
        _clear(session)
        for section, row_class, _model, kind in _TABLES:
            records: dict[str, Any] = getattr(base, section)
            for position, record in enumerate(records.values()):
                values = _row_values(record, row_class)
                if row_class is FactRow:
                    values["position"] = position
                session.execute(insert(row_class), [values])
                if kind:
                    _cite(session, kind, record.id, record.sources)
            session.flush()
        for parameter in base.parameters.values():
            session.execute(insert(ParameterRow), [_row_values(parameter, ParameterRow)])
            for version in parameter.versions:
                values = _row_values(version, ParameterVersionRow)
                version_id = session.execute(
                    insert(ParameterVersionRow).returning(ParameterVersionRow.id),
                    [{**values, "parameter": parameter.id}],
                ).scalar_one()
                _cite(session, "parameter_version", str(version_id), version.sources)
        _index_facts(session, base)
        session.add(LoadRow(loaded_at=datetime.now(UTC), content_hash=content_hash(base), counts=counts))
    return counts


def load_directory(engine: Engine, directory: Path) -> dict[str, int]:
    """Validate knowledge/ and load it; raises KnowledgeError (nothing written) if invalid."""
    return load(engine, read_knowledge(directory))


def _clear(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM kb_fact_search"))
    for row_class in (
        CitationRow,
        ParameterVersionRow,
        ParameterRow,
        RuleRow,
        StatusRow,
        ChecklistRow,
        FactRow,
        TopicRow,
        WorkFieldRow,
        ProgrammeRow,
        SourceRow,
    ):
        session.execute(delete(row_class))


def _cite(session: Session, kind: str, record_id: str, sources: list[str]) -> None:
    session.execute(
        insert(CitationRow),
        [{"kind": kind, "record": record_id, "position": i, "source": s} for i, s in enumerate(sources)],
    )


def _index_facts(session: Session, base: KnowledgeBase) -> None:
    """SQLite's FTS5 table is filled here; PostgreSQL computes its tsvector column itself."""
    if session.get_bind().dialect.name != "sqlite" or not base.facts:
        return
    session.execute(
        text("INSERT INTO kb_fact_search (fact_id, text, keywords) VALUES (:id, :text, :keywords)"),
        [{"id": f.id, "text": f.text, "keywords": " ".join(f.keywords)} for f in base.facts.values()],
    )


def _citations(session: Session) -> dict[tuple[str, str], list[str]]:
    cited: dict[tuple[str, str], list[str]] = defaultdict(list)
    rows = session.execute(
        select(CitationRow).order_by(CitationRow.kind, CitationRow.record, CitationRow.position)
    ).scalars()
    for row in rows:
        cited[(row.kind, row.record)].append(row.source)
    return cited


def _as_dict(row: Base) -> dict[str, Any]:
    return {key: getattr(row, key) for key in _columns(type(row))}


def read(engine: Engine) -> KnowledgeBase:
    """The stored knowledge as a KnowledgeBase: the same records the YAML held when loaded."""
    base = KnowledgeBase()
    with transaction(engine) as session:
        cited = _citations(session)
        for section, row_class, model, kind in _TABLES:
            order = (FactRow.position,) if row_class is FactRow else ()
            target: dict[str, Any] = getattr(base, section)
            for row in session.execute(select(row_class).order_by(*order)).scalars():
                values = _as_dict(row)
                values.pop("position", None)
                if kind:
                    values["sources"] = cited[(kind, values["id"])]
                target[values["id"]] = model.model_validate(values)
        versions: dict[str, list[ParameterVersion]] = defaultdict(list)
        for version_row in session.execute(select(ParameterVersionRow).order_by(ParameterVersionRow.id)).scalars():
            values = _as_dict(version_row)
            parameter_id = values.pop("parameter")
            values["sources"] = cited[("parameter_version", str(values.pop("id")))]
            versions[parameter_id].append(ParameterVersion.model_validate(values))
        for parameter_row in session.execute(select(ParameterRow)).scalars():
            values = _as_dict(parameter_row)
            base.parameters[parameter_row.id] = Parameter.model_validate(
                {**values, "versions": versions[parameter_row.id]}
            )
    return base


def last_load(engine: Engine) -> LoadRow | None:
    with transaction(engine) as session:
        return session.execute(select(LoadRow).order_by(LoadRow.id.desc()).limit(1)).scalar()


def is_stale(engine: Engine, directory: Path) -> bool:
    """True when the files differ from what was last loaded (or cannot be read at all)."""
    latest = last_load(engine)
    try:
        return latest is None or latest.content_hash != content_hash(read_knowledge(directory))
    except KnowledgeError:
        return True


def is_loaded(engine: Engine) -> bool:
    prepare(engine)
    return last_load(engine) is not None


def dump_json(base: KnowledgeBase) -> str:
    """A stable JSON rendering: what the load hashes, and what tests compare in and out."""
    return json.dumps(
        {
            section: {k: v.model_dump(mode="json") for k, v in sorted(getattr(base, section).items())}
            for section in SECTIONS
        },
        sort_keys=True,
    )
