"""action_session_start: every conversation opens by saying what the assistant is and is not."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

#: Slots that carry over into a new session of the same conversation (what the user told us).
CARRIED_OVER = ("programme",)


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_OVER if tracker.get_slot(name)]
        dispatcher.utter_message(response="utter_disclaimer")
        events.append(ActionExecuted("action_listen"))
        return events
