"""Tables staff work from. They live beside the knowledge store's, under the same migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
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
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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


class HandoffNoteRow(Base):
    """A staff member's note on a hand-off request (what was done, who to call back)."""

    __tablename__ = "triage_handoff_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("triage_handoffs.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffUserRow(Base):
    """Someone allowed into the staff dashboard. The password is kept only as an Argon2 hash."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RevealRow(Base):
    """A staff member chose to see one message's personal data unmasked: who, when, which message."""

    __tablename__ = "triage_reveals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_user: Mapped[str] = mapped_column(String(120), index=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[str] = mapped_column(String(200))  # what was revealed: "e-mail, phone"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
