"""The web app: the chat widget page and the staff dashboard."""
