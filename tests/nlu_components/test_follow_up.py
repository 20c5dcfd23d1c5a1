"""The rule that a message naming only a programme is a follow-up (nlu/follow_up.py).

Runs in the Rasa environment: messages are tokenized by Rasa's whitespace tokenizer, and their
programme entities are given as an extractor would have found them."""

from __future__ import annotations

from typing import Any

import yaml

from tests.rasa_env import run_in_rasa_env
from visafaq.settings import PROJECT_ROOT

CLASSIFY = """
import json, sys
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.follow_up import ProgrammeFollowUpClassifier
job = json.loads(sys.stdin.read())
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
classifier = ProgrammeFollowUpClassifier({**ProgrammeFollowUpClassifier.get_default_config(), **job["config"]})
out = []
for case in job["cases"]:
    message = Message.build(text=case["text"])
    tokenizer.process_training_data(TrainingData([message]))
    entities = []
    for kind, name in case["entities"]:
        start = case["text"].index(name)
        entities.append({"entity": kind, "start": start, "end": start + len(name), "value": name})
    message.set("entities", entities)
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.45})
    message.set("intent_ranking", [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "inform", "confidence": 0.21},
                                   {"name": "ask_documents", "confidence": 0.2}])
    classifier.process([message])
    out.append({"intent": message.get("intent")["name"], "ranking": [i["name"] for i in message.get("intent_ranking")]})
print(json.dumps(out))
"""


def shipped_config() -> dict[str, Any]:
    """The component's settings as config.yml has them, so the test checks the words we ship."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    (component,) = [c for c in config["pipeline"] if c["name"] == "nlu.follow_up.ProgrammeFollowUpClassifier"]
    return {key: value for key, value in component.items() if key != "name"}


def classify(cases: list[tuple[str, list[tuple[str, str]]]]) -> list[dict[str, Any]]:
    payload = {"config": shipped_config(), "cases": [{"text": t, "entities": e} for t, e in cases]}
    result: list[dict[str, Any]] = run_in_rasa_env(CLASSIFY, payload)
    return result


def test_a_programme_with_connecting_words_is_a_follow_up() -> None:
    follow_ups = [
        ("and for the trainee visa?", [("programme", "trainee visa")]),
        ("What about SSW", [("PROGRAMME", "SSW")]),
        # DIET and the entity ruler found overlapping spans of the same name: still one programme.
        ("how about the engineer visa ?", [("programme", "engineer"), ("PROGRAMME", "engineer visa")]),
        ("gijinkoku", [("PROGRAMME", "gijinkoku")]),
        ("same question for TITP please 🙏", [("programme", "TITP")]),
    ]
    for (text, _), result in zip(follow_ups, classify(follow_ups), strict=True):
        assert result["intent"] == "inform", text
        # The decided intent leads the ranking once; the rest keeps DIET's order.
        assert result["ranking"] == ["inform", "nlu_fallback", "ask_documents"], text


def test_a_question_with_topic_words_or_two_programmes_is_left_alone() -> None:
    others = [
        ("what documents for SSW?", [("programme", "SSW")]),
        ("and for the trainee visa how long does it take", [("programme", "trainee visa")]),
        ("SSW or TITP?", [("programme", "SSW"), ("programme", "TITP")]),
        ("and for my brother?", []),
        # An entity of another type is not a programme.
        ("and for construction?", [("field", "construction")]),
    ]
    for (text, _), result in zip(others, classify(others), strict=True):
        assert result["intent"] == "nlu_fallback", text
        assert result["ranking"][0] == "nlu_fallback", text
