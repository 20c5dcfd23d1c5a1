"""deploy/helm/rasa-values.yml says the same as the files we run: its stores are
deploy/endpoints.production.yml's, its channel is ours, its probes are Rasa endpoints that need no token."""

from __future__ import annotations

from typing import Any

import yaml

from visafaq.launcher import THREAD_POOL_VARIABLES
from visafaq.settings import PROJECT_ROOT

VALUES = PROJECT_ROOT / "deploy" / "helm" / "rasa-values.yml"


def load(path: str) -> dict[str, Any]:
    loaded = yaml.safe_load((PROJECT_ROOT / path).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_stores_are_those_of_the_production_endpoints() -> None:
    endpoints = load("deploy/helm/rasa-values.yml")["applicationSettings"]["endpoints"]
    production = load("deploy/endpoints.production.yml")
    for chart_key, rasa_key in (("trackerStore", "tracker_store"), ("lockStore", "lock_store")):
        chart = {key: value for key, value in endpoints[chart_key].items() if key != "enabled"}
        assert endpoints[chart_key]["enabled"] is True
        assert chart == production[rasa_key], chart_key


def test_the_channel_is_ours_and_in_credentials_yml() -> None:
    channels = load("deploy/helm/rasa-values.yml")["applicationSettings"]["credentials"]
    assert set(channels["additionalChannelCredentials"]) <= set(load("credentials.yml"))
    assert "channels.rest.CheckedRestInput" in channels["additionalChannelCredentials"]


def test_every_variable_the_stores_read_is_given_and_secrets_come_from_a_secret() -> None:
    values = load("deploy/helm/rasa-values.yml")
    given = {entry["name"]: entry for entry in values["extraEnv"]}
    production = (PROJECT_ROOT / "deploy" / "endpoints.production.yml").read_text(encoding="utf-8")
    for name in ("TRACKER_STORE_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "REDIS_KEY_PREFIX"):
        assert "${" + name + "}" in production
        assert name in given, name
    for secret in ("RASA_TOKEN", "TRACKER_STORE_URL", "REDIS_PASSWORD", "VISAFAQ_RATE_LIMIT_REDIS_URL"):
        assert "secretKeyRef" in given[secret]["valueFrom"], secret


def test_the_probes_need_no_token() -> None:
    values = load("deploy/helm/rasa-values.yml")
    assert values["livenessProbe"]["httpGet"]["path"] == "/"
    assert values["readinessProbe"]["httpGet"]["path"] == "/webhooks/rest/"
    assert values["applicationSettings"]["trainInitialModel"] is False


def test_the_replicas_size_their_thread_pools_as_the_launcher_does() -> None:
    given = {entry["name"]: entry.get("value") for entry in load("deploy/helm/rasa-values.yml")["extraEnv"]}
    assert {name: given.get(name) for name in THREAD_POOL_VARIABLES} == dict.fromkeys(THREAD_POOL_VARIABLES, "1")
