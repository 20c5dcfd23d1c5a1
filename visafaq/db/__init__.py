"""Database plumbing shared by the knowledge store and triage: engine, sessions, migrations."""
