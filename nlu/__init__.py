"""Rasa-side NLU components (run in the Rasa environment, Python 3.10): see minilm_featurizer.py."""
