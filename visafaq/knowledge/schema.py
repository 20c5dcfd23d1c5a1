"""Knowledge-store tables. Column names follow the fields of visafaq.knowledge.documents, so a record
converts to a row and back without a hand-written mapping per field.

Full-text search over facts is dialect-specific and created by the migration: an FTS5 table
`kb_fact_search` on SQLite, a generated `search_vector` column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from visafaq.db.base import Base

Id = String(120)


class SourceRow(Base):
    __tablename__ = "kb_sources"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    checked: Mapped[date] = mapped_column(Date)


class ProgrammeRow(Base):
    __tablename__ = "kb_programmes"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON)
    cues: Mapped[list[str]] = mapped_column(JSON)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    successor: Mapped[str | None] = mapped_column(Id)


class WorkFieldRow(Base):
    __tablename__ = "kb_fields"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON)


class TopicRow(Base):
    __tablename__ = "kb_topics"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    follow_ups: Mapped[list[str]] = mapped_column(JSON)


class FactRow(Base):
    __tablename__ = "kb_facts"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    programme: Mapped[str] = mapped_column(ForeignKey("kb_programmes.id"), index=True)
    topic: Mapped[str] = mapped_column(ForeignKey("kb_topics.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    superseded_by: Mapped[str | None] = mapped_column(Id)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    checked: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)  # order in its file: the order staff wrote it


class ParameterRow(Base):
    __tablename__ = "kb_parameters"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    programme: Mapped[str] = mapped_column(ForeignKey("kb_programmes.id"))
    description: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)


class ParameterVersionRow(Base):
    __tablename__ = "kb_parameter_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parameter: Mapped[str] = mapped_column(ForeignKey("kb_parameters.id"), index=True)
    value: Mapped[Any] = mapped_column(JSON)
    brackets: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    checked: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class ChecklistRow(Base):
    __tablename__ = "kb_checklists"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    programme: Mapped[str] = mapped_column(ForeignKey("kb_programmes.id"), index=True)
    party: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    items: Mapped[list[str]] = mapped_column(JSON)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    checked: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class StatusRow(Base):
    __tablename__ = "kb_statuses"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    programme: Mapped[str] = mapped_column(ForeignKey("kb_programmes.id"))
    family_may_accompany: Mapped[bool] = mapped_column(Boolean)
    counts_as_work_status_for_permanent_residence: Mapped[bool] = mapped_column(Boolean)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)
    checked: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class RuleRow(Base):
    __tablename__ = "kb_rules"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    check: Mapped[str] = mapped_column(Id, index=True)
    text: Mapped[str] = mapped_column(Text)
    parameters: Mapped[list[str]] = mapped_column(JSON)
    checked: Mapped[date] = mapped_column(Date)


class CitationRow(Base):
    """Which sources a record cites, in order. `kind` names the record's table (fact, rule, ...)."""

    __tablename__ = "kb_citations"
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    record: Mapped[str] = mapped_column(Id, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(ForeignKey("kb_sources.id"), index=True)


class LoadRow(Base):
    """One row per load: when, what content (hash) and how much, so staff can see what is live."""

    __tablename__ = "kb_loads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
