"""Eligibility in conversation.

- A topic question carrying figures ("I'm 17, can I join?") is answered at once with the check's
  verdict (`verdict_for_question`, called by action_answer).
- "Am I eligible?" runs eligibility_form, which asks only for what the eligibility engine still
  reports missing (validate_eligibility_form decides the required slots each turn), takes
  corrections ("actually I'm 19") and can be abandoned ("stop").
- action_eligibility_verdict gives the verdict, its reasons and sources.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import knowledge, log, programme_slot, say_unavailable, send
from visafaq import settings
from visafaq.answering import PROGRAMME_ORDER, verdict_reply
from visafaq.eligibility.registry import CHECKS, InputError, evaluate
from visafaq.eligibility.routes import check_for, form_check_for, inputs_from_message, parse_number, status_for
from visafaq.eligibility.verdict import Verdict
from visafaq.rasa_export import input_fields

#: Said when a number is a number but cannot be right for the question ("150" as an age).
IMPOSSIBLE_NUMBER = "That number doesn't look right for this question. Please check it and answer again."


def _input_kinds() -> dict[str, Any]:
    return {name: kind for name, kind, _ in input_fields([c.inputs for c in CHECKS.values()])}


INPUT_KINDS = _input_kinds()


def known_inputs(tracker: Tracker, check: str, programme: str | None) -> dict[str, object]:
    """The check's inputs the conversation already holds (slots), plus what follows from the
    programme (the residence status for the family and permanent-residence rules) and from the
    fields of work the user named: a field whose id is an input of the check ("nursing_care") turns
    it on, so a care home that said so once gets its own quota table for the rest of the session."""
    fields = CHECKS[check].inputs.model_fields
    known: dict[str, object] = {name: tracker.get_slot(name) for name in fields if tracker.get_slot(name) is not None}
    # Only a check with such an input reads the session's messages.
    if any(name in fields and name not in known for name in knowledge().base.fields):
        for work_field in fields_named_in_session(tracker) & set(fields):
            known.setdefault(work_field, True)
    if "status" in fields and "status" not in known:
        entities = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities", [])}
        status = status_for(
            programme,
            str(entities.get("stage") or tracker.get_slot("stage") or ""),
            str(entities.get("level") or ""),
        )
        if status:
            known["status"] = status
    return known


def run_check(
    tracker: Tracker,
    check: str,
    programme: str | None,
    on: date,
    extra: dict[str, object] | None = None,
) -> Verdict:
    inputs = {**known_inputs(tracker, check, programme), **(extra or {})}
    relevant = {k: v for k, v in inputs.items() if k in CHECKS[check].inputs.model_fields}
    return evaluate(check, relevant, on, knowledge().base)


def field_named_by(entity: dict[str, Any]) -> str | None:
    """The id of the field of work an entity names (the entity ruler's `FIELD`, DIET's `field`), as
    knowledge/fields.yml knows it; None for any other entity or an unknown name."""
    if entity.get("entity") not in {"FIELD", "field"}:
        return None
    work_field = knowledge().field_named(str(entity.get("value") or ""))
    return work_field.id if work_field is not None else None


def fields_named_in_session(tracker: Tracker) -> set[str]:
    """The ids of the fields of work the user's messages named since the session started."""
    named: set[str] = set()
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            entities = (event.get("parse_data") or {}).get("entities") or []
            named.update(field for entity in entities if (field := field_named_by(entity)))
    return named


def message_entities(tracker: Tracker) -> list[dict[str, Any]]:
    """The latest message's entities, with each field of work (the entity ruler's `FIELD`, the words
    said: "care workers"; DIET's `field`) as `field` with the field's id (nursing_care), or left out
    when knowledge/fields.yml does not know it (DIET's "nursing")."""
    entities: list[dict[str, Any]] = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") in {"FIELD", "field"}:
            field = field_named_by(entity)
            if field is None:
                continue
            entity = {**entity, "entity": "field", "value": field}
        entities.append(entity)
    return entities


