"""Which of credentials.yml's channels are switched on, from the environment.

credentials.yml lists every channel, with `${VARIABLE}` placeholders for secrets and settings; Rasa fills
them in from the environment but cannot leave a channel out, and fails on an unset variable. So the
launcher writes the effective file (under var/) with the channels whose required variables are all set:
REST and socket.io have none and are always on; Telegram and Slack come on when their secrets are set.
The written file keeps the placeholders, so no secret is ever written to disk or printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: Settings a channel can do without: the launcher passes them to Rasa as "" when unset, and the
#: channel (channels/*.py) then uses its default (the real API address, a 10 s timeout, ...).
OPTIONAL_VARIABLES = frozenset(
    {
        "TELEGRAM_SECRET_TOKEN",
        "TELEGRAM_API_URL",
        "TELEGRAM_API_TIMEOUT",
        "SLACK_CHANNEL",
        "SLACK_USE_THREADS",
        "SLACK_API_URL",
        "SLACK_API_TIMEOUT",
    }
)

#: How people know the channels (the key in credentials.yml names a class).
LABELS = {
    "channels.rest.CheckedRestInput": "REST",
    "rest": "REST",
    "socketio": "socket.io",
    "channels.telegram.TelegramInput": "Telegram",
    "channels.slack.SlackInput": "Slack",
}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Channel:
    key: str
    label: str
    required: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def on(self) -> bool:
        return not self.missing

    @property
    def partly_configured(self) -> bool:
        """Some required variables set and some not: most likely a mistake worth a warning."""
        return bool(self.missing) and len(self.missing) < len(self.required)


@dataclass(frozen=True)
class ChannelPlan:
    channels: tuple[Channel, ...]
    credentials: dict[str, Any]

    @property
    def on(self) -> list[Channel]:
        return [channel for channel in self.channels if channel.on]

    def summary(self) -> list[str]:
        """One line per channel, naming the variables that are missing (never their values)."""
        lines = []
        for channel in self.channels:
            if channel.on:
                lines.append(f"{channel.label}: on")
            elif channel.partly_configured:
                lines.append(f"{channel.label}: OFF, incomplete: set {', '.join(channel.missing)}")
            else:
                lines.append(f"{channel.label}: off (set {', '.join(channel.required)} to switch it on)")
        return lines


def placeholders(value: object) -> list[str]:
    """The ${VARIABLE} names in a credentials entry, in order, each once."""
    found: list[str] = []
    if isinstance(value, str):
        found = _PLACEHOLDER.findall(value)
    elif isinstance(value, Mapping):
        found = [name for item in value.values() for name in placeholders(item)]
    elif isinstance(value, list):
        found = [name for item in value for name in placeholders(item)]
    return list(dict.fromkeys(found))


def plan(credentials: Mapping[str, Any], env: Mapping[str, str]) -> ChannelPlan:
    """The channels of a parsed credentials.yml, each on when its required variables are set (non-empty)."""
    channels, effective = [], {}
    for key, settings in credentials.items():
        required = tuple(name for name in placeholders(settings) if name not in OPTIONAL_VARIABLES)
        missing = tuple(name for name in required if not env.get(name, "").strip())
        channel = Channel(key, LABELS.get(key, key), required, missing)
        channels.append(channel)
        if channel.on:
            effective[key] = settings
    return ChannelPlan(tuple(channels), effective)


def rasa_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The optional variables that are unset, as "": Rasa fails on a placeholder it cannot fill."""
    return {name: "" for name in sorted(OPTIONAL_VARIABLES) if name not in env}


def write_effective_credentials(source: Path, target: Path, env: Mapping[str, str]) -> ChannelPlan:
    """Read credentials.yml, write the switched-on channels to `target`, and say which are on."""
    credentials = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(credentials, dict):
        raise ValueError(f"{source}: expected a mapping of channel names to their settings")
    result = plan(credentials, env)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Written by the launcher from {source.name}: only the channels switched on. Do not edit.\n"
    target.write_text(header + yaml.safe_dump(result.credentials, sort_keys=False), encoding="utf-8")
    return result
