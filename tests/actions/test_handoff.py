"""action_handoff: the request is stored for staff, with the question that led to it, and the user is
told what happens next and where else to get help."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from actions import ActionHandoff
from tests.actions.conftest import SOURCE_LINE, TODAY, conversation, run, said_before
from visafaq.knowledge.queries import KnowledgeStore
from visafaq.triage.schema import HandoffRow


def handoffs(database: Engine) -> list[HandoffRow]:
    with database.connect() as connection:
        return [HandoffRow(**row._mapping) for row in connection.execute(select(HandoffRow.__table__))]


def test_a_handoff_is_stored_with_the_question_and_the_user_is_told_what_next(
    domain: dict[str, Any], database: Engine
) -> None:
    question = "my company has not paid me for two months, what can I do?"
    earlier = [*said_before("hello", "greet"), *said_before(question, "ask_rights"), *said_before("no", "deny")]
    tracker = conversation(
        domain,
        "I want to talk to a person",
        "request_human",
        slots={"programme": "technical intern training", "topic": "rights"},
        events=earlier,
        sender_id="worker-7",
        channel="telegram",
    )
    turn = run(ActionHandoff(), tracker, domain)

    [row] = handoffs(database)
    # Staff see the real question, not "talk to a person", and who asked where.
    assert (row.conversation_id, row.question, row.channel, row.status) == ("worker-7", question, "telegram", "open")
    assert (row.programme, row.topic) == ("titp", "rights")
    assert row.created_at is not None

    created, contacts = turn.messages
    assert created["response"] == "utter_handoff_created" and created["ticket"] == row.id
    told = turn.shown(domain).splitlines()[0]
    # What happens next, without promising a reply the channel cannot carry.
    assert f"request number {row.id}" in told and "keep the number" in told
    # Where else to get help: the contacts staff keep in the knowledge store, with their source.
    known = KnowledgeStore(database).facts("general", "contacts", TODAY)
    assert known and any(fact.text in contacts["text"] for fact in known)
    assert SOURCE_LINE.match(contacts["text"].splitlines()[-1])
    assert turn.slots == {"handoff_ticket": str(row.id)}


def test_asking_again_in_the_same_conversation_keeps_one_request(domain: dict[str, Any], database: Engine) -> None:
    first = run(ActionHandoff(), conversation(domain, "human please", "request_human", sender_id="a"), domain)
    again = run(ActionHandoff(), conversation(domain, "hello? a person?", "request_human", sender_id="a"), domain)
    other = run(ActionHandoff(), conversation(domain, "staff please", "request_human", sender_id="b"), domain)
    assert first.slots["handoff_ticket"] == again.slots["handoff_ticket"] != other.slots["handoff_ticket"]
    assert sorted(row.conversation_id for row in handoffs(database)) == ["a", "b"]


def test_with_no_earlier_question_the_request_itself_is_kept(domain: dict[str, Any], database: Engine) -> None:
    text = "can a person call me about my visa renewal"
    run(ActionHandoff(), conversation(domain, text, "request_human", sender_id="c"), domain)
    [row] = handoffs(database)
    assert row.question == text


def test_when_the_database_is_down_the_user_is_told_and_nothing_is_claimed(
    domain: dict[str, Any], database_down: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = conversation(domain, "talk to staff", "request_human", slots={"programme": "titp"})
    turn = run(ActionHandoff(), tracker, domain)
    assert turn.responses == ["utter_handoff_unavailable"]
    assert "try again" in turn.shown(domain)
    assert turn.events == []
    assert any(r.levelname == "ERROR" and "not stored" in r.getMessage() for r in caplog.records)
