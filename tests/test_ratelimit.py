"""visafaq.ratelimit: rates, windows in memory and in the real Redis, the fallback when Redis is down, and
which address a request comes from behind trusted proxies."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import redis_url_or_skip
from tests.e2e.conftest import free_port
from visafaq.ratelimit import (
    LimitConfigError,
    LimitSettings,
    MemoryWindows,
    Rate,
    RateLimiter,
    client_address,
    parse_networks,
)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/minute", Rate(20, 60)),
        ("20 per 60s", Rate(20, 60)),
        ("5/10 seconds", Rate(5, 10)),
        ("100/hour", Rate(100, 3600)),
        ("3/2s", Rate(3, 2)),
        ("7/1", Rate(7, 1)),
        ("off", None),
        ("0", None),
    ],
    ids=lambda value: str(value),
)
def test_rates_are_read_from_their_written_forms(text: str, rate: Rate | None) -> None:
    assert Rate.parse(text, "VISAFAQ_X") == rate


@pytest.mark.parametrize("text", ["twenty/minute", "20/fortnight", "20", "-1/minute", "20/0s", "20/minute; rm"])
def test_a_mistyped_rate_names_its_variable(text: str) -> None:
    with pytest.raises(LimitConfigError, match="VISAFAQ_X"):
        Rate.parse(text, "VISAFAQ_X")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VISAFAQ_RATE_LIMIT_SENDER", "lots"),
        ("VISAFAQ_RATE_LIMIT_ADDRESS", "1/day"),
        ("VISAFAQ_MAX_BODY_BYTES", "64k"),
        ("VISAFAQ_MAX_BODY_BYTES", "10"),
        ("VISAFAQ_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("VISAFAQ_TRUSTED_PROXIES", "nginx"),
    ],
)
def test_unusable_settings_are_refused_with_the_variable_named(variable: str, value: str) -> None:
    with pytest.raises(LimitConfigError, match=variable):
        LimitSettings.from_env({variable: value})


def test_the_defaults_suit_a_chat() -> None:
    settings = LimitSettings.from_env({})
    assert settings.per_sender == Rate(20, 60)
    assert settings.per_address == Rate(120, 60)
    assert settings.staff_login == Rate(10, 60)
    assert settings.max_body_bytes == 65536
    assert settings.redis_url is None and settings.trusted_proxies == ()


def test_a_memory_window_refuses_past_the_limit_and_opens_again_when_it_ends() -> None:
    windows, rate = MemoryWindows(), Rate(3, 60)
    verdicts = [windows.hit("k", rate, now=100.0 + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[-1].retry_after == 57  # the window began at 100 and ends at 160; this hit was at 103
    assert windows.hit("other", rate, now=103.0).allowed  # keys are counted apart
    assert windows.hit("k", rate, now=160.0).allowed  # a new window


def test_memory_stays_bounded_under_a_flood_of_new_keys() -> None:
    windows = MemoryWindows(max_keys=1000)
    for i in range(5000):
        windows.hit(f"sender-{i}", Rate(1, 60), now=1.0)
    assert len(windows) == 1000


def test_the_limiter_counts_each_limit_apart() -> None:
    async def scenario() -> tuple[bool, bool]:
        limiter = RateLimiter()
        await limiter.hit("sender", "a", Rate(1, 60))
        first = await limiter.hit("sender", "a", Rate(1, 60))
        other = await limiter.hit("address", "a", Rate(1, 60))
        return first.allowed, other.allowed

    assert asyncio.run(scenario()) == (False, True)


# --- the real Redis ---------------------------------------------------------------------------------------
@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    url = redis_url_or_skip()
    prefix = f"visafaq-test:{secrets.token_hex(6)}:"
    yield url, prefix
    client = redis.Redis.from_url(url, socket_timeout=2)
    keys = list(client.scan_iter(f"{prefix}*", count=100))
    if keys:
        client.delete(*keys)
    client.close()


def test_two_replicas_sharing_redis_enforce_one_limit(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    rate = Rate(4, 30)

    async def scenario() -> list[bool]:
        one, two = RateLimiter(url, prefix), RateLimiter(url, prefix)  # as two processes would
        try:
            allowed = []
            for limiter in [one, two, one, two, one, two]:
                allowed.append((await limiter.hit("rest-sender", "alice", rate)).allowed)
            return allowed
        finally:
            await one.close()
            await two.close()

    assert asyncio.run(scenario()) == [True, True, True, True, False, False]
    client = redis.Redis.from_url(url, socket_timeout=2)
    keys = [key.decode() for key in client.scan_iter(f"{prefix}*")]
    ttl = int(client.pttl(keys[0])) if keys else -2  # type: ignore[arg-type]
    client.close()
    assert len(keys) == 1 and "alice" not in keys[0]  # one counter, and the sender id is not in its name
    assert 0 < ttl <= 30_000  # the counter goes away with its window


def test_a_redis_window_ends_and_the_key_may_hit_again(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    rate = Rate(2, 1)

    async def scenario() -> tuple[list[bool], int, bool]:
        limiter = RateLimiter(url, prefix)
        try:
            verdicts = [await limiter.hit("rest-address", "203.0.113.5", rate) for _ in range(3)]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # until the window is over (about a second), at most 5 s
                await asyncio.sleep(0.2)
                after = await limiter.hit("rest-address", "203.0.113.5", rate)
                if after.allowed:
                    break
            return [v.allowed for v in verdicts], verdicts[-1].retry_after, after.allowed
        finally:
            await limiter.close()

    allowed, retry_after, later = asyncio.run(scenario())
    assert allowed == [True, True, False]
    assert retry_after == 1
    assert later


def test_when_redis_is_down_the_limit_still_holds_in_the_process_and_it_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there

    async def scenario() -> list[bool]:
        limiter = RateLimiter(dead)
        return [(await limiter.hit("rest-sender", "bob", Rate(2, 60))).allowed for _ in range(3)]

    with caplog.at_level(logging.WARNING, logger="visafaq.ratelimit"):
        assert asyncio.run(scenario()) == [True, True, False]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1, warnings  # once per outage, not once per message
    assert "unreachable" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "hunter2" not in warnings[0]


# --- the client's address ----------------------------------------------------------------------------------
PROXIES = parse_networks("127.0.0.1 10.0.0.0/8, ::1", "VISAFAQ_TRUSTED_PROXIES")


@pytest.mark.parametrize(
    ("peer", "headers", "proxies", "expected"),
    [
        pytest.param("198.51.100.7", {}, (), "198.51.100.7", id="direct"),
        pytest.param("198.51.100.7", {"x-forwarded-for": "1.2.3.4"}, (), "198.51.100.7", id="no-proxies-no-header"),
        pytest.param(
            "198.51.100.7", {"x-forwarded-for": "1.2.3.4"}, PROXIES, "198.51.100.7", id="header-from-untrusted-peer"
        ),
        pytest.param("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, PROXIES, "203.0.113.9", id="one-proxy"),
        pytest.param(
            "127.0.0.1", {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}, PROXIES, "203.0.113.9", id="spoofed-left-part"
        ),
        pytest.param(
            "127.0.0.1", {"x-forwarded-for": "203.0.113.9, 10.1.2.3"}, PROXIES, "203.0.113.9", id="two-proxies"
        ),
        pytest.param("127.0.0.1", {"x-forwarded-for": "10.1.2.3"}, PROXIES, "10.1.2.3", id="all-trusted"),
        pytest.param("127.0.0.1", {"x-forwarded-for": "junk, 10.1.2.3"}, PROXIES, "10.1.2.3", id="garbage-hop"),
        pytest.param("127.0.0.1", {"x-forwarded-for": "junk"}, PROXIES, "127.0.0.1", id="only-garbage"),
        pytest.param("127.0.0.1", {"x-real-ip": "203.0.113.10"}, PROXIES, "203.0.113.10", id="x-real-ip"),
        pytest.param("127.0.0.1", {"x-real-ip": "<script>"}, PROXIES, "127.0.0.1", id="bad-x-real-ip"),
        pytest.param("::1", {"x-forwarded-for": "2001:db8::5"}, PROXIES, "2001:db8::5", id="ipv6"),
        pytest.param("::ffff:127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, PROXIES, "203.0.113.9", id="v4-mapped"),
        pytest.param(
            "127.0.0.1", {"x-forwarded-for": "203.0.113.9:4711"}, PROXIES, "203.0.113.9", id="address-with-port"
        ),
        pytest.param(None, {}, PROXIES, "unknown", id="no-peer"),
    ],
)
def test_the_client_address_trusts_forwarded_headers_only_from_our_proxies(
    peer: str | None, headers: dict[str, str], proxies: tuple[object, ...], expected: str
) -> None:
    assert client_address(peer, headers, PROXIES if proxies else ()) == expected


def test_the_module_imports_in_the_rasa_environment() -> None:
    """channels/rest.py imports it inside the Rasa process (Python 3.10, redis-py 4.6); ruff and mypy check it
    as Python 3.12 only."""
    import subprocess

    from visafaq.settings import PROJECT_ROOT

    python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no Rasa environment at {python}: make setup creates it")
    check = "import visafaq.ratelimit as r, redis.asyncio; print(r.Rate.parse('20/minute', 'X'))"
    done = subprocess.run(
        [str(python), "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "20/60s"
