"""A Rasa dense featurizer with all-MiniLM-L6-v2 sentence and word embeddings (see minilm.py).

Why: DIET learns from our own examples only, a few dozen per intent, and CLINC150's queries show
how far that generalises to what people really write. A sentence encoder trained on a billion
sentence pairs brings paraphrases close together, which helps both the topic and the decision
that a question is out of scope. benchmarks/pipelines.py measures the pipeline with and without it.

Used in config.yml as `nlu.minilm_featurizer.MiniLMFeaturizer`, after the tokenizer (its word
vectors line up with the tokenizer's tokens: each token's word pieces are averaged).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.minilm import REQUIRED_PACKAGES, MiniLMEncoder, shared_encoder

# The attributes a message carries at prediction time; a response selector (which would add
# RESPONSE) is not in our pipeline.
_ATTRIBUTES = (TEXT, ACTION_TEXT)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds MiniLM word vectors (sequence) and the sentence embedding (sentence) to each message."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return list(REQUIRED_PACKAGES)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    def __init__(self, config: dict[str, Any], name: str, encoder: MiniLMEncoder | None = None) -> None:
        super().__init__(name, config)
        self._encoder = encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        # Loaded here, when the server loads the model, so the first question does not wait for it
        # and a missing package stops start-up with its reason (MiniLMUnavailableError).
        return cls(config, execution_context.node_name, shared_encoder())

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for attribute in _ATTRIBUTES:
                self._featurize(message, attribute)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _featurize(self, message: Message, attribute: str) -> None:
        tokens = message.get(TOKENS_NAMES[attribute])
        if not tokens:
            return
        word_vectors, sentence = self.encoder.embed_words([token.text for token in tokens])
        self.add_features_to_message(
            sequence=word_vectors,
            sentence=np.expand_dims(sentence, 0),
            attribute=attribute,
            message=message,
        )

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass
