"""action_session_start: the notice that this is general information comes first, every session."""

from __future__ import annotations

from typing import Any

from actions import ActionSessionStart
from tests.actions.conftest import conversation, run


def test_a_new_session_starts_with_the_not_legal_advice_notice(domain: dict[str, Any]) -> None:
    turn = run(ActionSessionStart(), conversation(domain, "/session_start", "session_start"), domain)
    assert turn.responses == ["utter_disclaimer"]
    assert "not legal advice" in turn.shown(domain)
    assert [e["event"] for e in turn.events] == ["session_started", "action"]
    assert turn.events[-1]["name"] == "action_listen"


def test_the_programme_carries_over_into_the_new_session_and_nothing_else(domain: dict[str, Any]) -> None:
    slots = {"programme": "gijinkoku", "topic": "documents", "age": 17, "handoff_ticket": "3"}
    turn = run(ActionSessionStart(), conversation(domain, "/session_start", "session_start", slots=slots), domain)
    assert turn.messages[0]["response"] == "utter_disclaimer"
    # SessionStarted resets the slots; only what is set again after it survives.
    kinds = [e["event"] for e in turn.events]
    assert kinds[0] == "session_started"
    assert turn.slots == {"programme": "gijinkoku"}
    assert kinds.index("slot") < kinds.index("action")


def test_the_session_start_needs_no_database(domain: dict[str, Any]) -> None:
    """It runs before anything else: even with nothing loaded, the user gets the notice."""
    turn = run(ActionSessionStart(), conversation(domain, "/session_start", "session_start"), domain)
    assert turn.responses == ["utter_disclaimer"]
