"""End to end over REST: the real Rasa server, action server, model and knowledge store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.e2e.conftest import Server, texts
from visafaq.db.engine import make_engine


def test_a_topic_question_is_answered_with_source_and_date(server: Server) -> None:
    replies = server.say("e2e-topic", "what documents do I need for the trainee visa?")
    said = texts(replies)
    assert "not legal advice" in said  # the first reply of a conversation
    assert "checked 24 November 2026" in said
    assert any(reply.get("buttons") for reply in replies)


def test_the_programme_is_remembered_for_follow_ups(server: Server) -> None:
    server.say("e2e-follow", "how long does the CoE take for the trainee visa?")
    said = texts(server.say("e2e-follow", "and for the engineer visa?"))
    assert "4 to 6 months" in said  # the gijinkoku processing-time fact, not TITP's 1 to 3 months


def test_numbers_are_answered_by_the_eligibility_engine(server: Server) -> None:
    said = texts(server.say("e2e-quota", "we have 150 full-time staff, how many trainees can we take?"))
    assert "1 x 10 = 10" in said
    said = texts(server.say("e2e-age", "I'm 17, can I join the trainee program?"))
    assert "the minimum age is 18" in said and "No." in said


def test_asking_for_a_person_creates_a_ticket(server: Server) -> None:
    server.say("e2e-human", "how do I change my employer as a technical intern?")
    said = texts(server.say("e2e-human", "I want to talk to a person"))
    assert "request number" in said
    with make_engine(server.database_url).connect() as connection:
        row = connection.execute(
            text("SELECT question, status FROM triage_handoffs WHERE conversation_id = 'e2e-human'")
        ).one()
    assert row.question == "how do I change my employer as a technical intern?" and row.status == "open"


def test_out_of_scope_is_declined_and_recorded(server: Server) -> None:
    said = texts(server.say("e2e-oos", "what's the weather like in Osaka tomorrow?"))
    assert "can only help with Japanese visas" in said
    with make_engine(server.database_url).connect() as connection:
        reasons = (
            connection.execute(text("SELECT reason FROM triage_unanswered WHERE conversation_id = 'e2e-oos'"))
            .scalars()
            .all()
        )
    assert reasons == ["out_of_scope"]


@pytest.mark.parametrize(
    "message",
    [
        "😀😀😀",
        "技能実習の書類は何ですか",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE events; --",
        "a" * 4999,
        "\u202e\u200b visa \u2028",
        "%s%s%n{0}${jndi:x}",
    ],
)
def test_odd_messages_get_a_sensible_reply(server: Server, message: str) -> None:
    replies = server.say("e2e-odd", message)
    assert replies and all(isinstance(reply.get("text", ""), str) for reply in replies)
    assert server.alive()


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "must be JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"sender": "x"}', 400, "'message'"),
        (b'{"sender": "x", "message": 5}', 400, "'message' must be a string"),
        (b'{"sender": "x", "message": ""}', 400, "empty"),
        (b'{"sender": "x", "message": "   "}', 400, "empty"),
        (json.dumps({"sender": "x", "message": "a" * 10_000}).encode(), 413, "longer than"),
        (json.dumps({"sender": "x" * 300, "message": "hi"}).encode(), 400, "'sender'"),
        (b'{"sender": 7, "message": "hi"}', 400, "'sender'"),
    ],
)
def test_bad_requests_get_a_4xx_that_says_why(server: Server, body: bytes, status: int, says: str) -> None:
    response = server.request("/webhooks/rest/webhook", body)
    assert response.status == status
    assert says in response.body
    assert server.alive()


def test_the_http_api_needs_the_token(server: Server) -> None:
    assert server.request("/status", method="GET").status == 401
    assert server.request("/conversations/e2e-topic/tracker", method="GET").status == 401
    assert server.request(f"/status?token={server.token}", method="GET").status == 200
    assert server.request("/conversations/e2e-topic/tracker?token=wrong", method="GET").status == 401


def test_a_retried_message_id_is_answered_again_from_the_tracker_not_handled_twice(server: Server) -> None:
    def send(message: str, message_id: str) -> list[dict[str, object]]:
        body = {"sender": "e2e-retry", "message": message, "message_id": message_id}
        response = server.request("/webhooks/rest/webhook", json.dumps(body).encode())
        assert response.status == 200, response.body
        replies = response.json()
        assert isinstance(replies, list)
        return replies

    first = send("how long does the CoE take for the trainee visa?", "m_1")  # "_" is a LIKE wildcard
    assert send("how long does the CoE take for the trainee visa?", "m_1") == first
    again = texts(send("how long does the CoE take for the trainee visa?", "mx1"))  # a new message: handled
    assert "1 to 3 months" in again and "not legal advice" not in again  # no second session start
    with make_engine(server.tracker_url).connect() as connection:
        users = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = 'e2e-retry' AND type_name = 'user'")
        ).scalar()
    assert users == 2


@pytest.mark.parametrize("message_id", ["", "a b", "x" * 65, 7])
def test_a_bad_message_id_gets_a_400(server: Server, message_id: object) -> None:
    body = {"sender": "e2e-bad-id", "message": "hello", "message_id": message_id}
    response = server.request("/webhooks/rest/webhook", json.dumps(body).encode())
    assert response.status == 400 and "'message_id'" in response.body
