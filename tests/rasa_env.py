"""Running a short script in the Rasa environment (.venv-rasa, Python 3.10), for tests of code that
lives there (nlu/, channels/): the tests themselves run in .venv, where Rasa cannot be imported."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from visafaq.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa_env(script: str, payload: Any, timeout: float = 300) -> Any:
    """Runs `script` with `payload` as JSON on its stdin; returns the JSON on its last line of output."""
    completed = subprocess.run(
        [str(RASA_PYTHON), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=timeout,
        env={"PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
