"""The web app: the chat widget and the page that hosts it (app.py), shared security headers
(security.py), and the staff dashboard mounted at /staff (staff/)."""
