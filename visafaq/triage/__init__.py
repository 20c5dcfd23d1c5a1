"""Staff triage: hand-off requests and the questions the assistant could not answer."""
