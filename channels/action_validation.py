"""Check action server responses with one prepared validator instead of building one per call.

Rasa 3.6 checks every action server response with `jsonschema.validate(result, schema)`. That function
first checks the *schema itself* against JSON Schema 2020-12's meta-schema, then builds a validator and
throws it away: about two fifths of the Rasa process's time per turn here (py-spy, see
benchmarks/RESULTS.md), for a schema that never changes. This builds the validator once, from the
same schema, of the class `validate` would pick, and checks the result with it: the same errors, with
Rasa's same added message.

Rasa's REST channel module (channels/rest.py) installs it, so every Rasa server we start has it. It
replaces one method of Rasa's RemoteAction; `installed()` lets the tests confirm it is in place.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.cache
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, as `jsonschema.validate` does on every call
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _response_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    return RemoteAction._validate_action_result is _validate_action_result  # type: ignore[comparison-overlap]