def verdict_for_question(
    tracker: Tracker, programme: str | None, topic: str, on: date, implied: str | None = None
) -> tuple[Verdict, str] | None:
    """The verdict, and the programme it is for, when the question carries figures a check uses;
    None to answer from facts. With no programme named, the one the question's words imply (a
    programmer's question is not a trainee's); failing that, the figures themselves can tell which
    one ("150 staff" and a quota)."""
    entities = inputs_from_message(message_entities(tracker), str(tracker.latest_message.get("text") or ""))
    if not entities:
        return None
    chosen = programme or implied
    for candidate in [chosen] if chosen else PROGRAMME_ORDER:
        check = check_for(candidate, topic)
        given = {k: v for k, v in entities.items() if check and k in CHECKS[check].inputs.model_fields}
        if check and given:
            try:
                return run_check(tracker, check, candidate, on, given), candidate
            except InputError as error:  # "I'm 200": no rule fits, so the facts answer instead
                log.info("figures not checked (%s): %s", check, error)
                return None
    return None


class ValidateEligibilityForm(FormValidationAction):
    def name(self) -> str:
        return "validate_eligibility_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        try:
            programme = programme_slot(tracker)
            check = form_check_for(programme, tracker.get_slot("topic"))
            if check is None:
                return ["programme"]
            verdict = run_check(tracker, check, programme, settings.today())
        except (SQLAlchemyError, LookupError, ValueError) as error:
            # Ask nothing more: the form ends and the verdict action tells the user.
            log.error("eligibility form: %s: %s", type(error).__name__, error)
            return []
        # A decided "no" needs nothing more: ask nothing else and give the verdict.
        return [] if verdict.outcome.value == "no" else list(verdict.missing)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Nothing to extract here: the domain's slot mappings fill this form's slots. (The base class
        would run the check on answers not cleaned yet, and warn for every slot.)"""
        return []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clean this turn's answers: numbers out of text ("I'm seventeen"), programme names to ids.
        rasa-sdk 3 calls this method; `validate`, its rasa-sdk 2 name, was never called."""
        cleaned: list[EventType] = []
        try:
            check = form_check_for(programme_slot(tracker), tracker.get_slot("topic"))
            inputs = CHECKS[check].inputs if check else None
            for name, value in tracker.slots_to_validate().items():
                if name in INPUT_KINDS:
                    cleaned.append(self._clean(dispatcher, name, value, inputs))
                elif name == "programme":
                    programme = knowledge().programme_named(str(value or ""))
                    cleaned.append(SlotSet("programme", programme.id if programme else None))
                else:
                    cleaned.append(SlotSet(name, value))
        except (SQLAlchemyError, LookupError) as error:
            log.error("eligibility form: %s: %s", type(error).__name__, error)
            return []
        return cleaned

    def _clean(
        self, dispatcher: CollectingDispatcher, name: str, value: Any, inputs: type[BaseModel] | None
    ) -> EventType:
        kind = INPUT_KINDS[name]
        if value is None or kind is bool or (isinstance(kind, type) and issubclass(kind, Enum)):
            return SlotSet(name, value)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else (parse_number(str(value)))
        if number is None or number < 0:
            dispatcher.utter_message(response="utter_invalid_number")
            return SlotSet(name, None)
        if inputs is not None and name in inputs.model_fields:
            try:  # a number the check cannot take ("I'm 150") would end the form with an error
                inputs.model_validate({name: number})
            except ValidationError:
                dispatcher.utter_message(text=IMPOSSIBLE_NUMBER)
                return SlotSet(name, None)
        return SlotSet(name, number)


class ActionEligibilityVerdict(Action):
    def name(self) -> str:
        return "action_eligibility_verdict"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        topic = tracker.get_slot("topic")
        try:
            programme = programme_slot(tracker)
            check = form_check_for(programme, topic)
            if check is None:
                dispatcher.utter_message(response="utter_what_can_i_do")
                return []
            verdict = run_check(tracker, check, programme, settings.today())
            send(dispatcher, verdict_reply(verdict, programme=programme, topic=topic))
        except (SQLAlchemyError, LookupError, ValueError) as error:
            say_unavailable(dispatcher, "action_eligibility_verdict", error)
        return []
