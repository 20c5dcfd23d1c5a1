"""The nearest-example out-of-scope rule (nlu/nearest_example.py): trained on a few examples, saved
and loaded through Rasa's model storage, then asked about messages near and far from them. Runs in
the Rasa environment with the real MiniLM encoder."""

from __future__ import annotations

from typing import Any

from tests.rasa_env import run_in_rasa_env

SCRIPT = """
import json, sys, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.nearest_example import NearestExampleOutOfScopeClassifier as Rule

job = json.loads(sys.stdin.read())
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
examples = [Message.build(text=text, intent=intent) for text, intent in job["train"]]
training = TrainingData(examples)
tokenizer.process_training_data(training)
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
resource = Resource("nearest")
context = ExecutionContext(GraphSchema({}), "test")
config = {**Rule.get_default_config(), **job["config"]}
Rule.create(config, storage, resource, context).train(training)
rule = Rule.load(config, storage, resource, context)  # what the server does: from the stored model

out = []
for case in job["cases"]:
    message = Message.build(text=case["text"])
    tokenizer.process_training_data(TrainingData([message]))
    message.set("entities", case.get("entities", []))
    diet, confidence = case.get("diet", ["ask_processing_time", 0.9])
    ranking = [{"name": diet, "confidence": confidence}, {"name": "out_of_scope", "confidence": 0.05}]
    if confidence < 0.45:  # what the FallbackClassifier does before this component
        ranking.insert(0, {"name": "nlu_fallback", "confidence": 0.45})
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    rule.process([message])
    out.append({"intent": message.get("intent")["name"],
                "ranking": [i["name"] for i in message.get("intent_ranking")],
                "nearest": message.get("nearest_example")})
errors = []
for bad in ({"min_similarity": "high"}, {"out_of_scope_margin": None}, {"vote_k": 0}, {"vote_share": "most"},
            {"confident_above": "yes"}):
    try:
        Rule({**Rule.get_default_config(), **bad}, storage, resource)
    except ValueError as error:
        errors.append(str(error))
print(json.dumps({"cases": out, "errors": errors}))
"""

TRAIN = [
    ("how long does the certificate of eligibility take", "ask_processing_time"),
    ("how many months until immigration approves my visa", "ask_processing_time"),
    ("what documents do i need for the trainee visa", "ask_documents"),
    ("can my wife and children come with me to japan", "ask_family"),
    ("what is my credit card limit", "out_of_scope"),
    ("play some music for me", "out_of_scope"),
    ("what is the weather like tomorrow", "out_of_scope"),
]


