"""The eligibility form (validate_eligibility_form) and its verdict (action_eligibility_verdict).

The form asks only for what the eligibility engine still reports missing: the expected next question
is the engine's own answer, computed here from the same knowledge, never a list written in the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import Engine

from actions import ActionAnswer, ActionEligibilityVerdict, ValidateEligibilityForm
from actions.common import UNAVAILABLE
from actions.eligibility import IMPOSSIBLE_NUMBER
from tests.actions.conftest import SOURCE_LINE, TODAY, Turn, conversation, entity, in_form, payload, run
from visafaq.eligibility.registry import evaluate
from visafaq.eligibility.verdict import Outcome, Verdict
from visafaq.knowledge.queries import KnowledgeStore

APPLICANT = {"programme": "titp", "topic": "applicant_requirements"}
#: Every answer a Technical Intern Training applicant who qualifies gives.
QUALIFYING = {
    "age": 19,
    "good_health": True,
    "serious_criminal_record": False,
    "through_sending_organisation": True,
    "skills_hard_to_get_at_home": True,
    "simple_repetitive_work": False,
    "will_use_skills_at_home": True,
}


def engine_says(database: Engine, check: str, inputs: dict[str, Any]) -> Verdict:
    return evaluate(check, inputs, TODAY, KnowledgeStore(database).base)


def asked_next(turn: Turn) -> list[Any]:
    """The slots the form asks for next (a SlotSet of requested_slot to a name)."""
    return [e["value"] for e in turn.events if e.get("name") == "requested_slot" and e.get("value")]


def validate(tracker: Tracker, domain: dict[str, Any]) -> Turn:
    return run(ValidateEligibilityForm(), tracker, domain)


# --- the form -------------------------------------------------------------------------------


def test_the_form_really_has_no_fixed_questions(domain: dict[str, Any]) -> None:
    """The domain leaves the form's required slots to the validation action, which this relies on."""
    assert domain["forms"]["eligibility_form"]["required_slots"] == []
    assert "validate_eligibility_form" in domain["actions"]


def test_without_a_programme_the_form_asks_which_one(domain: dict[str, Any], database: Engine) -> None:
    turn = validate(in_form(domain, "am I eligible?", "check_eligibility", {}, asked=None), domain)
    assert asked_next(turn) == ["programme"]
    assert "utter_ask_programme" in domain["responses"]


def test_a_programme_answer_is_stored_as_its_id_and_the_check_starts(domain: dict[str, Any], database: Engine) -> None:
    said = [entity("PROGRAMME", "engineer visa", extractor="SpacyEntityExtractor")]
    tracker = in_form(
        domain, "the engineer visa", "inform", {"programme": "engineer visa"}, asked="programme", entities=said
    )
    turn = validate(tracker, domain)
    assert turn.slots["programme"] == "gijinkoku"
    expected = engine_says(database, "gijinkoku", {}).missing
    assert expected and asked_next(turn) == [expected[0]]
    assert f"utter_ask_{expected[0]}" in domain["responses"]


def test_a_programme_the_store_does_not_know_is_asked_again(domain: dict[str, Any], database: Engine) -> None:
    tracker = in_form(domain, "the cooking visa", "inform", {"programme": "cooking visa"}, asked="programme")
    turn = validate(tracker, domain)
    assert turn.slots["programme"] is None
    assert asked_next(turn) == ["programme"]


@pytest.mark.parametrize(("answer", "age"), [("19", 19), ("I am 19 years old", 19), ("nineteen", 19)])
def test_an_age_in_words_or_digits_becomes_a_number_and_the_next_missing_question_follows(
    domain: dict[str, Any], database: Engine, answer: str, age: int
) -> None:
    tracker = in_form(domain, answer, "inform", {"age": answer}, asked="age", slots=APPLICANT)
    turn = validate(tracker, domain)
    assert turn.slots["age"] == age
    missing = engine_says(database, "titp-applicant", {"age": age}).missing
    assert "age" not in missing
    assert asked_next(turn) == [missing[0]]
    assert turn.messages == []


def test_an_age_under_the_minimum_ends_the_questions(domain: dict[str, Any], database: Engine) -> None:
    tracker = in_form(domain, "I'm seventeen", "inform", {"age": "I'm seventeen"}, asked="age", slots=APPLICANT)
    turn = validate(tracker, domain)
    assert turn.slots == {"age": 17}
    assert engine_says(database, "titp-applicant", {"age": 17}).outcome is Outcome.NO
    assert asked_next(turn) == []  # a decided "no": nothing else to ask, the verdict follows


