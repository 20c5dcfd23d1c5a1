"""The eligibility form through the real servers: it asks what the engine still needs, gives a verdict
with its reason, and can be abandoned. (Unit tests of the form cannot see Rasa's side of it: a
rasa-sdk method renamed between versions once left every answer uncleaned.)"""

from __future__ import annotations

import json
from datetime import date

import yaml

from tests.e2e.conftest import Server, texts
from visafaq.db.engine import make_engine
from visafaq.knowledge.queries import KnowledgeStore
from visafaq.settings import PROJECT_ROOT

CHECK_TITP = "/check_eligibility" + json.dumps({"programme": "titp"})


def domain_text(response: str) -> str:
    """The first text of a response in the domain (what the form says when it asks)."""
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        if response in responses:
            return str(responses[response][0]["text"])
    raise LookupError(response)


def test_the_form_asks_for_the_age_and_answers_with_the_rule(server: Server) -> None:
    asked = texts(server.say("e2e-form-age", CHECK_TITP))
    assert domain_text("utter_ask_age") in asked, asked
    verdict = texts(server.say("e2e-form-age", "I am seventeen"))
    knowledge = KnowledgeStore(make_engine(server.database_url))
    minimum = knowledge.parameter("titp.applicant.minimum_age", date(2026, 11, 24))
    assert verdict.startswith("No."), verdict
    assert "17" in verdict and str(minimum.value) in verdict
    assert "not a legal decision" in verdict


def test_the_form_can_be_abandoned_and_the_conversation_goes_on(server: Server) -> None:
    assert domain_text("utter_ask_age") in texts(server.say("e2e-form-stop", CHECK_TITP))
    stopped = texts(server.say("e2e-form-stop", "/stop"))
    assert stopped == domain_text("utter_stopped"), stopped
    after = texts(server.say("e2e-form-stop", "/ask_documents" + json.dumps({"programme": "titp"})))
    assert "Source" in after  # an ordinary answer again, not the form's next question
    assert domain_text("utter_ask_age") not in after


def test_asking_for_a_person_during_the_form_hands_over(server: Server) -> None:
    assert domain_text("utter_ask_age") in texts(server.say("e2e-form-human", CHECK_TITP))
    handed = texts(server.say("e2e-form-human", "/request_human"))
    assert domain_text("utter_ask_age") not in handed and "Please answer" not in handed, handed
    assert "request number" in handed, handed
