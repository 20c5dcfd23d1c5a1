"""Out of scope by nearest example: a question unlike anything we trained on is not ours to answer.

Why: DIET must spread its confidence over the intents it knows, so an everyday question ("what's my
credit limit", "is cnn fake news") often lands on some topic with a confidence above the
FallbackClassifier's threshold. A sentence encoder says more directly whether the question resembles
our examples: this component embeds every training example with all-MiniLM-L6-v2 (nlu/minilm.py) and,
for each message, finds the most similar in-scope example and the most similar `out_of_scope` one.
The message is out of scope when nothing in scope is similar enough (`min_similarity`), or when an
out-of-scope example is closer than every in-scope one by more than `out_of_scope_margin`.

The similarity floor gives way when the classifiers are sure (`confident_above`, on the top intent's
confidence: DIET's, or its blend): "explain the stages no.1 no.2 no.3" is like no example closely
enough, yet DIET puts 0.99 on `ask_stages`, and everyday questions rarely get such a confidence. An
out-of-scope example nearer than every in-scope one still declines the message. `null`: no exception.

A message in which the spaCy entity ruler found a programme name (`keep_when_entities`) is ours,
whatever it resembles: when DIET itself said `out_of_scope` to one ("what is the point of the
technical intern programme, who is it for"), it becomes `nlu_fallback`, so the person gets the closest
topics (and a likely answer) instead of being told the assistant does not cover what they named.

It also has a say when the classifiers are unsure. Below `vote_below` of the top intent's confidence
(DIET's, or its blend with the embedding classifier's in nlu/intent_blend.py; where the
FallbackClassifier would say "I'm not sure", or nearly), the `vote_k` most similar in-scope examples
vote for their intents, each with its similarity; when the winner has at least `vote_share` of the
votes, it is the intent. Why: DIET learns from words it has seen, and a question worded unlike any of
its examples gets a low confidence spread over several topics, while the sentence encoder still
places it near the examples that mean the same. `vote_below: 0` leaves DIET's intents as they are.

The similarities and the vote go to the parse output (`nearest_example`), which
benchmarks/tune_fallback.py replays to choose every setting on tuning data.

Used in config.yml as `nlu.nearest_example.NearestExampleOutOfScopeClassifier`, after the tokenizer
(it embeds the tokens the pipeline made) and after the FallbackClassifier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME as FALLBACK_INTENT
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.decision import decide
from nlu.minilm import MiniLMEncoder, shared_encoder
from nlu.minilm_component import MiniLMComponent

logger = logging.getLogger(__name__)

OUTPUT_KEY = "nearest_example"
VECTORS_FILE = "examples.npz"
INTENT_KEY = "out_of_scope_intent"
MIN_SIMILARITY_KEY = "min_similarity"
MARGIN_KEY = "out_of_scope_margin"
KEEP_KEY = "keep_when_entities"
VOTE_K_KEY = "vote_k"
VOTE_BELOW_KEY = "vote_below"
VOTE_SHARE_KEY = "vote_share"
CONFIDENT_KEY = "confident_above"
#: What the component decided, in the parse output (False: nothing).
DECIDED_OUT_OF_SCOPE = "out_of_scope"
DECIDED_BY_VOTE = "vote"
DECIDED_UNSURE = "unsure"


@dataclass(frozen=True)
class Nearest:
    """A message seen from the training examples: cosine similarity to the nearest in-scope one
    (`inside`) and the nearest out-of-scope one (`outside`), and the nearest in-scope examples' vote."""

    inside: float
    outside: float
    vote: str
    vote_share: float

    def out_of_scope_confidence(self, margin: float) -> float:
        """How sure "out of scope" is: the likeness to the out-of-scope example, or how unlike our
        examples the message is."""
        return self.outside if self.outside > self.inside + margin else 1.0 - self.inside


