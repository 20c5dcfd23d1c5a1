"""The launcher's commands and settings, without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from visafaq.launcher import THREAD_POOL_VARIABLES, Assistant, Ports, Settings, StartupError, StopRequest


def test_web_origins_default_to_the_widget_page_on_localhost_and_127_0_0_1() -> None:
    settings = Settings.from_env({"WEB_PORT": "8100"})
    assert settings.cors == ("http://localhost:8100", "http://127.0.0.1:8100")


def test_web_origins_may_be_separated_by_commas_or_spaces() -> None:
    settings = Settings.from_env({"WEB_ORIGINS": "https://a.example, https://b.example  https://c.example"})
    assert settings.cors == ("https://a.example", "https://b.example", "https://c.example")


def test_the_rasa_server_gets_one_cors_argument_per_origin() -> None:
    command = Assistant(Settings(cors=("https://a.example", "https://b.example"))).rasa_command()
    at = command.index("--cors")
    assert command[at + 1 : at + 3] == ["https://a.example", "https://b.example"]


def test_without_origins_the_rasa_server_allows_no_cross_origin_calls() -> None:
    assert "--cors" not in Assistant(Settings()).rasa_command()


def test_the_web_app_listens_on_loopback_at_web_port() -> None:
    command = Assistant(Settings(ports=Ports(web=8123))).web_command()
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "8123"
    assert "visafaq.web.app:create_site" in command and "--factory" in command


def test_the_web_app_is_told_where_browsers_reach_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISAFAQ_RASA_PUBLIC_URL", raising=False)
    assistant = Assistant(Settings(ports=Ports(rasa=5999)))
    assert assistant.environment()["VISAFAQ_RASA_PUBLIC_URL"] == "http://localhost:5999"
    behind_proxy = Assistant(Settings(extra_env={"VISAFAQ_RASA_PUBLIC_URL": "https://chat.example.org"}))
    assert behind_proxy.environment()["VISAFAQ_RASA_PUBLIC_URL"] == "https://chat.example.org"


def test_a_bad_port_is_refused() -> None:
    with pytest.raises(StartupError, match="WEB_PORT"):
        Settings.from_env({"WEB_PORT": "eighty"})


def test_a_token_that_starts_with_a_dash_still_reaches_rasa_as_the_token() -> None:
    command = Assistant(Settings(token="-starts-with-a-dash")).rasa_command()
    assert "--auth-token=-starts-with-a-dash" in command


def test_the_rasa_server_listens_on_loopback_unless_told_otherwise() -> None:
    command = Assistant(Settings.from_env({})).rasa_command()
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    deployed = Assistant(Settings.from_env({"RASA_INTERFACE": "0.0.0.0"})).rasa_command()
    assert deployed[deployed.index("--interface") + 1] == "0.0.0.0"


def test_rasa_reads_endpoints_yml_unless_given_another_endpoints_file(tmp_path: Path) -> None:
    default = Assistant(Settings()).rasa_command()
    assert default[default.index("--endpoints") + 1] == "endpoints.yml"  # the processes run in `root`
    other = Assistant(Settings(endpoints=tmp_path / "production.yml")).rasa_command()
    assert other[other.index("--endpoints") + 1] == str(tmp_path / "production.yml")


def test_the_action_server_listens_on_loopback_unless_told_otherwise() -> None:
    assert Assistant(Settings.from_env({})).environment()["SANIC_HOST"] == "127.0.0.1"
    deployed = Assistant(Settings.from_env({"ACTIONS_INTERFACE": "10.0.0.5"})).environment()
    assert deployed["SANIC_HOST"] == "10.0.0.5"


def test_the_rasa_server_reads_at_most_the_body_size_limit() -> None:
    """Sanic reads SANIC_REQUEST_MAX_SIZE when Rasa makes its app (tests/e2e/test_limits.py sends more)."""
    assert Assistant(Settings()).environment()["SANIC_REQUEST_MAX_SIZE"] == "65536"
    small = Assistant(Settings(extra_env={"VISAFAQ_MAX_BODY_BYTES": "20000"}))
    assert small.environment()["SANIC_REQUEST_MAX_SIZE"] == "20000"


def test_the_servers_get_one_thread_per_numeric_pool_unless_the_deployment_names_a_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spinning TensorFlow and OpenBLAS pools doubled the Rasa server's CPU per message (benchmarks/threads_ab.py)."""
    for name in THREAD_POOL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    environment = Assistant(Settings()).environment()
    assert {name: environment[name] for name in THREAD_POOL_VARIABLES} == dict.fromkeys(THREAD_POOL_VARIABLES, "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert Assistant(Settings()).environment()["OMP_NUM_THREADS"] == "4"


def test_the_web_app_decides_the_client_address_itself() -> None:
    """uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (its default), trusted or not."""
    assert "--no-proxy-headers" in Assistant(Settings()).web_command()


def test_a_mistyped_limit_stops_the_start_with_the_variable_named(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    assistant = Assistant(Settings(model=model, var=tmp_path, extra_env={"VISAFAQ_RATE_LIMIT_SENDER": "lots"}))
    with pytest.raises(StartupError, match="VISAFAQ_RATE_LIMIT_SENDER"):
        assistant.start()
    assert assistant.processes == []  # nothing was started


def test_ctrl_c_or_a_supervisor_s_stop_asks_the_run_loop_to_stop() -> None:
    import os
    import signal

    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            stop = StopRequest()
            assert not stop.requested
            os.kill(os.getpid(), signum)
            assert stop.requested
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