def test_only_what_is_still_missing_is_asked(domain: dict[str, Any], database: Engine) -> None:
    known = {"age": 25, "good_health": True, "serious_criminal_record": False}
    tracker = in_form(
        domain,
        "/affirm",
        "affirm",
        {"through_sending_organisation": True},
        asked="through_sending_organisation",
        slots={**APPLICANT, **known},
    )
    turn = validate(tracker, domain)
    assert turn.slots["through_sending_organisation"] is True
    missing = engine_says(database, "titp-applicant", {**known, "through_sending_organisation": True}).missing
    assert asked_next(turn) == [missing[0]]
    assert missing[0] not in {*known, "through_sending_organisation"}


def test_when_everything_is_known_the_form_asks_nothing_more(domain: dict[str, Any], database: Engine) -> None:
    last = "will_use_skills_at_home"
    slots = {**APPLICANT, **{k: v for k, v in QUALIFYING.items() if k != last}}
    turn = validate(in_form(domain, "/affirm", "affirm", {last: True}, asked=last, slots=slots), domain)
    assert turn.slots == {last: True}
    assert asked_next(turn) == []


def test_a_quota_conversation_checks_the_person_not_the_company(domain: dict[str, Any], database: Engine) -> None:
    tracker = in_form(
        domain, "am I eligible?", "check_eligibility", {}, asked=None, slots={"programme": "titp", "topic": "quota"}
    )
    turn = validate(tracker, domain)
    assert asked_next(turn) == [engine_says(database, "titp-applicant", {}).missing[0]]


@pytest.mark.parametrize("answer", ["old enough", "I don't know", "-17"])
def test_an_answer_without_a_usable_number_is_refused_and_asked_again(
    domain: dict[str, Any], database: Engine, answer: str
) -> None:
    turn = validate(in_form(domain, answer, "inform", {"age": answer}, asked="age", slots=APPLICANT), domain)
    assert turn.responses == ["utter_invalid_number"]
    assert turn.slots["age"] is None
    assert asked_next(turn) == ["age"]


@pytest.mark.parametrize(("slot", "answer"), [("age", "150"), ("age", "121 years")])
def test_a_number_no_rule_can_take_is_refused_and_asked_again(
    domain: dict[str, Any], database: Engine, slot: str, answer: str
) -> None:
    turn = validate(in_form(domain, answer, "inform", {slot: answer}, asked=slot, slots=APPLICANT), domain)
    assert turn.text == IMPOSSIBLE_NUMBER
    assert turn.slots[slot] is None
    assert asked_next(turn) == [slot]


def test_after_stopping_a_check_the_answers_so_far_still_count(domain: dict[str, Any], database: Engine) -> None:
    """ "stop" ends the form (a rule: action_deactivate_loop); a later message about one's age is
    answered with what is known, and a button to finish the check."""
    stopped = {**APPLICANT, "good_health": True, "requested_slot": None}
    tracker = conversation(domain, "I'm 19 now", "inform", [entity("age", "19")], slots=stopped)
    assert tracker.active_loop == {}
    turn = run(ActionAnswer(), tracker, domain)
    verdict = engine_says(database, "titp-applicant", {"age": 19, "good_health": True})
    assert verdict.outcome is Outcome.UNKNOWN
    assert "19" in turn.text and verdict.missing[0].replace("_", " ") in turn.text
    assert [payload(b) for b in turn.buttons] == [("check_eligibility", {"programme": "titp"})]
    assert turn.slots["topic"] == "applicant_requirements"


# --- the verdict ----------------------------------------------------------------------------


def rule_source_titles(database: Engine, rule_ids: list[str]) -> set[str]:
    base = KnowledgeStore(database).base
    return {base.sources[source].title for rule in rule_ids for source in base.rules[rule].sources}


def test_a_qualifying_applicant_gets_yes_with_reasons_and_sources(domain: dict[str, Any], database: Engine) -> None:
    turn = run(
        ActionEligibilityVerdict(), conversation(domain, "/affirm", "affirm", slots={**APPLICANT, **QUALIFYING}), domain
    )
    verdict = engine_says(database, "titp-applicant", QUALIFYING)
    assert verdict.outcome is Outcome.YES
    [message] = turn.messages
    text = str(message["text"])
    assert text.startswith("Yes.")
    assert "not a legal decision" in text
    shown = [r for r in verdict.reasons if r.detail in text]
    assert shown and all(r.passed for r in shown)
    last_line = text.splitlines()[-1]
    assert SOURCE_LINE.match(last_line)
    assert any(title in last_line for title in rule_source_titles(database, [r.rule for r in shown]))
    assert turn.events == []