def diet_top(message: Message) -> tuple[str, float]:
    """The classifiers' top intent and confidence (DIET's, or its blend with the embedding
    classifier's), under any fallback the FallbackClassifier put on top."""
    for item in message.get(INTENT_RANKING_KEY) or []:
        if item.get(INTENT_NAME_KEY) != FALLBACK_INTENT:
            return str(item.get(INTENT_NAME_KEY)), float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return "", 0.0


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NearestExampleOutOfScopeClassifier(MiniLMComponent, IntentClassifier):
    """Sets `out_of_scope` on messages that resemble no in-scope training example."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            INTENT_KEY: "out_of_scope",
            MIN_SIMILARITY_KEY: 0.5,
            MARGIN_KEY: 0.0,
            KEEP_KEY: ["PROGRAMME"],
            VOTE_K_KEY: 5,
            VOTE_BELOW_KEY: 0.0,
            VOTE_SHARE_KEY: 0.6,
            CONFIDENT_KEY: None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        encoder: MiniLMEncoder | None = None,
        in_scope: np.ndarray | None = None,
        out_of_scope: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        for key in (MIN_SIMILARITY_KEY, MARGIN_KEY, VOTE_BELOW_KEY, VOTE_SHARE_KEY):
            if isinstance(config.get(key), bool) or not isinstance(config.get(key), (int, float)):
                raise ValueError(f"{type(self).__name__}: `{key}` must be a number, got {config.get(key)!r}")
        confident = config.get(CONFIDENT_KEY)
        if confident is not None and (isinstance(confident, bool) or not isinstance(confident, (int, float))):
            raise ValueError(f"{type(self).__name__}: `{CONFIDENT_KEY}` must be a number or null, got {confident!r}")
        vote_k = config.get(VOTE_K_KEY)
        if isinstance(vote_k, bool) or not isinstance(vote_k, int) or vote_k < 1:
            raise ValueError(f"{type(self).__name__}: `{VOTE_K_KEY}` must be a whole number from 1, got {vote_k!r}")
        self.out_of_scope_intent = str(config[INTENT_KEY])
        self.min_similarity = float(config[MIN_SIMILARITY_KEY])
        self.margin = float(config[MARGIN_KEY])
        self.keep_when = frozenset(str(name) for name in config[KEEP_KEY])
        self.vote_k = vote_k
        self.vote_below = float(config[VOTE_BELOW_KEY])
        self.vote_share = float(config[VOTE_SHARE_KEY])
        self.confident_above = float(confident) if confident is not None else None
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder
        empty = np.zeros((0, 0), np.float32)
        self.in_scope = in_scope if in_scope is not None else empty
        self.out_of_scope = out_of_scope if out_of_scope is not None else empty
        #: The intent of each row of `in_scope`.
        self.labels = labels if labels is not None else np.zeros((0,), np.str_)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GraphComponent:
        # The encoder is loaded with the model, so a missing package stops start-up with its reason.
        with model_storage.read_from(resource) as directory, np.load(directory / VECTORS_FILE) as stored:
            in_scope, out_of_scope = stored["in_scope"], stored["out_of_scope"]
            labels = stored["labels"] if "labels" in stored.files else None  # None: trained before the vote
        return cls(config, model_storage, resource, shared_encoder(), in_scope, out_of_scope, labels)

    def train(self, training_data: TrainingData) -> Resource:
        inside: list[np.ndarray] = []
        outside: list[np.ndarray] = []
        labels: list[str] = []
        for example in training_data.intent_examples:
            vector = self.sentence_vector(example)
            if vector is None:
                continue
            if example.get(INTENT) == self.out_of_scope_intent:
                outside.append(vector)
            else:
                inside.append(vector)
                labels.append(str(example.get(INTENT)))
        dimension = self.encoder.dimension
        self.in_scope = np.stack(inside) if inside else np.zeros((0, dimension), np.float32)
        self.out_of_scope = np.stack(outside) if outside else np.zeros((0, dimension), np.float32)
        self.labels = np.array(labels, dtype=np.str_)
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / VECTORS_FILE, in_scope=self.in_scope, out_of_scope=self.out_of_scope, labels=self.labels
            )
        logger.info(f"Embedded {len(inside)} in-scope and {len(outside)} out-of-scope examples.")
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            nearest = self.nearest(message)
            if nearest is None:
                continue
            exempt = self._keep(message)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            top_intent, top_confidence = diet_top(message)
            decided: str | bool = False
            if exempt and current == self.out_of_scope_intent:
                decided = DECIDED_UNSURE
            elif not exempt and current != self.out_of_scope_intent and self.is_out_of_scope(nearest, top_confidence):
                decided = DECIDED_OUT_OF_SCOPE
            elif self.vote_decides(nearest, current, top_intent, top_confidence):
                decided = DECIDED_BY_VOTE
            message.set(
                OUTPUT_KEY,
                {
                    "in_scope": nearest.inside,
                    "out_of_scope": nearest.outside,
                    "vote": {"intent": nearest.vote, "share": nearest.vote_share},
                    "exempt": exempt,
                    "decided": decided,
                },
                add_to_output=True,
            )
            # DIET's ranking stays below a decision, as it was (benchmarks/tune_fallback.py replays it).
            if decided == DECIDED_OUT_OF_SCOPE:
                decide(
                    message, self.out_of_scope_intent, nearest.out_of_scope_confidence(self.margin), keep_ranking=True
                )
            elif decided == DECIDED_BY_VOTE:
                decide(message, nearest.vote, nearest.vote_share, keep_ranking=True)
            elif decided == DECIDED_UNSURE:
                confidence = float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                decide(message, FALLBACK_INTENT, 1.0 - confidence, keep_ranking=True)
        return messages

    def is_out_of_scope(self, nearest: Nearest, confidence: float) -> bool:
        """The rule, given the best similarities to in-scope and to out-of-scope examples and the
        classifiers' confidence in their top intent."""
        sure = self.confident_above is not None and confidence >= self.confident_above
        unlike_ours = nearest.inside < self.min_similarity and not sure
        return unlike_ours or nearest.outside > nearest.inside + self.margin

    def vote_decides(self, nearest: Nearest, current: str | None, diet_intent: str, diet_confidence: float) -> bool:
        """Whether the nearest examples' vote overrules DIET (never its `out_of_scope`)."""
        if self.out_of_scope_intent in (current, diet_intent):
            return False
        return diet_confidence < self.vote_below and bool(nearest.vote) and nearest.vote_share >= self.vote_share

    def nearest(self, message: Message) -> Nearest | None:
        """How near the message is to the training examples (None: an intent payload such as
        "/affirm", or no words, or an untrained component)."""
        text = message.get(TEXT) or ""
        if text.startswith("/") or not self.in_scope.size:
            return None
        vector = self.sentence_vector(message)
        if vector is None:
            return None
        similarities = self.in_scope @ vector
        outside = float(np.max(self.out_of_scope @ vector)) if self.out_of_scope.size else -1.0
        vote, share = self._vote(similarities)
        return Nearest(round(float(np.max(similarities)), 4), round(outside, 4), vote, round(share, 4))

    def _vote(self, similarities: np.ndarray) -> tuple[str, float]:
        """The intent most of the `vote_k` nearest in-scope examples have, weighed by similarity,
        and its share of the votes ("" without labels: a model trained before the vote existed)."""
        if len(self.labels) != len(similarities):
            return "", 0.0
        k = min(self.vote_k, len(similarities))
        nearest = np.argpartition(-similarities, k - 1)[:k]
        votes: dict[str, float] = {}
        for row in nearest:
            votes[str(self.labels[row])] = votes.get(str(self.labels[row]), 0.0) + max(float(similarities[row]), 0.0)
        total = sum(votes.values())
        if total <= 0:
            return "", 0.0
        winner = max(votes, key=lambda intent: votes[intent])
        return winner, votes[winner] / total

    def _keep(self, message: Message) -> bool:
        return any(entity.get(ENTITY_ATTRIBUTE_TYPE) in self.keep_when for entity in message.get(ENTITIES) or [])
