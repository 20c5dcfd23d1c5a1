"""Custom actions: thin adapters between Rasa's tracker and the visafaq library.

Each module reads slots and the latest message, calls visafaq, and sends what comes back.
The action server imports this package: `python -m rasa_sdk --actions actions`.
"""

from actions.answer import ActionAnswer
from actions.eligibility import ActionEligibilityVerdict, ValidateEligibilityForm
from actions.fallback import ActionAskAffirmation, ActionDefaultFallback, ActionOutOfScope
from actions.handoff import ActionHandoff
from actions.session import ActionSessionStart

__all__ = [
    "ActionAnswer",
    "ActionAskAffirmation",
    "ActionDefaultFallback",
    "ActionEligibilityVerdict",
    "ActionHandoff",
    "ActionOutOfScope",
    "ActionSessionStart",
    "ValidateEligibilityForm",
]