def test_an_applicant_who_fails_a_rule_hears_which_rule_first(domain: dict[str, Any], database: Engine) -> None:
    answers = {**QUALIFYING, "age": 17, "simple_repetitive_work": True}
    turn = run(
        ActionEligibilityVerdict(), conversation(domain, "/deny", "deny", slots={**APPLICANT, **answers}), domain
    )
    verdict = engine_says(database, "titp-applicant", answers)
    failed = [r for r in verdict.reasons if not r.passed]
    assert verdict.outcome is Outcome.NO and len(failed) == 2
    first_paragraph = turn.text.split("\n\n")[0]
    assert first_paragraph.startswith("No.")
    for reason in failed:
        assert reason.detail in first_paragraph
        assert first_paragraph.index(reason.detail) < min(
            (first_paragraph.index(r.detail) for r in verdict.reasons if r.passed and r.detail in first_paragraph),
            default=len(first_paragraph),
        )
    assert SOURCE_LINE.match(turn.text.splitlines()[-1])


def test_a_verdict_on_part_of_the_answers_says_what_is_still_needed(domain: dict[str, Any], database: Engine) -> None:
    turn = run(ActionEligibilityVerdict(), conversation(domain, "stop", "stop", slots={**APPLICANT, "age": 30}), domain)
    verdict = engine_says(database, "titp-applicant", {"age": 30})
    assert verdict.outcome is Outcome.UNKNOWN
    assert turn.text.startswith("I can't tell yet.")
    assert verdict.missing[0].replace("_", " ") in turn.text
    assert [payload(b) for b in turn.buttons] == [("check_eligibility", {"programme": "titp"})]


def test_another_programme_runs_its_own_check(domain: dict[str, Any], database: Engine) -> None:
    slots = {"programme": "internship", "topic": "paid_work", "paid": True, "hours_per_week": 40}
    turn = run(ActionEligibilityVerdict(), conversation(domain, "/affirm", "affirm", slots=slots), domain)
    verdict = engine_says(database, "internship-permission", {"paid": True, "hours_per_week": 40})
    assert any(r.detail in turn.text for r in verdict.reasons)
    assert "40" in turn.text


def test_without_a_programme_there_is_no_verdict_to_give(domain: dict[str, Any], database: Engine) -> None:
    turn = run(ActionEligibilityVerdict(), conversation(domain, "am I eligible", "check_eligibility"), domain)
    assert turn.responses == ["utter_what_can_i_do"]


# --- the database down ----------------------------------------------------------------------


def test_when_the_database_is_down_the_verdict_says_so(domain: dict[str, Any], database_down: str) -> None:
    turn = run(
        ActionEligibilityVerdict(), conversation(domain, "/affirm", "affirm", slots={**APPLICANT, **QUALIFYING}), domain
    )
    assert turn.text == UNAVAILABLE
    assert turn.events == []


def test_when_the_database_is_down_the_form_stops_asking(domain: dict[str, Any], database_down: str) -> None:
    tracker = in_form(domain, "19", "inform", {"age": "19"}, asked="age", slots=APPLICANT)
    turn = validate(tracker, domain)
    assert asked_next(turn) == []  # the form ends; the verdict action then tells the user


def test_a_care_home_named_earlier_gets_the_nursing_care_quota(domain: dict[str, Any], database: Engine) -> None:
    # The care home is named in one message, the staff in the next: the quota check's nursing-care
    # input defaults to no, so the conversation's own words must carry it to the verdict.
    named = conversation(
        domain,
        "we run a care home and want technical interns",
        "ask_quota",
        [entity("FIELD", "care home", extractor="SpacyEntityExtractor")],
    )
    text = "we have 15 full-time staff, how many can we take?"
    slots = {"programme": "titp", "topic": "quota"}
    staff = [entity("staff_count", "15")]
    turn = run(ActionAnswer(), conversation(domain, text, "ask_quota", staff, slots=slots, events=named.events), domain)
    nursing = engine_says(database, "titp-quota", {"full_time_staff": 15, "nursing_care": True})
    assert nursing.value != engine_says(database, "titp-quota", {"full_time_staff": 15}).value
    assert nursing.reasons[0].detail in turn.text

    # A new session forgets it: the next company asking is not taken for the care home.
    later = [*named.events, {"event": "session_started", "timestamp": None}]
    ordinary = run(ActionAnswer(), conversation(domain, text, "ask_quota", staff, slots=slots, events=later), domain)
    assert "but nursing care" in ordinary.text