def run(cases: list[dict[str, Any]], config: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = run_in_rasa_env(SCRIPT, {"train": TRAIN, "config": config or {}, "cases": cases})
    return result


def test_messages_near_our_examples_keep_their_intent_and_others_are_out_of_scope() -> None:
    cases: list[dict[str, Any]] = [
        {"text": "how long does it take to get the certificate of eligibility"},
        {"text": "can my children join me in japan"},
        {"text": "how high is the limit on my credit card"},
        {"text": "recommend a good pizza place near the station"},
        # Named a programme: ours, whatever it resembles.
        {"text": "recommend a pizza place for SSW", "entities": [{"entity": "PROGRAMME", "start": 27, "end": 30}]},
        # A button's intent payload is not a question to compare.
        {"text": "/affirm"},
    ]
    result = run(cases)
    intents = [case["intent"] for case in result["cases"]]
    assert intents == [
        "ask_processing_time",
        "ask_processing_time",
        "out_of_scope",
        "out_of_scope",
        "ask_processing_time",
        "ask_processing_time",
    ]
    near, _family, credit, _pizza, named, payload = result["cases"]
    assert near["nearest"]["in_scope"] > 0.8 and not near["nearest"]["decided"]
    # Nearer to the credit-card example than to any of ours: out of scope, DIET's ranking kept below.
    assert credit["nearest"]["out_of_scope"] > credit["nearest"]["in_scope"]
    assert credit["ranking"] == ["out_of_scope", "ask_processing_time", "out_of_scope"]
    assert credit["nearest"]["decided"] == "out_of_scope"
    assert named["nearest"]["exempt"] is True and named["nearest"]["decided"] is False
    assert payload["nearest"] is None


def test_the_minimum_similarity_is_the_config_s() -> None:
    # At 0.99 nothing but an exact example is near enough.
    result = run([{"text": "can my children join me in japan"}], {"min_similarity": 0.99})
    assert result["cases"][0]["intent"] == "out_of_scope"


def test_a_sure_classifier_keeps_a_message_unlike_our_examples_unless_an_out_of_scope_one_is_nearer() -> None:
    family = "can my children join me in japan"
    cases: list[dict[str, Any]] = [
        {"text": family, "diet": ["ask_family", 0.97]},  # sure: the similarity floor gives way
        {"text": family, "diet": ["ask_family", 0.9]},  # below confident_above: the floor holds
        {"text": "how high is the limit on my credit card", "diet": ["ask_family", 0.97]},
    ]
    result = run(cases, {"min_similarity": 0.99, "confident_above": 0.95})
    sure, unsure, credit = result["cases"]
    assert sure["intent"] == "ask_family" and sure["nearest"]["decided"] is False
    assert unsure["intent"] == "out_of_scope" and unsure["nearest"]["decided"] == "out_of_scope"
    # Nearer to an out-of-scope example than to any of ours: declined however sure DIET is.
    assert credit["intent"] == "out_of_scope"


def test_when_diet_is_unsure_the_nearest_examples_vote_for_the_intent() -> None:
    family = "can my children come with me to japan"
    cases: list[dict[str, Any]] = [
        # Unsure (the FallbackClassifier said "not sure"): the nearest examples are family ones.
        {"text": family, "diet": ["ask_documents", 0.3]},
        # Sure: DIET's answer stands.
        {"text": family, "diet": ["ask_documents", 0.9]},
        # DIET's own out_of_scope is never overruled.
        {"text": family, "diet": ["out_of_scope", 0.3]},
    ]
    result = run(cases, {"vote_below": 0.5, "vote_k": 1, "vote_share": 0.6})
    unsure, sure, declined = result["cases"]
    assert unsure["intent"] == "ask_family"
    assert unsure["nearest"]["decided"] == "vote" and unsure["nearest"]["vote"]["intent"] == "ask_family"
    assert unsure["ranking"][:3] == ["ask_family", "nlu_fallback", "ask_documents"]
    assert sure["intent"] == "ask_documents" and sure["nearest"]["decided"] is False
    assert declined["intent"] == "nlu_fallback" and declined["nearest"]["decided"] is False


def test_a_split_vote_leaves_diet_s_answer() -> None:
    # Among the three nearest examples, the family one has about a third of the votes.
    result = run(
        [{"text": "can my children come with me to japan", "diet": ["ask_documents", 0.3]}],
        {"vote_below": 0.5, "vote_k": 3, "vote_share": 0.9},
    )
    case = result["cases"][0]
    assert case["intent"] == "nlu_fallback"
    assert case["nearest"]["vote"]["share"] < 0.9 and case["nearest"]["decided"] is False


def test_settings_that_are_not_numbers_are_refused_with_their_name() -> None:
    errors = run([])["errors"]
    assert len(errors) == 5
    assert "`min_similarity` must be a number, got 'high'" in errors[0]
    assert "`out_of_scope_margin` must be a number, got None" in errors[1]
    assert "`vote_k` must be a whole number from 1, got 0" in errors[2]
    assert "`vote_share` must be a number, got 'most'" in errors[3]
    assert "`confident_above` must be a number or null, got 'yes'" in errors[4]


def test_diet_s_out_of_scope_on_a_message_naming_a_programme_becomes_unsure() -> None:
    named = {"entity": "PROGRAMME", "start": 32, "end": 35}
    cases: list[dict[str, Any]] = [
        {"text": "what is the point of it, who is SSW for", "entities": [named], "diet": ["out_of_scope", 0.99]},
        {"text": "what is the point of it, who is it for", "diet": ["out_of_scope", 0.99]},
    ]
    named_case, unnamed = run(cases)["cases"]
    # Ours, since it names our programme, but DIET has no topic for it: the fallback asks.
    assert named_case["intent"] == "nlu_fallback" and named_case["nearest"]["decided"] == "unsure"
    assert named_case["ranking"][:2] == ["nlu_fallback", "out_of_scope"]  # DIET's ranking kept below
    assert unnamed["intent"] == "out_of_scope" and unnamed["nearest"]["decided"] is False
