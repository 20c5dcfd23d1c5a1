"""Which channels the launcher switches on, from the environment (visafaq/channel_config.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from visafaq import channel_config
from visafaq.launcher import Assistant, Settings
from visafaq.settings import PROJECT_ROOT

CREDENTIALS = PROJECT_ROOT / "credentials.yml"
TELEGRAM = {"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_VERIFY": "a_bot", "TELEGRAM_WEBHOOK_URL": "https://x/webhook"}
SLACK = {"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cr3t"}


def labels_on(env: dict[str, str]) -> list[str]:
    credentials = yaml.safe_load(CREDENTIALS.read_text())
    return [channel.label for channel in channel_config.plan(credentials, env).on]


def test_rest_and_socketio_are_always_on_and_the_apps_only_with_their_variables() -> None:
    assert labels_on({}) == ["REST", "socket.io"]
    assert labels_on(TELEGRAM) == ["REST", "socket.io", "Telegram"]
    assert labels_on(SLACK) == ["REST", "socket.io", "Slack"]
    assert labels_on({**TELEGRAM, **SLACK}) == ["REST", "socket.io", "Telegram", "Slack"]


def test_an_empty_or_missing_required_variable_keeps_the_channel_off_and_says_which() -> None:
    credentials = yaml.safe_load(CREDENTIALS.read_text())
    result = channel_config.plan(credentials, {**TELEGRAM, "TELEGRAM_VERIFY": " "})
    telegram = next(c for c in result.channels if c.label == "Telegram")
    assert not telegram.on
    assert telegram.missing == ("TELEGRAM_VERIFY",)
    assert "Telegram: OFF, incomplete: set TELEGRAM_VERIFY" in result.summary()
    assert "Slack: off (set SLACK_TOKEN, SLACK_SIGNING_SECRET to switch it on)" in result.summary()


def test_optional_settings_do_not_decide_and_are_given_to_rasa_as_empty() -> None:
    credentials = yaml.safe_load(CREDENTIALS.read_text())
    telegram = next(c for c in channel_config.plan(credentials, TELEGRAM).channels if c.label == "Telegram")
    assert "TELEGRAM_API_URL" not in telegram.required
    extra = channel_config.rasa_environment({"TELEGRAM_API_URL": "http://127.0.0.1:9"})
    assert "TELEGRAM_API_URL" not in extra
    assert extra["SLACK_API_URL"] == ""


def test_the_written_file_keeps_placeholders_and_holds_no_secret(tmp_path: Path) -> None:
    target = tmp_path / "var" / "credentials.yml"
    channel_config.write_effective_credentials(CREDENTIALS, target, TELEGRAM)
    written = target.read_text()
    assert "123:abc" not in written
    telegram = yaml.safe_load(written)["channels.telegram.TelegramInput"]
    assert telegram["access_token"] == "${TELEGRAM_TOKEN}"
    assert "channels.slack.SlackInput" not in yaml.safe_load(written)
    # Unquoted, as Rasa substitutes ${VARIABLES} only in plain YAML scalars.
    assert "access_token: ${TELEGRAM_TOKEN}" in written


def test_the_launcher_gives_rasa_the_effective_file_and_fills_optional_variables(tmp_path: Path) -> None:
    assistant = Assistant(Settings(var=tmp_path))
    command = assistant.rasa_command()
    assert command[command.index("--credentials") + 1] == str(tmp_path / "credentials.yml")
    assert all(name in assistant.environment() for name in channel_config.OPTIONAL_VARIABLES)


def test_a_token_that_starts_with_a_dash_reaches_rasa_as_the_tokens_value(tmp_path: Path) -> None:
    command = Assistant(Settings(var=tmp_path, token="-starts-with-a-dash")).rasa_command()
    assert "--auth-token=-starts-with-a-dash" in command
