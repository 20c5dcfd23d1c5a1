"""action_answer: answer a topic question from the knowledge store, for the remembered programme.

Topic intents (ask_<topic>) and follow-ups ("and for the engineer visa?", an `inform` naming a
programme) both come here. A question that carries the figures an eligibility check needs ("I'm
17, can I join?", "we have 150 staff") is answered with the check's verdict instead; when those
figures decide nothing yet, with the facts and an offer to check the person's own case.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import (
    answerer,
    intent_of,
    programme_slot,
    record,
    say_unavailable,
    send,
    topic_of_intent,
    user_text,
)
from actions.eligibility import verdict_for_question
from visafaq import settings
from visafaq.answering import decided_nothing, verdict_reply, with_check_offer


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = intent_of(tracker)
        if intent == "inform" and (tracker.active_loop or {}).get("name") == "eligibility_form":
            # A correction during a check ("actually I'm 19"): the slot is already set and the form
            # goes on from here; answering the old topic again would only interrupt it.
            return []
        topic = topic_of_intent(intent) or tracker.get_slot("topic")
        # A follow-up re-asks the last question for another programme: rank by its words.
        question = user_text(tracker) if topic_of_intent(intent) else str(tracker.get_slot("question") or "")
        on = settings.today()
        try:
            programme = programme_slot(tracker, topic)
            if programme is not None and topic_of_intent(intent):  # a programme chosen by button stands
                programme = answerer().sharpened_programme(programme, topic, question)
            if topic is None:
                if programme is None:
                    dispatcher.utter_message(response="utter_what_can_i_do")
                    return []
                send(dispatcher, answerer().ask_topic(programme, on))
                return [SlotSet("programme", programme)]
            implied = None if programme else answerer().implied_programme(topic, question, on)
            # Worked out once: the verdict and the answer use the same guess.
            guess = implied.programme if implied else None
            checked = verdict_for_question(tracker, programme, topic, on, guess)
            if checked is not None and not decided_nothing(checked[0]):
                reply = verdict_reply(checked[0], programme=checked[1], topic=topic)
            else:
                reply = answerer().answer(programme, topic, question, on, implied)
                if checked is not None:  # figures given, but too few to decide anything
                    reply = with_check_offer(reply, checked[0], checked[1])
            send(dispatcher, reply)
            if not reply.answered:
                record(tracker, "no_facts", question=question, topic=topic)
        except (SQLAlchemyError, LookupError) as error:
            say_unavailable(dispatcher, "action_answer", error)
            return []
        return [
            SlotSet("topic", topic),
            SlotSet("question", question),
            SlotSet("programme", reply.programme or programme),
        ]
