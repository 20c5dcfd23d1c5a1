"""The connectors' memory shared through Redis (channels/rendering.py SharedMemory), against the real
Redis server: what one replica saw, another sees; with Redis gone, each process's own memory stands in.
Fails in CI (CI=true) and skips elsewhere when Redis cannot be reached."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from channels.rendering import KEY_PREFIX, BoundedMemory, PayloadKeys, SharedMemory, memory_for
from tests.conftest import postgres_required

REDIS_URL = os.environ.get("VISAFAQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} unreachable: {error}"
        if postgres_required():  # the same switch: CI needs every real server
            pytest.fail(message)
        pytest.skip(message)
    yield REDIS_URL
    client.close()


def replicas(redis_url: str, namespace: str, count: int = 2) -> list[SharedMemory]:
    prefix = "t" + uuid.uuid4().hex[:10]
    memories = [memory_for(namespace, 100, {"VISAFAQ_REDIS_URL": redis_url, "VISAFAQ_REDIS_KEY_PREFIX": prefix})]
    memories += [memory_for(namespace, 100, {"VISAFAQ_REDIS_URL": redis_url, "VISAFAQ_REDIS_KEY_PREFIX": prefix})]
    assert all(isinstance(memory, SharedMemory) for memory in memories)
    return memories[:count]  # type: ignore[return-value]


def test_without_redis_configured_each_process_keeps_its_own_memory() -> None:
    assert isinstance(memory_for("telegram-updates", 10, {}), BoundedMemory)


def test_an_update_seen_by_one_replica_is_a_repeat_for_the_other(redis_url: str) -> None:
    first, second = replicas(redis_url, "telegram-updates")
    assert first.first_time("1001")
    assert not second.first_time("1001")
    assert not first.first_time("1001")
    assert second.first_time("1002")


def test_a_button_key_made_by_one_replica_is_understood_by_the_other(redis_url: str) -> None:
    first, second = replicas(redis_url, "telegram-buttons")
    payload = '/ask_documents{"programme":"titp","detail":"' + "x" * 80 + '"}'
    key = PayloadKeys(64, memory=first).encode(payload)
    assert key != payload
    assert PayloadKeys(64, memory=second).decode(key) == payload
    assert PayloadKeys(64, memory=second).decode(KEY_PREFIX + "0" * 24) is None  # never made: expired


def test_with_redis_down_the_process_memory_stands_in_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 1: every call fails at once.
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    memory = SharedMemory(client, "t:down", 60, BoundedMemory(10))
    with caplog.at_level(logging.WARNING, logger="channels.rendering"):
        assert memory.first_time("a")
        assert not memory.first_time("a")
        memory.remember("k", "payload")
        assert memory.recall("k") == "payload"
    assert len([r for r in caplog.records if "Redis unavailable" in r.getMessage()]) == 1
