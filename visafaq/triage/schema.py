"""Tables staff work from. They live beside the knowledge store's, under the same migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from visafaq.db.base import Base


class HandoffRow(Base):
    """Someone asked for a person. Staff claim it, note it and close it."""

    __tablename__ = "triage_handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str | None] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    programme: Mapped[str | None] = mapped_column(String(120))
    topic: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UnansweredRow(Base):
    """A question the assistant did not answer with confidence: what staff turn into new facts."""

    __tablename__ = "triage_unanswered"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str | None] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(30), index=True)  # fallback, out_of_scope, no_facts
    intent: Mapped[str | None] = mapped_column(String(120))
    confidence: Mapped[float | None] = mapped_column(Float)
    programme: Mapped[str | None] = mapped_column(String(120))
    topic: Mapped[str | None] = mapped_column(String(120))
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
