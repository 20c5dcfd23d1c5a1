"""What every action shares: the knowledge store, reading the tracker, sending a Reply."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from visafaq.answering import Answerer, Reply, meant_programme
from visafaq.db.engine import make_engine
from visafaq.knowledge.queries import KnowledgeStore
from visafaq.triage.records import Asked, Unanswered, record_unanswered

log = logging.getLogger("visafaq.actions")

#: Said when the database or another dependency is down: the user is told, staff see the log.
UNAVAILABLE = "I can't look that up right now, sorry. Please try again in a few minutes."


@cache
def engine() -> Engine:
    return make_engine()


@cache
def knowledge() -> KnowledgeStore:
    return KnowledgeStore(engine())


def answerer() -> Answerer:
    return Answerer(knowledge())


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    dispatcher.utter_message(text=reply.text, buttons=buttons or None)


def say_unavailable(dispatcher: CollectingDispatcher, what: str, error: Exception) -> None:
    log.error("%s failed: %s: %s", what, type(error).__name__, error)
    dispatcher.utter_message(text=UNAVAILABLE)


def intent_of(tracker: Tracker) -> str | None:
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def topic_of_intent(intent: str | None) -> str | None:
    return intent[len("ask_") :] if intent and intent.startswith("ask_") else None


def user_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


#: The entities that name a programme: DIET's, and the spaCy entity ruler's.
PROGRAMME_ENTITIES = frozenset({"programme", "PROGRAMME"})


def programme_slot(tracker: Tracker, topic: str | None = None) -> str | None:
    """The programme in the conversation, as an id, whatever name the user gave it. When the latest
    message named several, the one it is about (`meant_programme`, which may depend on the `topic`):
    Rasa's slot keeps only the last one named."""
    entities: list[dict[str, Any]] = tracker.latest_message.get("entities") or []
    said = [
        str(e.get("value"))
        for e in sorted(entities, key=lambda e: int(e.get("start") or 0))
        if e.get("entity") in PROGRAMME_ENTITIES
    ]
    if len(said) < 2:
        value = tracker.get_slot("programme")
        said = [str(value)] if value else []
    named = [programme.id for name in said if (programme := knowledge().programme_named(name))]
    return meant_programme(named, topic)


def asked(tracker: Tracker, question: str | None = None) -> Asked:
    return Asked(
        conversation_id=tracker.sender_id,
        question=question if question is not None else user_text(tracker),
        channel=tracker.get_latest_input_channel(),
        programme=programme_slot(tracker),
        topic=tracker.get_slot("topic"),
    )


def record(
    tracker: Tracker,
    reason: str,
    *,
    question: str | None = None,
    topic: str | None = None,
    candidates: list[str] | None = None,
) -> None:
    """Keep a question the assistant could not answer well, for staff. Never fails the turn."""
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    try:
        base = asked(tracker, question)  # reads the knowledge store too (the programme's id)
        item = Unanswered(
            conversation_id=base.conversation_id,
            question=base.question,
            channel=base.channel,
            programme=base.programme,
            topic=topic or base.topic,
            reason=reason,
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            candidates=candidates or [],
        )
        record_unanswered(engine(), item)
    except Exception as error:  # the user still gets an answer; staff get the log line
        log.error("could not record an unanswered question: %s: %s", type(error).__name__, error)
