"""What our NLU components on MiniLM sentence vectors share (nlu/intent_blend.py,
nlu/nearest_example.py): the encoder, loaded with the model so that a missing package stops start-up
with its reason, and each message encoded once however many of them read its vector."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.minilm import REQUIRED_PACKAGES, MiniLMEncoder, shared_encoder

#: Where the message's MiniLM sentence vector is kept for later components (never in the output).
SENTENCE_VECTOR = "minilm_sentence_vector"


def sentence_vector(message: Message, encoder: MiniLMEncoder) -> np.ndarray | None:
    """The message's unit-length MiniLM sentence vector, encoded once per message (None: no tokens)."""
    stored = message.get(SENTENCE_VECTOR)
    if stored is not None:
        return np.asarray(stored)
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    if not tokens:
        return None
    _, vector = encoder.embed_words([token.text for token in tokens])
    message.set(SENTENCE_VECTOR, vector)
    return vector


class MiniLMComponent(GraphComponent):
    """A component whose constructor takes (config, model_storage, resource, encoder, ...)."""

    _encoder: MiniLMEncoder | None

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return list(REQUIRED_PACKAGES)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, model_storage, resource, shared_encoder())  # type: ignore[call-arg]

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    def sentence_vector(self, message: Message) -> np.ndarray | None:
        return sentence_vector(message, self.encoder)
