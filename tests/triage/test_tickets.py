"""The hand-off queue, staff accounts, the reveal log, purge and the migration, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, update

from tests.triage.conftest import NOON, Conversation
from visafaq.db.engine import transaction
from visafaq.db.migrate import alembic_config, upgrade
from visafaq.triage import staff, tickets
from visafaq.triage.events import events
from visafaq.triage.purge import purge
from visafaq.triage.records import Asked, Unanswered, record_unanswered, request_handoff
from visafaq.triage.schema import HandoffNoteRow, HandoffRow, RevealRow, StaffUserRow, UnansweredRow


def test_the_migration_adds_the_staff_tables_and_goes_back(engine: Engine) -> None:
    upgrade(engine, "0002")
    assert not inspect(engine).has_table("staff_users")
    upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {"staff_users", "triage_handoff_notes", "triage_reveals", "triage_handoffs"} <= names
    assert "claimed_at" in {c["name"] for c in inspect(engine).get_columns("triage_handoffs")}

    command.downgrade(alembic_config(engine), "0002")
    assert not inspect(engine).has_table("staff_users")
    upgrade(engine)
    assert inspect(engine).has_table("staff_users")


def test_claim_note_and_close(store: Engine) -> None:
    first = request_handoff(store, Asked("c1", "can I change my employer?", "rest", "titp", "change_employer"))
    second = request_handoff(store, Asked("c2", "visa fee?", "socketio"))
    assert request_handoff(store, Asked("c1", "again")) == first  # one open request per conversation
    assert [t.id for t in tickets.list_tickets(store)] == [first, second]

    claimed = tickets.claim(store, first, "aiko")
    assert (claimed.status, claimed.claimed_by) == ("claimed", "aiko") and claimed.claimed_at is not None
    tickets.add_note(store, first, "aiko", "  called back, sent the form  ")
    with pytest.raises(tickets.TicketError, match="needs some text"):
        tickets.add_note(store, first, "aiko", "   ")
    closed = tickets.close(store, first, "aiko")
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.waiting() == closed.closed_at - closed.created_at

    ticket = tickets.get_ticket(store, first)
    assert [(n.author, n.text) for n in ticket.notes] == [("aiko", "called back, sent the form")]
    assert [t.id for t in tickets.list_tickets(store)] == [second]
    assert [t.id for t in tickets.list_tickets(store, tickets.STATUSES)] == [first, second]
    with pytest.raises(tickets.TicketError, match="closed"):
        tickets.claim(store, first, "ben")
    with pytest.raises(tickets.TicketError, match="no hand-off request"):
        tickets.close(store, 9999, "ben")
    assert request_handoff(store, Asked("c1", "a new question")) != first  # closed: a new request


def test_passwords_are_stored_as_slow_hashes_only(store: Engine) -> None:
    staff.add_user(store, "aiko", "correct horse battery")
    with transaction(store) as session:
        stored = session.execute(select(StaffUserRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse battery" not in stored
    assert staff.authenticate(store, "aiko", "correct horse battery")
    assert not staff.authenticate(store, "aiko", "correct horse battery!")
    assert not staff.authenticate(store, "nobody", "correct horse battery")
    with pytest.raises(staff.StaffUserError, match="already"):
        staff.add_user(store, "aiko", "another long password")
    with pytest.raises(staff.StaffUserError, match="at least"):
        staff.add_user(store, "ben", "short")
    with pytest.raises(staff.StaffUserError, match="user name"):
        staff.add_user(store, "<ben>", "long enough password")
    staff.add_user(store, "aiko", "another long password", replace=True)
    assert staff.authenticate(store, "aiko", "another long password")


def test_the_first_user_comes_from_the_environment_once(store: Engine) -> None:
    assert staff.ensure_initial_user(store, "admin", "first password here")
    assert not staff.ensure_initial_user(store, "admin", "a different password")
    assert staff.authenticate(store, "admin", "first password here")
    assert not staff.ensure_initial_user(store, None, None)


def test_reveals_are_logged(store: Engine) -> None:
    tickets.log_reveal(store, "aiko", "c1", 42, ["phone", "e-mail", "phone"])
    with transaction(store) as session:
        row = session.execute(select(RevealRow)).scalar_one()
    assert (row.staff_user, row.conversation_id, row.event_id, row.kinds) == ("aiko", "c1", 42, "e-mail, phone")


def test_purge_deletes_whole_old_conversations_and_old_tickets(tracker: Engine, store: Engine) -> None:
    Conversation(tracker, "old", at=NOON - timedelta(days=100)).user("hello", "greet").answered()
    Conversation(tracker, "recent", at=NOON - timedelta(days=1)).user("hello", "greet").answered()
    # Began long ago, went on recently: kept whole.
    Conversation(tracker, "long", at=NOON - timedelta(days=95)).user("hi", "greet")
    Conversation(tracker, "long", at=NOON - timedelta(days=2)).user("still here", "greet")
    old_ticket = request_handoff(store, Asked("old", "help"))
    tickets.add_note(store, old_ticket, "aiko", "done")
    new_ticket = request_handoff(store, Asked("recent", "help"))
    record_unanswered(store, Unanswered("old", "??"))
    with transaction(store) as session:
        session.execute(
            update(HandoffRow).where(HandoffRow.id == old_ticket).values(created_at=NOON - timedelta(days=100))
        )
        session.execute(update(HandoffRow).where(HandoffRow.id == new_ticket).values(created_at=NOON))
        session.execute(update(UnansweredRow).values(created_at=NOON - timedelta(days=100)))

    done = purge(tracker, store, NOON - timedelta(days=90))
    assert (done.conversations, done.events, done.tickets, done.unanswered) == (1, 4, 1, 1)
    with tracker.connect() as connection:
        left = set(connection.execute(select(events.c.sender_id).distinct()).scalars())
    assert left == {"recent", "long"}
    with transaction(store) as session:
        assert session.execute(select(func.count()).select_from(HandoffNoteRow)).scalar_one() == 0
        assert [t.id for t in tickets.list_tickets(store)] == [new_ticket]
    assert purge(tracker, store, datetime(2000, 1, 1, tzinfo=UTC)).conversations == 0
