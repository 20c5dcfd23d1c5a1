"""When the assistant is not sure, it says so: close topics as buttons (Rasa's two-stage fallback
asks with them), then a person. Out-of-scope questions are declined politely. Every one of them is
recorded for staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import answerer, programme_slot, record, say_unavailable, send, topic_of_intent, user_text
from actions.eligibility import verdict_for_question
from visafaq import settings
from visafaq.answering import Button, Reply, decided_nothing, intent_payload, verdict_reply

#: How many close topics to offer.
CLOSEST = 3


def closest_topics(tracker: Tracker) -> list[str]:
    """Topic intents from NLU's ranking, best first, skipping the ones that are not topics."""
    ranking: list[dict[str, Any]] = tracker.latest_message.get("intent_ranking") or []
    topics = [topic_of_intent(str(item.get("name"))) for item in ranking]
    return [t for t in topics if t][:CLOSEST]


def checked_guess(tracker: Tracker, topics: list[str], programme: str | None) -> Reply | None:
    """The verdict on the first close topic whose eligibility check the question's figures decide
    something of ("im 17 now, can i sign up..."), as a guess; None when the figures decide nothing."""
    on = settings.today()
    for topic in topics:
        checked = verdict_for_question(tracker, programme, topic, on)
        if checked is not None and not decided_nothing(checked[0]):
            verdict, checked_programme = checked
            reply = verdict_reply(verdict, programme=checked_programme, topic=topic)
            return answerer().as_guess(reply, topic, checked_programme)
    return None


class ActionAskAffirmation(Action):
    """Stage one of the fallback: "I'm not sure: did you mean ...?" with the closest topics. When
    one of them has a fact that clearly matches the question's words, that answer comes first, as a
    guess, and the other topics are offered after it."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        topics = closest_topics(tracker)
        record(tracker, "fallback", candidates=topics)
        try:
            programme = programme_slot(tracker)
            guess = checked_guess(tracker, topics, programme) or answerer().likely_answer(
                user_text(tracker), topics, programme, settings.today()
            )
            entities = {"programme": programme} if programme else {}
            buttons = [
                Button(answerer().topic_title(t), intent_payload(f"ask_{t}", **entities))
                for t in topics
                if guess is None or t != guess.topic
            ]
        except (SQLAlchemyError, LookupError) as error:
            say_unavailable(dispatcher, "action_default_ask_affirmation", error)
            return []
        buttons.append(Button("Something else", intent_payload("deny")))
        if guess is not None:
            send(dispatcher, guess)
        dispatcher.utter_message(
            response="utter_not_sure" if guess is None else "utter_not_sure_after_guess",
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
