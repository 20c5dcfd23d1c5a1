"""action_handoff: someone asked for a person. Store the request, say what happens next, and where
else help is available (from the knowledge store's contacts)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import answerer, asked, engine, log, say_unavailable
from visafaq import settings
from visafaq.answering import source_line
from visafaq.triage.records import request_handoff


def question_before_handoff(tracker: Tracker) -> str:
    """The user's last real question: 'talk to a person' itself says little to staff."""
    texts = [
        str(event.get("text") or "")
        for event in tracker.events
        if event.get("event") == "user"
        and not str((event.get("parse_data") or {}).get("intent", {}).get("name", "")).startswith(
            ("request_human", "greet", "affirm", "deny", "thanks")
        )
    ]
    return next((text for text in reversed(texts) if text.strip() and not text.startswith("/")), "")


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        question = question_before_handoff(tracker) or str(tracker.latest_message.get("text") or "")
        try:
            ticket = request_handoff(engine(), asked(tracker, question))
        except SQLAlchemyError as error:
            log.error("hand-off for %s not stored: %s", tracker.sender_id, error)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        dispatcher.utter_message(response="utter_handoff_created", ticket=ticket)
        try:
            contacts = answerer().store.facts("general", "contacts", settings.today(), limit=3)
        except (SQLAlchemyError, LookupError) as error:
            say_unavailable(dispatcher, "contacts for hand-off", error)
            return [SlotSet("handoff_ticket", str(ticket))]
        if contacts:
            text = " ".join(fact.text for fact in contacts)
            sources = tuple({s.id: s for fact in contacts for s in fact.sources}.values())
            dispatcher.utter_message(text=f"{text}\n\n{source_line(sources)}")
        return [SlotSet("handoff_ticket", str(ticket))]
