"""When the assistant is not sure, it says so: close topics as buttons (Rasa's two-stage fallback
asks with them), then a person. Out-of-scope questions are declined politely. Every one of them is
recorded for staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import answerer, programme_slot, record, say_unavailable, topic_of_intent
from visafaq.answering import Button, intent_payload

#: How many close topics to offer.
CLOSEST = 3


def closest_topics(tracker: Tracker) -> list[str]:
    """Topic intents from NLU's ranking, best first, skipping the ones that are not topics."""
    ranking: list[dict[str, Any]] = tracker.latest_message.get("intent_ranking") or []
    topics = [topic_of_intent(str(item.get("name"))) for item in ranking]
    return [t for t in topics if t][:CLOSEST]


class ActionAskAffirmation(Action):
    """Stage one of the fallback: "I'm not sure: did you mean ...?" with the closest topics."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        topics = closest_topics(tracker)
        record(tracker, "fallback", candidates=topics)
        try:
            programme = programme_slot(tracker)
            entities = {"programme": programme} if programme else {}
            buttons = [Button(answerer().topic_title(t), intent_payload(f"ask_{t}", **entities)) for t in topics]
        except (SQLAlchemyError, LookupError) as error:
            say_unavailable(dispatcher, "action_default_ask_affirmation", error)
            return []
        buttons.append(Button("Something else", intent_payload("deny")))
        dispatcher.utter_message(
            response="utter_not_sure",
            buttons=[{"title": b.title, "payload": b.payload} for b in buttons],
        )
        return []


class ActionDefaultFallback(Action):
    """Stage two (or a prediction the policies could not make): offer a person."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        record(tracker, "fallback")
        dispatcher.utter_message(response="utter_cannot_answer")
        # Forget the message that could not be handled, so the conversation goes on from before it.
        return [UserUtteranceReverted()]


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        record(tracker, "out_of_scope")
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
