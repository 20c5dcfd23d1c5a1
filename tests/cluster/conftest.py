"""The production profile for real: two Rasa replicas and their action servers behind nginx, on a fresh
PostgreSQL database (created for the run, dropped after) and a Redis key prefix of their own.

PostgreSQL (VISAFAQ_TEST_POSTGRES_URL), Redis (VISAFAQ_TEST_REDIS_URL, default
redis://127.0.0.1:6379/0) and nginx must be there: with CI=true these tests fail without them, and
elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import PROJECT_ROOT, _postgres_admin_url, postgres_required
from visafaq.cluster import Cluster, ClusterSettings, RedisTarget, free_port
from visafaq.db.engine import make_engine

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def unavailable(message: str) -> None:
    if postgres_required():  # CI=true: every production-path dependency must be there
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="package")
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database of this run's own (CREATE DATABASE with a random name), dropped after."""
    admin_url = _postgres_admin_url()
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect decides fail-or-skip
        unavailable(f"PostgreSQL at {make_url(admin_url).render_as_string()} unreachable: {error}")
    name = f"visafaq_cluster_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="package")
def redis_target() -> Iterator[RedisTarget]:
    """The test Redis with a key prefix of this run's own; its keys are deleted after."""
    url = os.environ.get("VISAFAQ_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    target = RedisTarget.from_url(url, key_prefix=f"t{secrets.token_hex(6)}")
    client = target.client()
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {target} unreachable: {error}")
    finally:
        client.close()
    yield target
    target.delete_keys()


@pytest.fixture(scope="package")
def nginx() -> None:
    if not (os.environ.get("NGINX") or shutil.which("nginx") or Path("/usr/sbin/nginx").is_file()):
        unavailable("nginx is not installed (make nginx)")


@pytest.fixture(scope="package")
def cluster(
    fresh_database: str, redis_target: RedisTarget, nginx: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    model = PROJECT_ROOT / "models" / "visafaq.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first (make train)")
    settings = ClusterSettings(
        replicas=2,
        database_url=fresh_database,
        tracker_url=fresh_database,
        redis=redis_target,
        port=free_port(),
        model=model,
        var=tmp_path_factory.mktemp("cluster-var"),
        extra_env={
            "VISAFAQ_TODAY": "2026-11-24",
            # A killed replica's Redis lock holds its conversations for this long (Rasa's default 60 s).
            "TICKET_LOCK_LIFETIME": "15",
            # Every test client is 127.0.0.1: one address sending 500 messages in a minute or two is the
            # load being measured, not abuse (the limits have their own tests, tests/e2e/test_limits.py).
            "VISAFAQ_RATE_LIMIT_ADDRESS": "off",
        },
    )
    running = Cluster(settings)
    running.start(timeout=300)  # the replicas start side by side: about 75 s here
    try:
        yield running
    finally:
        running.stop()
