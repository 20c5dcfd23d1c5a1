"""A message that names a programme and nothing else is a follow-up: intent `inform`.

Why: "and for the trainee visa?" carries no topic words, so DIET can only guess its intent from the
few words around the programme, and a retrained model may put it below the FallbackClassifier's
threshold. The assistant would then say "I'm not sure" to the plainest follow-up there is. Whether
a message is only a programme name is not a guess: the entity extractor found the programme, and
every other word is on a short list of connecting words (config.yml, `connecting_words`). So this
component decides it by rule and leaves every other message to DIET and the FallbackClassifier.

Used in config.yml as `nlu.follow_up.ProgrammeFollowUpClassifier`, after the FallbackClassifier
(so that it can also take back a fallback) and after the extractor that finds programmes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu.decision import decide

INTENT_KEY = "intent"
ENTITIES_KEY = "entities"
WORDS_KEY = "connecting_words"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ProgrammeFollowUpClassifier(GraphComponent, IntentClassifier):
    """Sets `intent` (default `inform`) on messages made of one programme and connecting words."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The programme's entity types: DIET's (`programme`) and the spaCy entity ruler's (`PROGRAMME`).
        return {INTENT_KEY: "inform", ENTITIES_KEY: ["programme", "PROGRAMME"], WORDS_KEY: []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intent = str(config[INTENT_KEY])
        self.entity_types = frozenset(str(name) for name in config[ENTITIES_KEY])
        self.connecting_words = frozenset(str(word).casefold() for word in config[WORDS_KEY])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self.is_follow_up(message):
                decide(message, self.intent, 1.0, keep_ranking=False)
        return messages

    def is_follow_up(self, message: Message) -> bool:
        """One programme (however many extractors found it), and every word outside it a connecting word."""
        spans = merged_spans(
            (int(entity[ENTITY_ATTRIBUTE_START]), int(entity[ENTITY_ATTRIBUTE_END]))
            for entity in message.get(ENTITIES) or []
            if entity.get(ENTITY_ATTRIBUTE_TYPE) in self.entity_types
        )
        if len(spans) != 1:
            # None: nothing to follow up with; two: "SSW or TITP?" is a comparison, left to DIET.
            return False
        start, end = spans[0]
        tokens: list[Token] = message.get(TOKENS_NAMES[TEXT]) or []
        outside = [token.text for token in tokens if token.end <= start or token.start >= end]
        return all(self._connects(word) for word in outside)

    def _connects(self, word: str) -> bool:
        # Punctuation and emoji carry no topic.
        return not any(ch.isalnum() for ch in word) or word.casefold() in self.connecting_words


def merged_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping character spans joined: two extractors finding "trainee visa" and "trainee" is one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
