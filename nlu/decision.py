"""How our rule components (follow_up.py, nearest_example.py) overrule DIET: the decided intent goes
on top, and the ranking below it says what DIET thought."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


def decide(message: Message, intent: str, confidence: float, *, keep_ranking: bool) -> None:
    """Sets `intent` with `confidence`. `keep_ranking`: DIET's ranking stays whole below it (a
    script can replay it); otherwise DIET's own entry for the same intent is dropped."""
    decided = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: round(confidence, 4)}
    ranking = message.get(INTENT_RANKING_KEY) or []
    if not keep_ranking:
        ranking = [item for item in ranking if item.get(INTENT_NAME_KEY) != intent]
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)
