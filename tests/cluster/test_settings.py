"""The cluster's settings, its checks of PostgreSQL and Redis, and the rendered nginx config, without
starting any replica."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from visafaq.cluster import (
    Cluster,
    ClusterSettings,
    RedisTarget,
    Replica,
    check_dependencies,
    free_port,
    nginx_binary,
    render_nginx_config,
)
from visafaq.launcher import StartupError
from visafaq.settings import PROJECT_ROOT

PG = "postgresql://root@127.0.0.1:5432/test"
GOOD = {"VISAFAQ_DATABASE_URL": PG, "VISAFAQ_TRACKER_URL": PG, "VISAFAQ_REDIS_URL": "redis://127.0.0.1:6379/1"}


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_each_unset_variable_is_named(missing: str) -> None:
    env = {name: value for name, value in GOOD.items() if name != missing}
    with pytest.raises(StartupError, match=missing):
        ClusterSettings.from_env(2, env)


def test_sqlite_cannot_be_shared_by_replicas() -> None:
    with pytest.raises(StartupError, match="VISAFAQ_TRACKER_URL must name PostgreSQL"):
        ClusterSettings.from_env(2, GOOD | {"VISAFAQ_TRACKER_URL": "sqlite:///var/tracker.sqlite3"})


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:6379", "redis://"),
        ("redis://127.0.0.1:6379/one", "must be a number"),
        ("redis://:x", "redis://"),
    ],
)
def test_a_bad_redis_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(StartupError, match=says):
        ClusterSettings.from_env(2, GOOD | {"VISAFAQ_REDIS_URL": url})


def test_the_redis_url_becomes_the_endpoint_variables_and_the_password_is_never_shown() -> None:
    target = RedisTarget.from_url("redis://:s3cret@redis.internal:6380/4", key_prefix="prod")
    assert target.environment() == {
        "REDIS_HOST": "redis.internal",
        "REDIS_PORT": "6380",
        "REDIS_DB": "4",
        "REDIS_PASSWORD": "s3cret",
        "REDIS_KEY_PREFIX": "prod",
    }
    assert "s3cret" not in str(target)


def test_the_key_prefix_must_be_alphanumeric_since_rasa_ignores_any_other() -> None:
    with pytest.raises(StartupError, match="VISAFAQ_REDIS_KEY_PREFIX"):
        ClusterSettings.from_env(2, GOOD | {"VISAFAQ_REDIS_KEY_PREFIX": "my-bot"})


@pytest.mark.parametrize("replicas", [0, 9])
def test_the_replica_count_is_bounded(replicas: int) -> None:
    with pytest.raises(StartupError, match="--replicas"):
        ClusterSettings.from_env(replicas, GOOD)


def _settings(**changes: str) -> ClusterSettings:
    return ClusterSettings.from_env(2, GOOD | changes)


def test_unreachable_postgresql_is_named_without_its_password() -> None:
    dead = f"postgresql://root:hunter2@127.0.0.1:{free_port()}/test"
    with pytest.raises(StartupError, match=r"VISAFAQ_DATABASE_URL: PostgreSQL .* unreachable") as error:
        check_dependencies(_settings(VISAFAQ_DATABASE_URL=dead))
    assert "hunter2" not in str(error.value)


def test_unreachable_redis_is_named() -> None:
    settings = _settings(VISAFAQ_REDIS_URL=f"redis://127.0.0.1:{free_port()}/1")
    with pytest.raises(StartupError, match=r"VISAFAQ_REDIS_URL: Redis at redis://127\.0\.0\.1:\d+/1 is unreachable"):
        # PostgreSQL passes first when it is there; without it the error names VISAFAQ_DATABASE_URL.
        try:
            check_dependencies(settings)
        except StartupError as error:
            if "VISAFAQ_DATABASE_URL" in str(error):
                pytest.skip(f"PostgreSQL is not there: {error}")
            raise


def _config(tmp_path: Path) -> str:
    replicas = [Replica("rasa-1", 7001, 7101), Replica("rasa-2", 7002, 7102)]
    return render_nginx_config(_settings(CLUSTER_PORT="7000"), replicas, 7200, tmp_path, tmp_path)


def _block(config: str, upstream: str) -> str:
    match = re.search(rf"upstream {upstream} \{{(.*?)\}}", config, re.S)
    assert match, upstream
    return match.group(1)


def test_rest_is_round_robin_and_socketio_is_sticky(tmp_path: Path) -> None:
    config = _config(tmp_path)
    rest, sticky = _block(config, "rasa_rest"), _block(config, "rasa_socketio")
    assert "hash" not in rest and "server 127.0.0.1:7001" in rest and "server 127.0.0.1:7002" in rest
    assert "hash $remote_addr consistent;" in sticky and "server 127.0.0.1:7002" in sticky
    assert re.search(r"location /socket.io/ \{\s*proxy_pass http://rasa_socketio;", config)
    assert re.search(r"location /webhooks/ \{\s*proxy_pass http://rasa_rest;", config)


def test_a_post_that_reached_a_replica_is_never_sent_to_another(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert re.findall(r"^\s*proxy_next_upstream\s+([^;]*);", config, re.M) == ["error timeout"]
    assert not re.search(r"^[^#]*non_idempotent", config, re.M)


def test_nginx_names_the_replica_passes_the_client_address_and_limits_bodies(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert "add_header X-Upstream $upstream_addr always;" in config
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert "proxy_set_header X-Real-IP $remote_addr;" in config
    assert "client_max_body_size 64k;" in config
    assert "listen 127.0.0.1:7000;" in config
    assert str(tmp_path) + "/nginx-access.log" in config


def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    try:
        nginx = nginx_binary()
    except StartupError as error:
        pytest.skip(str(error))
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / folder).mkdir()
    (tmp_path / "nginx.conf").write_text(_config(tmp_path), encoding="utf-8")
    check = subprocess.run(
        [nginx, "-t", "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr


def test_every_replica_gets_the_production_endpoints_and_the_same_model() -> None:
    cluster = Cluster(_settings())
    commands = [assistant.rasa_command() for assistant in cluster.assistants]
    assert len(commands) == 2
    for command in commands:
        assert command[command.index("--endpoints") + 1] == "deploy/endpoints.production.yml"
        assert command[command.index("--model") + 1] == str(cluster.settings.model)
    environments = [assistant.environment() for assistant in cluster.assistants]
    assert {env["ACTION_ENDPOINT_URL"] for env in environments} == {
        f"http://127.0.0.1:{r.actions_port}/webhook" for r in cluster.replicas
    }
    assert all(env["TRACKER_STORE_URL"] == PG and env["REDIS_DB"] == "1" for env in environments)


def test_every_variable_of_the_production_endpoints_is_set_for_each_replica() -> None:
    endpoints = (PROJECT_ROOT / "deploy" / "endpoints.production.yml").read_text(encoding="utf-8")
    values = "\n".join(line.split("#")[0] for line in endpoints.splitlines())  # not the comments
    wanted = set(re.findall(r"\$\{(\w+)\}", values))
    assert {"TRACKER_STORE_URL", "REDIS_HOST", "REDIS_KEY_PREFIX"} <= wanted
    parsed = yaml.safe_load(endpoints)
    assert parsed["lock_store"]["type"] == "stores.locks.RedisLockStore"
    assert parsed["tracker_store"]["type"] == "stores.trackers.SQLTrackerStore"
    for assistant in Cluster(_settings()).assistants:
        environment = assistant.environment()
        assert wanted <= set(environment), wanted - set(environment)
