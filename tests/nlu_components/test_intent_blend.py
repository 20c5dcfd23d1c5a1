"""The intent blend (nlu/intent_blend.py): a logistic regression on MiniLM sentence embeddings,
trained on a few examples, saved and loaded through Rasa's model storage, then blended with DIET
rankings given by each case. Runs in the Rasa environment with the real MiniLM encoder."""

from __future__ import annotations

from typing import Any

from tests.rasa_env import run_in_rasa_env

SCRIPT = """
import json, sys, tempfile
from pathlib import Path
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.intent_blend import EmbeddingIntentBlender as Blender
from nlu.minilm_component import SENTENCE_VECTOR
from nlu.nearest_example import NearestExampleOutOfScopeClassifier as Nearest
from nlu.minilm import shared_encoder

job = json.loads(sys.stdin.read())
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
examples = [Message.build(text=text, intent=intent) for text, intent in job["train"]]
training = TrainingData(examples)
tokenizer.process_training_data(training)
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test")
config = {**Blender.get_default_config(), **job["config"]}
Blender.create(config, storage, Resource("blend"), context).train(training)
blender = Blender.load(config, storage, Resource("blend"), context)  # as the server loads it
nearest_config = Nearest.get_default_config()
Nearest.create(nearest_config, storage, Resource("nearest"), context).train(training)
nearest = Nearest.load(nearest_config, storage, Resource("nearest"), context)

# Count the encoder's work, to see that the nearest-example rule reuses the blender's vector.
encoder = shared_encoder()
encoded = []
original = encoder.embed_words
encoder.embed_words = lambda words: (encoded.append(list(words)), original(words))[1]

out = []
for case in job["cases"]:
    message = Message.build(text=case["text"])
    tokenizer.process_training_data(TrainingData([message]))
    ranking = [{"name": name, "confidence": confidence} for name, confidence in case["diet"]]
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    encoded.clear()
    blender.process([message])
    nearest.process([message])
    out.append({
        "intent": message.get("intent"),
        "ranking": message.get("intent_ranking"),
        "diet_intent": message.get("diet_intent"),
        "encoded": len(encoded),
        "kept_vector": message.get(SENTENCE_VECTOR) is not None,
        "in_output": "minilm_sentence_vector" in message.as_dict(only_output_properties=True),
    })

# The stored weights give what scikit-learn's own classifier gives.
from sklearn.linear_model import LogisticRegression
vectors = np.stack([m.get(SENTENCE_VECTOR) for m in training.intent_examples])
reference = LogisticRegression(C=config["regularisation"], max_iter=3000).fit(
    vectors, [m.get("intent") for m in training.intent_examples])
probe = vectors[0]
ours = blender.probabilities(probe)
theirs = dict(zip(reference.classes_, reference.predict_proba(probe[None, :])[0]))
largest_difference = max(abs(ours[k] - float(theirs[k])) for k in theirs)

errors = []
for bad in ({"embedding_weight": 1.5}, {"embedding_weight": "most"}, {"regularisation": 0}, {"ranking_length": 0}):
    try:
        Blender({**Blender.get_default_config(), **bad}, storage, Resource("bad"))
    except ValueError as error:
        errors.append(str(error))
print(json.dumps({"cases": out, "errors": errors, "largest_difference": largest_difference}))
"""

TRAIN = [
    ("how long does the certificate of eligibility take", "ask_processing_time"),
    ("how many months until immigration approves my visa", "ask_processing_time"),
    ("how many weeks is the wait for the coe", "ask_processing_time"),
    ("what documents do i need for the trainee visa", "ask_documents"),
    ("which papers must i send with my application", "ask_documents"),
    ("what forms does the company have to submit", "ask_documents"),
    ("can my wife and children come with me to japan", "ask_family"),
    ("can i bring my family along", "ask_family"),
    ("what is my credit card limit", "out_of_scope"),
    ("play some music for me", "out_of_scope"),
]

#: A paraphrase of the processing-time examples that shares words with the documents ones.
PARAPHRASE = "how many weeks until the documents for my certificate of eligibility are approved"


def run(cases: list[dict[str, Any]], config: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = run_in_rasa_env(SCRIPT, {"train": TRAIN, "config": config or {}, "cases": cases})
    return result


def test_the_embedding_classifier_overrules_diet_when_diet_is_unsure_and_the_meaning_is_clear() -> None:
    unsure_wrong = [("ask_documents", 0.5), ("ask_processing_time", 0.35), ("ask_family", 0.15)]
    overruled = run([{"text": PARAPHRASE, "diet": unsure_wrong}])["cases"][0]
    assert overruled["intent"]["name"] == "ask_processing_time"
    assert overruled["diet_intent"] == {"name": "ask_documents", "confidence": 0.5}  # DIET's own, for staff
    confidences = [item["confidence"] for item in overruled["ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert abs(sum(confidences) - 1.0) < 0.01


def test_weight_zero_leaves_diet_s_order() -> None:
    diet = [("ask_documents", 0.5), ("ask_processing_time", 0.35), ("ask_family", 0.15)]
    case = run([{"text": PARAPHRASE, "diet": diet}], {"embedding_weight": 0.0})["cases"][0]
    assert [item["name"] for item in case["ranking"][:3]] == ["ask_documents", "ask_processing_time", "ask_family"]
    assert abs(case["intent"]["confidence"] - 0.5) < 0.01


def test_the_message_is_encoded_once_for_both_minilm_components_and_the_vector_stays_out_of_the_output() -> None:
    case = run([{"text": PARAPHRASE, "diet": [("ask_documents", 0.6), ("ask_processing_time", 0.4)]}])["cases"][0]
    assert case["encoded"] == 1
    assert case["kept_vector"] is True and case["in_output"] is False


def test_an_intent_payload_is_left_alone() -> None:
    case = run([{"text": "/affirm", "diet": [("affirm", 1.0)]}])["cases"][0]
    assert case["intent"] == {"name": "affirm", "confidence": 1.0}
    assert case["diet_intent"] is None and case["encoded"] == 0


def test_the_stored_classifier_gives_scikit_learn_s_probabilities() -> None:
    assert run([])["largest_difference"] < 1e-4


def test_bad_settings_are_refused_with_their_name() -> None:
    errors = run([])["errors"]
    assert len(errors) == 4
    assert "`embedding_weight` must be a number from 0 to 1, got 1.5" in errors[0]
    assert "`embedding_weight` must be a number from 0 to 1, got 'most'" in errors[1]
    assert "`regularisation` must be a number above 0, got 0" in errors[2]
    assert "`ranking_length` must be a whole number from 1, got 0" in errors[3]
