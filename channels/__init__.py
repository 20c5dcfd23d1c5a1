"""Rasa input channels of our own: small subclasses of Rasa's connectors, loaded by the Rasa server
(Python 3.10 environment) from credentials.yml. Nothing here imports visafaq."""
