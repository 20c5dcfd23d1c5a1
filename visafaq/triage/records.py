"""Writing what staff need to see: hand-off requests and unanswered questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from visafaq.db.engine import transaction
from visafaq.triage.schema import HandoffRow, UnansweredRow

#: Longest question text kept; a message longer than this is cut (the full text stays in the tracker).
MAX_QUESTION_LENGTH = 2000


@dataclass(frozen=True)
class Asked:
    """Who asked what, where, about which programme and topic."""

    conversation_id: str
    question: str
    channel: str | None = None
    programme: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Unanswered(Asked):
    reason: str = "fallback"
    intent: str | None = None
    confidence: float | None = None
    candidates: list[str] = field(default_factory=list)


def request_handoff(engine: Engine, asked: Asked) -> int:
    """Store a hand-off request (one open request per conversation); return its number."""
    with transaction(engine) as session:
        existing = session.execute(
            select(HandoffRow).where(HandoffRow.conversation_id == asked.conversation_id, HandoffRow.status != "closed")
        ).scalar()
        if existing is not None:
            return existing.id
        row = HandoffRow(
            conversation_id=asked.conversation_id,
            channel=asked.channel,
            question=asked.question[:MAX_QUESTION_LENGTH],
            programme=asked.programme,
            topic=asked.topic,
            status="open",
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row.id


def record_unanswered(engine: Engine, item: Unanswered) -> None:
    with transaction(engine) as session:
        session.add(
            UnansweredRow(
                conversation_id=item.conversation_id,
                channel=item.channel,
                question=item.question[:MAX_QUESTION_LENGTH],
                reason=item.reason,
                intent=item.intent,
                confidence=item.confidence,
                programme=item.programme,
                topic=item.topic,
                candidates=list(item.candidates),
                created_at=datetime.now(UTC),
            )
        )
