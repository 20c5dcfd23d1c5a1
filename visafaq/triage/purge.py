"""Deleting old conversations and tickets: what `visafaq triage purge --older-than 90d` does.

A conversation goes as a whole once its latest message is older than the cut-off, so no transcript is
left half there. Hand-off requests (with their notes) and unanswered-question records go by their
creation date. The reveal log keeps only who looked at which message id, never the text, and stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, Engine, delete, func, inspect, select

from visafaq.db.engine import transaction
from visafaq.triage.events import events, tracker_exists
from visafaq.triage.schema import HandoffNoteRow, HandoffRow, UnansweredRow


@dataclass(frozen=True)
class Purged:
    conversations: int
    events: int
    tickets: int
    unanswered: int


def purge(tracker: Engine, store: Engine, older_than: datetime) -> Purged:
    conversations = events_deleted = 0
    if tracker_exists(tracker):
        with tracker.begin() as connection:
            stale = (
                select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(func.max(events.c.timestamp) < older_than.timestamp())
            )
            senders = list(connection.execute(stale).scalars())
            for start in range(0, len(senders), 500):  # stay below the database's parameter limit
                chunk = senders[start : start + 500]
                events_deleted += connection.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount
            conversations = len(senders)
    tickets = unanswered = 0
    if inspect(store).has_table(HandoffRow.__tablename__):
        with transaction(store) as session:
            old = select(HandoffRow.id).where(HandoffRow.created_at < older_than)
            session.execute(delete(HandoffNoteRow).where(HandoffNoteRow.handoff_id.in_(old)))
            tickets = _deleted(session.execute(delete(HandoffRow).where(HandoffRow.created_at < older_than)))
            unanswered = _deleted(session.execute(delete(UnansweredRow).where(UnansweredRow.created_at < older_than)))
    return Purged(conversations, events_deleted, tickets, unanswered)


def _deleted(result: object) -> int:
    """A DELETE's result is a CursorResult, which knows how many rows went."""
    return result.rowcount if isinstance(result, CursorResult) else 0
