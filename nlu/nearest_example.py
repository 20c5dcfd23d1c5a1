"""Out of scope by nearest example: a question unlike anything we trained on is not ours to answer.

Why: DIET must spread its confidence over the intents it knows, so an everyday question ("what's my
credit limit", "is cnn fake news") often lands on some topic with a confidence above the
FallbackClassifier's threshold. A sentence encoder says more directly whether the question resembles
our examples: this component embeds every training example with all-MiniLM-L6-v2 (nlu/minilm.py) and,
for each message, finds the most similar in-scope example and the most similar `out_of_scope` one.
The message is out of scope when nothing in scope is similar enough (`min_similarity`), or when an
out-of-scope example is closer than every in-scope one by more than `out_of_scope_margin`.

It only ever adds `out_of_scope`: it never picks a topic, so DIET's answers are unchanged elsewhere.
A message in which the spaCy entity ruler found a programme name (`keep_when_entities`) is ours,
whatever it resembles. The two similarities go to the parse output (`nearest_example`), which
benchmarks/tune_fallback.py uses to choose both settings on tuning data.

Used in config.yml as `nlu.nearest_example.NearestExampleOutOfScopeClassifier`, after the tokenizer
(it embeds the tokens the pipeline made) and after the FallbackClassifier.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.decision import decide
from nlu.minilm import REQUIRED_PACKAGES, MiniLMEncoder, shared_encoder

logger = logging.getLogger(__name__)

OUTPUT_KEY = "nearest_example"
VECTORS_FILE = "examples.npz"
INTENT_KEY = "out_of_scope_intent"
MIN_SIMILARITY_KEY = "min_similarity"
MARGIN_KEY = "out_of_scope_margin"
KEEP_KEY = "keep_when_entities"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NearestExampleOutOfScopeClassifier(GraphComponent, IntentClassifier):
    """Sets `out_of_scope` on messages that resemble no in-scope training example."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return list(REQUIRED_PACKAGES)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {INTENT_KEY: "out_of_scope", MIN_SIMILARITY_KEY: 0.5, MARGIN_KEY: 0.0, KEEP_KEY: ["PROGRAMME"]}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        encoder: MiniLMEncoder | None = None,
        in_scope: np.ndarray | None = None,
        out_of_scope: np.ndarray | None = None,
    ) -> None:
        for key in (MIN_SIMILARITY_KEY, MARGIN_KEY):
            if isinstance(config.get(key), bool) or not isinstance(config.get(key), (int, float)):
                raise ValueError(f"{type(self).__name__}: `{key}` must be a number, got {config.get(key)!r}")
        self.out_of_scope_intent = str(config[INTENT_KEY])
        self.min_similarity = float(config[MIN_SIMILARITY_KEY])
        self.margin = float(config[MARGIN_KEY])
        self.keep_when = frozenset(str(name) for name in config[KEEP_KEY])
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder
        empty = np.zeros((0, 0), np.float32)
        self.in_scope = in_scope if in_scope is not None else empty
        self.out_of_scope = out_of_scope if out_of_scope is not None else empty

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, model_storage, resource, shared_encoder())

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
        return cls(config, model_storage, resource, shared_encoder(), in_scope, out_of_scope)

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    def train(self, training_data: TrainingData) -> Resource:
        inside: list[np.ndarray] = []
        outside: list[np.ndarray] = []
        for example in training_data.intent_examples:
            vector = self._embed(example)
            if vector is not None:
                (outside if example.get(INTENT) == self.out_of_scope_intent else inside).append(vector)
        dimension = self.encoder.dimension
        self.in_scope = np.stack(inside) if inside else np.zeros((0, dimension), np.float32)
        self.out_of_scope = np.stack(outside) if outside else np.zeros((0, dimension), np.float32)
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / VECTORS_FILE, in_scope=self.in_scope, out_of_scope=self.out_of_scope)
        logger.info(f"Embedded {len(inside)} in-scope and {len(outside)} out-of-scope examples.")
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            nearest = self.nearest(message)
            if nearest is None:
                continue
            inside, outside = nearest
            exempt = self._keep(message)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            decides = not exempt and current != self.out_of_scope_intent and self.is_out_of_scope(inside, outside)
            message.set(
                OUTPUT_KEY,
                {"in_scope": inside, "out_of_scope": outside, "exempt": exempt, "decided": decides},
                add_to_output=True,
            )
            if not decides:
                continue
            # How sure: the likeness to the out-of-scope example, or how unlike our examples it is.
            confidence = outside if outside > inside + self.margin else 1.0 - inside
            # DIET's ranking stays below the decision, as it was (benchmarks/tune_fallback.py replays it).
            decide(message, self.out_of_scope_intent, confidence, keep_ranking=True)
        return messages

    def is_out_of_scope(self, inside: float, outside: float) -> bool:
        """The rule, given the best similarities to in-scope and to out-of-scope examples."""
        return inside < self.min_similarity or outside > inside + self.margin

    def nearest(self, message: Message) -> tuple[float, float] | None:
        """Cosine similarity of the message to its nearest in-scope and out-of-scope examples (None:
        an intent payload such as "/affirm", or no words, or an untrained component)."""
        text = message.get(TEXT) or ""
        if text.startswith("/") or not self.in_scope.size:
            return None
        vector = self._embed(message)
        if vector is None:
            return None
        inside = float(np.max(self.in_scope @ vector))
        outside = float(np.max(self.out_of_scope @ vector)) if self.out_of_scope.size else -1.0
        return round(inside, 4), round(outside, 4)

    def _keep(self, message: Message) -> bool:
        return any(entity.get(ENTITY_ATTRIBUTE_TYPE) in self.keep_when for entity in message.get(ENTITIES) or [])

    def _embed(self, message: Message) -> np.ndarray | None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        if not tokens:
            return None
        _, sentence = self.encoder.embed_words([token.text for token in tokens])
        return sentence
