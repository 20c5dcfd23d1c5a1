"""The prepared validator for action server responses (channels/action_validation.py) accepts and refuses
exactly what Rasa's own check does. Runs in the Rasa environment, where the module lives."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa_env

# Imports channels.rest (which installs the check), then runs Rasa's check and ours on each response.
SCRIPT = """
import json, sys
import jsonschema
from rasa.core.actions.action import RemoteAction
import channels.rest  # noqa: F401  (installs the prepared validator)
from channels import action_validation

def verdict(check, result):
    try:
        check(result)
        return "ok"
    except jsonschema.ValidationError as error:
        return "refused: " + error.message

def rasas_own(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())

ours = RemoteAction(\"action_answer\", None)._validate_action_result
results = []
for response in json.loads(sys.stdin.read()):
    results.append([verdict(rasas_own, response), verdict(ours, response)])
print(json.dumps({"installed": action_validation.installed(), "results": results}))
"""

RESPONSES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "programme", "value": "titp"}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": "a", "buttons": []}]},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"name": "programme"}], "responses": []},
    {"events": [], "responses": "not a list"},
    {"events": [], "responses": ["not an object"]},
]


def test_our_check_agrees_with_rasas_on_good_and_bad_responses() -> None:
    report = run_in_rasa_env(SCRIPT, RESPONSES, timeout=180)
    assert report["installed"] is True
    verdicts = report["results"]
    assert [rasa for rasa, _ in verdicts][:3] == ["ok", "ok", "ok"]
    assert all(rasa.startswith("refused") for rasa, _ in verdicts[3:])
    for rasa, ours in verdicts:
        assert ours.split(". Failed to validate")[0] == rasa
    assert all("Failed to validate Action server response" in ours for _, ours in verdicts[3:])
