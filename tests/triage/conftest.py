"""Conversations written into a tracker store the way Rasa 3.6's SQLTrackerStore writes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from visafaq.db.migrate import upgrade
from visafaq.triage.events import create_events_table, events

#: A fixed "now" for the conversations, so that periods and days are known.
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Conversation:
    """Appends events to one conversation, a second apart, as Rasa would record them."""

    engine: Engine
    sender_id: str
    at: datetime = NOON
    channel: str = "rest"
    rows: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, type_name: str, data: dict[str, Any], intent: str | None = None, action: str | None = None) -> None:
        self.at += timedelta(seconds=1)
        data = {"event": type_name, "timestamp": self.at.timestamp(), **data}
        row = {
            "sender_id": self.sender_id,
            "type_name": type_name,
            "timestamp": self.at.timestamp(),
            "intent_name": intent,
            "action_name": action,
            "data": json.dumps(data),
        }
        with self.engine.begin() as connection:
            connection.execute(insert(events), [row])

    def user(self, text: str, intent: str, confidence: float = 0.95, programme: str | None = None) -> Conversation:
        entities = [{"entity": "programme", "value": programme, "start": 0, "end": 1}] if programme else []
        parse_data = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        self._add(
            "user",
            {"text": text, "parse_data": parse_data, "input_channel": self.channel, "message_id": "m"},
            intent=intent,
        )
        if programme:
            self._add("slot", {"name": "programme", "value": programme})
        return self

    def action(self, name: str) -> Conversation:
        self._add("action", {"name": name, "policy": "RulePolicy", "confidence": 1.0}, action=name)
        return self

    def bot(self, text: str) -> Conversation:
        self._add("bot", {"text": text, "data": {"buttons": None}, "metadata": {}})
        return self

    def answered(self) -> Conversation:
        return self.action("action_answer").bot("Here is what I know.").action("action_listen")

    def fell_back(self) -> Conversation:
        return self.action("action_default_ask_affirmation").bot("I'm not sure.").action("action_listen")

    def handed_over(self) -> Conversation:
        return self.action("action_handoff").bot("Your request number is 1.").action("action_listen")


@pytest.fixture
def tracker(engine: Engine) -> Engine:
    """The tracker store and our tables in one database (as tests; production may split them)."""
    create_events_table(engine)
    return engine


@pytest.fixture
def store(engine: Engine) -> Iterator[Engine]:
    upgrade(engine)
    yield engine
