"""The hand-off queue: open requests, claimed by a staff member, noted, closed. And the reveal log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from visafaq.db.engine import transaction
from visafaq.triage.schema import HandoffNoteRow, HandoffRow, RevealRow

STATUSES = ("open", "claimed", "closed")
#: Longest note kept; staff write notes, not documents.
MAX_NOTE_LENGTH = 4000


class TicketError(ValueError):
    """A request staff cannot act on as asked (no such ticket, already closed, empty note)."""


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    question: str
    programme: str | None
    topic: str | None
    channel: str | None
    status: str
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    closed_at: datetime | None
    notes: tuple[Note, ...] = field(default_factory=tuple)

    def waiting(self, now: datetime | None = None) -> timedelta:
        """How long the person has waited: until it was closed, or until now."""
        end = self.closed_at or now or datetime.now(UTC)
        return max(timedelta(0), end - self.created_at)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives timestamps back without their time zone; they were stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _ticket(row: HandoffRow, notes: list[HandoffNoteRow] | None = None) -> Ticket:
    return Ticket(
        id=row.id,
        conversation_id=row.conversation_id,
        question=row.question,
        programme=row.programme,
        topic=row.topic,
        channel=row.channel,
        status=row.status,
        created_at=_aware(row.created_at) or datetime.now(UTC),
        claimed_by=row.claimed_by,
        claimed_at=_aware(row.claimed_at),
        closed_at=_aware(row.closed_at),
        notes=tuple(Note(n.author, n.text, _aware(n.created_at) or n.created_at) for n in notes or []),
    )


def list_tickets(
    engine: Engine, statuses: tuple[str, ...] = ("open", "claimed"), since: datetime | None = None
) -> list[Ticket]:
    """The queue: longest waiting first."""
    query = select(HandoffRow).where(HandoffRow.status.in_(statuses)).order_by(HandoffRow.created_at, HandoffRow.id)
    if since is not None:
        query = query.where(HandoffRow.created_at >= since)
    with transaction(engine) as session:
        return [_ticket(row) for row in session.execute(query).scalars()]


def get_ticket(engine: Engine, ticket_id: int) -> Ticket:
    with transaction(engine) as session:
        row = session.get(HandoffRow, ticket_id)
        if row is None:
            raise TicketError(f"there is no hand-off request number {ticket_id}")
        notes = (
            session.execute(
                select(HandoffNoteRow)
                .where(HandoffNoteRow.handoff_id == ticket_id)
                .order_by(HandoffNoteRow.created_at, HandoffNoteRow.id)
            )
            .scalars()
            .all()
        )
        return _ticket(row, list(notes))


def tickets_for_conversation(engine: Engine, conversation_id: str) -> list[Ticket]:
    query = select(HandoffRow).where(HandoffRow.conversation_id == conversation_id).order_by(HandoffRow.id)
    with transaction(engine) as session:
        return [_ticket(row) for row in session.execute(query).scalars()]


def _open_row(session: Session, ticket_id: int) -> HandoffRow:
    row = session.get(HandoffRow, ticket_id, with_for_update=True)
    if row is None:
        raise TicketError(f"there is no hand-off request number {ticket_id}")
    if row.status == "closed":
        raise TicketError(f"hand-off request {ticket_id} is closed")
    return row


def claim(engine: Engine, ticket_id: int, staff_user: str) -> Ticket:
    """Take a request: it shows as yours in the queue. Claiming one someone else holds takes it over."""
    with transaction(engine) as session:
        row = _open_row(session, ticket_id)
        row.status = "claimed"
        row.claimed_by = staff_user
        row.claimed_at = datetime.now(UTC)
        return _ticket(row)


def add_note(engine: Engine, ticket_id: int, staff_user: str, text: str) -> None:
    text = text.strip()
    if not text:
        raise TicketError("a note needs some text")
    if len(text) > MAX_NOTE_LENGTH:
        raise TicketError(f"a note can be at most {MAX_NOTE_LENGTH} characters")
    with transaction(engine) as session:
        if session.get(HandoffRow, ticket_id) is None:
            raise TicketError(f"there is no hand-off request number {ticket_id}")
        session.add(HandoffNoteRow(handoff_id=ticket_id, author=staff_user, text=text, created_at=datetime.now(UTC)))


def close(engine: Engine, ticket_id: int, staff_user: str) -> Ticket:
    with transaction(engine) as session:
        row = _open_row(session, ticket_id)
        row.status = "closed"
        row.claimed_by = row.claimed_by or staff_user
        row.closed_at = datetime.now(UTC)
        return _ticket(row)


def log_reveal(engine: Engine, staff_user: str, conversation_id: str, event_id: int, kinds: list[str]) -> None:
    """Who looked at which message's personal data, and when."""
    with transaction(engine) as session:
        session.add(
            RevealRow(
                staff_user=staff_user,
                conversation_id=conversation_id,
                event_id=event_id,
                kinds=", ".join(sorted(set(kinds)))[:200],
                created_at=datetime.now(UTC),
            )
        )
