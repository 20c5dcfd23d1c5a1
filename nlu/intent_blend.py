"""DIET's intent ranking blended with a classifier on MiniLM sentence embeddings.

Why: DIET learns words and word pieces from our own examples, a hundred or so per topic, so a
question worded unlike them lands on a topic that shares its words, often with confidence. A linear
classifier on all-MiniLM-L6-v2 sentence embeddings (nlu/minilm.py) sees paraphrases as near, but
misses the exact terms DIET keys on ("CoE", "3go"). Each is right where the other is wrong often
enough that a blend of the two beats either: on the tuning sets (benchmarks/tuning/), top intents
right 84% for DIET alone and 89% for the embedding classifier alone; blended, with the fallback
thresholds chosen again, more questions kept on their topic and fewer confident wrong ones.

The blend is a weighted geometric mean of the two probability distributions, renormalised:
    p(intent) ~ p_embedding(intent) ** embedding_weight * p_diet(intent) ** (1 - embedding_weight)
DIET reports only its `ranking_length` best intents; the others count as nearly impossible for it.
The classifier is scikit-learn's multinomial logistic regression, trained on the same intent
examples as DIET (out_of_scope included) and stored as plain arrays (no pickle in the model).

Used in config.yml as `nlu.intent_blend.EmbeddingIntentBlender`, after DIETClassifier and before the
FallbackClassifier, which then decides "I'm not sure" on the blended confidence. The sentence vector
it computes stays on the message (nlu/minilm_component.py) so the nearest-example rule after it does not
encode the message again. DIET's own top intent goes to the parse output (`diet_intent`) for staff
and for benchmarks/tune_fallback.py.
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
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.minilm import MiniLMEncoder, shared_encoder
from nlu.minilm_component import MiniLMComponent

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "intent_classifier.npz"
WEIGHT_KEY = "embedding_weight"
REGULARISATION_KEY = "regularisation"
RANKING_LENGTH_KEY = "ranking_length"
DIET_OUTPUT_KEY = "diet_intent"
#: What an intent missing from a ranking counts as: rare, not impossible, so one voice cannot veto.
_FLOOR = 1e-6


def blend(embedding: dict[str, float], diet: dict[str, float], embedding_weight: float) -> list[tuple[str, float]]:
    """Both distributions' intents, best first, with their blended probabilities (summing to 1)."""
    intents = sorted(set(embedding) | set(diet))
    if not intents:
        return []
    scores = np.array(
        [
            embedding_weight * np.log(embedding.get(intent, 0.0) + _FLOOR)
            + (1.0 - embedding_weight) * np.log(diet.get(intent, 0.0) + _FLOOR)
            for intent in intents
        ]
    )
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    order = np.argsort(-probabilities, kind="stable")
    return [(intents[i], float(probabilities[i])) for i in order]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentBlender(MiniLMComponent, IntentClassifier):
    """Re-ranks DIET's intents with a logistic regression on MiniLM sentence embeddings."""

    @staticmethod
    def required_packages() -> list[str]:
        return [*MiniLMComponent.required_packages(), "sklearn"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {WEIGHT_KEY: 0.8, REGULARISATION_KEY: 4.0, RANKING_LENGTH_KEY: 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        encoder: MiniLMEncoder | None = None,
        coefficients: np.ndarray | None = None,
        intercepts: np.ndarray | None = None,
        intents: np.ndarray | None = None,
    ) -> None:
        weight = config.get(WEIGHT_KEY)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= weight <= 1.0:
            raise ValueError(f"{type(self).__name__}: `{WEIGHT_KEY}` must be a number from 0 to 1, got {weight!r}")
        regularisation = config.get(REGULARISATION_KEY)
        if isinstance(regularisation, bool) or not isinstance(regularisation, (int, float)) or regularisation <= 0:
            raise ValueError(
                f"{type(self).__name__}: `{REGULARISATION_KEY}` must be a number above 0, got {regularisation!r}"
            )
        ranking_length = config.get(RANKING_LENGTH_KEY)
        if isinstance(ranking_length, bool) or not isinstance(ranking_length, int) or ranking_length < 1:
            raise ValueError(
                f"{type(self).__name__}: `{RANKING_LENGTH_KEY}` must be a whole number from 1, got {ranking_length!r}"
            )
        self.embedding_weight = float(weight)
        self.regularisation = float(regularisation)
        self.ranking_length = ranking_length
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder
        self.coefficients = coefficients if coefficients is not None else np.zeros((0, 0), np.float32)
        self.intercepts = intercepts if intercepts is not None else np.zeros((0,), np.float32)
        self.intents = intents if intents is not None else np.zeros((0,), np.str_)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GraphComponent:
        with model_storage.read_from(resource) as directory, np.load(directory / WEIGHTS_FILE) as stored:
            coefficients, intercepts, intents = stored["coefficients"], stored["intercepts"], stored["intents"]
        return cls(config, model_storage, resource, shared_encoder(), coefficients, intercepts, intents)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        vectors: list[np.ndarray] = []
        labels: list[str] = []
        for example in training_data.intent_examples:
            vector = self.sentence_vector(example)
            if vector is not None:
                vectors.append(vector)
                labels.append(str(example.get(INTENT)))
        # Three intents at least: with two, scikit-learn fits one binary row, not one row per intent.
        if len(set(labels)) >= 3:
            # lbfgs: deterministic, and multinomial, so the probabilities below are a plain softmax.
            classifier = LogisticRegression(C=self.regularisation, max_iter=3000)
            classifier.fit(np.stack(vectors), np.array(labels))
            self.coefficients = classifier.coef_.astype(np.float32)
            self.intercepts = classifier.intercept_.astype(np.float32)
            self.intents = np.array([str(intent) for intent in classifier.classes_], dtype=np.str_)
        else:
            logger.warning("Fewer than three intents with examples: DIET's ranking will stay as it is.")
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / WEIGHTS_FILE,
                coefficients=self.coefficients,
                intercepts=self.intercepts,
                intents=self.intents,
            )
        logger.info(f"Trained the embedding intent classifier on {len(labels)} examples, {len(self.intents)} intents.")
        return self._resource

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """The embedding classifier's probability of each intent (empty: untrained)."""
        if not self.intents.size:
            return {}
        scores = self.coefficients @ vector + self.intercepts
        exponentials = np.exp(scores - scores.max())
        shares = exponentials / exponentials.sum()
        return {str(intent): float(share) for intent, share in zip(self.intents, shares, strict=True)}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            text = message.get(TEXT) or ""
            if not ranking or text.startswith("/") or not self.intents.size:
                continue
            vector = self.sentence_vector(message)
            if vector is None:
                continue
            diet = {str(item[INTENT_NAME_KEY]): float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for item in ranking}
            blended = blend(self.probabilities(vector), diet, self.embedding_weight)[: self.ranking_length]
            message.set(DIET_OUTPUT_KEY, dict(ranking[0]), add_to_output=True)
            new_ranking = [
                {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: round(probability, 4)}
                for intent, probability in blended
            ]
            message.set(INTENT, new_ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, new_ranking, add_to_output=True)
        return messages
