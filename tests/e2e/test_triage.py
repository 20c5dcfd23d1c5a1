"""Conversations sent through the real assistant (REST) show up in the staff reports and the queue, and
staff can claim, note and close the hand-off from the dashboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.e2e.conftest import Server
from visafaq.db.engine import make_engine
from visafaq.triage import reports, staff, tickets
from visafaq.web.staff import StaffConfig, create_staff_app

HANDOFF_QUESTION = "how do I change my employer as a technical intern?"


def report(server: Server, since: datetime) -> reports.Report:
    period = reports.Period(since, datetime.now(UTC) + timedelta(minutes=1))
    return reports.build_report(make_engine(server.tracker_url), make_engine(server.database_url), period)


def test_conversations_appear_in_the_reports_and_the_queue(server: Server) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    before = report(server, since)  # other tests share the server: compare with what was there

    server.say("e2e-triage-docs", "what documents do I need for the trainee visa?")
    server.say("e2e-triage-oos", "what's the weather like in Osaka tomorrow?")
    server.say("e2e-triage-human", HANDOFF_QUESTION)
    server.say("e2e-triage-human", "I want to talk to a person")

    after = report(server, since)
    assert after.conversations - before.conversations == 3
    assert after.questions - before.questions == 4
    assert after.handoffs - before.handoffs == 1
    assert after.fallbacks - before.fallbacks == 1  # the weather
    topics_before, topics_after = dict(before.by_topic), dict(after.by_topic)
    assert topics_after["documents"] - topics_before.get("documents", 0) == 1
    assert dict(after.by_channel)["rest"] - dict(before.by_channel).get("rest", 0) == 4
    assert dict(after.by_programme).get("titp", 0) >= 1
    weather = [g for g in after.unanswered if "e2e-triage-oos" in g.conversations]
    assert len(weather) == 1 and set(weather[0].reasons) == {"out_of_scope"}
    # Other tests on the shared server may ask the same: count what this one added to its group.
    earlier = [g for g in before.unanswered if g.question == weather[0].question]
    assert weather[0].reasons["out_of_scope"] - sum(g.reasons.get("out_of_scope", 0) for g in earlier) == 1
    today = next(d for d in after.per_day if d.day == datetime.now(UTC).date())
    assert today.questions >= 4 and today.handoffs >= 1

    queue = tickets.list_tickets(make_engine(server.database_url))
    [ticket] = [t for t in queue if t.conversation_id == "e2e-triage-human"]
    assert ticket.question == HANDOFF_QUESTION and ticket.channel == "rest" and ticket.status == "open"


def test_staff_work_the_hand_off_in_the_dashboard(server: Server) -> None:
    server.say("e2e-triage-desk", HANDOFF_QUESTION)
    server.say("e2e-triage-desk", "I want to talk to a person")
    store = make_engine(server.database_url)
    config = StaffConfig(server.database_url, server.tracker_url, secret_key="e2e secret key")
    app = Starlette(routes=[Mount("/staff", app=create_staff_app(config))])
    with TestClient(app) as client:
        client.get("/staff/login")  # runs the migrations
        staff.add_user(store, "desk", "desk password 123")
        login = client.get("/staff/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', login)
        assert csrf
        client.post(
            "/staff/login",
            data={"csrf": csrf.group(1), "username": "desk", "password": "desk password 123", "next": "/staff/"},
        )
        [ticket] = [t for t in tickets.list_tickets(store) if t.conversation_id == "e2e-triage-desk"]
        queue = client.get("/staff/").text
        assert f'href="/staff/tickets/{ticket.id}"' in queue and HANDOFF_QUESTION in queue

        page = client.get(f"/staff/tickets/{ticket.id}").text
        assert HANDOFF_QUESTION in page and "request number" in page  # the transcript, both sides
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        for action, data in (("claim", {}), ("note", {"text": "Rang back, all sorted."}), ("close", {})):
            response = client.post(
                f"/staff/tickets/{ticket.id}/{action}", data={"csrf": token.group(1), **data}, follow_redirects=False
            )
            assert response.status_code == 303
    done = tickets.get_ticket(store, ticket.id)
    assert (done.status, done.claimed_by, [n.text for n in done.notes]) == (
        "closed",
        "desk",
        ["Rang back, all sorted."],
    )
