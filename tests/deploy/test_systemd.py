"""The systemd units in deploy/systemd/: systemd itself accepts them (`systemd-analyze verify`, with the
project as /opt/visafaq), and the `visafaq serve` each runs starts what `make run` would, configured by
the example environment file, with every variable the production endpoints file needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import postgres_required
from visafaq.launcher import Settings, serve_plan
from visafaq.settings import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
EXAMPLE_ENV = UNITS / "visafaq.env.example"
INSTANCES = {"visafaq-rasa@.service": "5005", "visafaq-actions@.service": "5055", "visafaq-web.service": ""}


def example_environment() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines())
    return {key: value for key, value in (p for p in pairs if len(p) == 2) if not key.startswith("#")}


def rendered(tmp_path: Path) -> Path:
    """The units as installed in this checkout: /opt/visafaq is the project, the user is whoever runs this."""
    import getpass

    user = getpass.getuser()
    env_file = tmp_path / "visafaq.env"
    env_file.write_text(EXAMPLE_ENV.read_text(encoding="utf-8"), encoding="utf-8")
    for unit in UNITS.glob("*.service"):
        text = unit.read_text(encoding="utf-8").replace("/opt/visafaq", str(PROJECT_ROOT))
        text = text.replace("/etc/visafaq/visafaq.env", str(env_file))
        text = re.sub(r"^(User|Group)=visafaq$", rf"\1={user}", text, flags=re.M)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    return tmp_path


def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    verify = shutil.which("systemd-analyze")
    if verify is None:
        message = "systemd-analyze is not installed (Debian's systemd package)"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(INSTANCES)
    directory = rendered(tmp_path)
    for unit, instance in INSTANCES.items():
        name = unit.replace("@.", f"@{instance}.") if instance else unit
        result = subprocess.run(
            [verify, "verify", f"./{name}"], cwd=directory, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        problems = [line for line in result.stderr.splitlines() if directory.name in line or name in line]
        assert problems == [], f"{name}: {problems}"


def test_each_unit_runs_visafaq_serve_for_its_own_process() -> None:
    for unit, process in (("visafaq-rasa@.service", "rasa"), ("visafaq-actions@.service", "actions")):
        text = (UNITS / unit).read_text(encoding="utf-8")
        assert f"ExecStart=/opt/visafaq/.venv/bin/visafaq serve {process}\n" in text
    assert "ExecStart=/opt/visafaq/.venv/bin/visafaq serve web\n" in (UNITS / "visafaq-web.service").read_text()


def test_the_rasa_unit_starts_rasa_with_every_variable_the_production_endpoints_need(tmp_path: Path) -> None:
    env = {**example_environment(), "RASA_PORT": "5005", "VISAFAQ_ENDPOINTS": "deploy/endpoints.production.yml"}
    settings = Settings.from_env(env)
    settings.endpoints = env["VISAFAQ_ENDPOINTS"]
    settings.var = tmp_path
    command, environment = serve_plan("rasa", settings, env)
    assert command[command.index("--endpoints") + 1] == "deploy/endpoints.production.yml"
    assert command[command.index("--port") + 1] == "5005"
    assert f"--auth-token={env['RASA_TOKEN']}" in command
    endpoints = (PROJECT_ROOT / "deploy" / "endpoints.production.yml").read_text(encoding="utf-8")
    settings_lines = "\n".join(line.split("#")[0] for line in endpoints.splitlines())
    wanted = set(re.findall(r"\$\{(\w+)\}", settings_lines))
    assert {"TRACKER_STORE_URL", "REDIS_HOST", "ACTION_ENDPOINT_URL"} <= wanted
    assert wanted <= set(environment), wanted - set(environment)
    assert environment["REDIS_HOST"] == "redis.internal"
    assert environment["TRACKER_STORE_URL"].startswith("postgresql://visafaq:change-me@db.internal")
    assert environment["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert (tmp_path / "credentials.yml").exists()  # the channels whose variables are set


def test_the_action_server_and_web_units_start_what_make_run_starts() -> None:
    env = {**example_environment(), "ACTIONS_PORT": "5056"}
    actions, _ = serve_plan("actions", Settings.from_env(env), env)
    assert actions[1:4] == ["-m", "rasa_sdk", "--actions"] and actions[actions.index("--port") + 1] == "5056"
    web, _ = serve_plan("web", Settings.from_env(env), env)
    assert "visafaq.web.app:create_site" in web and web[web.index("--port") + 1] == "8000"
