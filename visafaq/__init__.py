"""visafaq: answers about Japanese visas from dated, sourced facts. No Rasa imports here."""

__version__ = "0.1.0"
