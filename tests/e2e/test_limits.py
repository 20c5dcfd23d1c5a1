"""Rate limits on the real Rasa server's REST channel (the widget's): per sender, per client address (behind a
trusted proxy), and shared through Redis with another replica. The shared server's limits are in
tests/e2e/conftest.py (E2E_LIMITS): 20 messages per sender per 5 s, 600 requests per address per minute."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import pytest
from sqlalchemy import text

from tests.conftest import redis_url_or_skip
from tests.e2e.conftest import E2E_LIMITS, Response, Server
from visafaq.db.engine import make_engine
from visafaq.ratelimit import Rate, RateLimiter

WEBHOOK = "/webhooks/rest/webhook"
SENDER_LIMIT = Rate.parse(E2E_LIMITS["VISAFAQ_RATE_LIMIT_SENDER"], "sender")
ADDRESS_LIMIT = Rate.parse(E2E_LIMITS["VISAFAQ_RATE_LIMIT_ADDRESS"], "address")


def post(server: Server, sender: str, message: str = "hello", client: str | None = None) -> Response:
    headers = {"X-Forwarded-For": client} if client else {}
    body = json.dumps({"sender": sender, "message": message}).encode()
    return server.request(WEBHOOK, body, headers=headers)


def user_events(server: Server, sender: str) -> int:
    with make_engine(server.tracker_url).connect() as tracker:
        query = text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'")
        return int(tracker.execute(query, {"s": sender}).scalar_one())


def assert_too_many(response: Response, limit: str, window: int) -> int:
    assert response.status == 429, response.body
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window
    body = json.loads(response.body)
    assert body["error"] == "rate_limited" and body["limit"] == limit
    assert body["retry_after"] == retry_after  # the widget reads it here: CORS hides the header from it
    assert f"wait {retry_after} s" in body["message"]
    return retry_after


def test_one_sender_over_its_limit_gets_429_with_retry_after_and_then_gets_through(server: Server) -> None:
    assert SENDER_LIMIT is not None
    sender = f"limit-sender-{secrets.token_hex(4)}"
    # A malformed message counts too, so most of the allowance is spent cheaply, without the model.
    for _ in range(SENDER_LIMIT.limit - 1):
        assert server.request(WEBHOOK, json.dumps({"sender": sender, "message": ""}).encode()).status == 400
    assert post(server, sender).status == 200  # the last one allowed
    refused = post(server, sender, "what documents do I need for the trainee visa?")
    retry_after = assert_too_many(refused, "sender", SENDER_LIMIT.seconds)
    assert user_events(server, sender) == 1  # the refused message was not stored
    assert post(server, f"{sender}-other").status == 200  # another sender from the same address is fine
    # After the window: through again (waits at most the window, plus a margin, bounded).
    deadline = time.monotonic() + SENDER_LIMIT.seconds + 5
    time.sleep(retry_after)
    while (response := post(server, sender)).status == 429 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert response.status == 200, response.body
    assert user_events(server, sender) == 2


def test_one_address_over_its_limit_gets_429_whatever_sender_it_claims(server: Server) -> None:
    """Through the trusted proxy (127.0.0.1): X-Forwarded-For names the client, and each request claims a
    new sender id, as a script dodging the per-sender limit would."""
    assert ADDRESS_LIMIT is not None
    client = f"203.0.113.{secrets.randbelow(200) + 20}"
    other = f"198.51.100.{secrets.randbelow(200) + 20}"
    statuses = []
    for i in range(ADDRESS_LIMIT.limit):  # malformed, so the model is not bothered; they count all the same
        body = json.dumps({"sender": f"addr-{client}-{i}", "message": ""}).encode()
        statuses.append(server.request(WEBHOOK, body, headers={"X-Forwarded-For": client}).status)
    assert set(statuses) == {400}
    assert_too_many(post(server, f"addr-{client}-last", client=client), "address", ADDRESS_LIMIT.seconds)
    # The left part of X-Forwarded-For is the client's to write: spoofing it changes nothing.
    spoofed = post(server, f"addr-{client}-spoof", client=f"{other}, {client}")
    assert_too_many(spoofed, "address", ADDRESS_LIMIT.seconds)
    assert post(server, f"addr-{other}", client=other).status == 200  # another client is served
    assert post(server, "addr-direct").status == 200  # and so is the proxy's own address
    assert server.alive()


def test_the_limit_is_shared_through_redis_with_another_replica(server: Server) -> None:
    """Another replica (a RateLimiter in this process, on the server's Redis and key prefix) spends a
    sender's allowance; the Rasa server then refuses that sender's next message."""
    assert SENDER_LIMIT is not None
    url = redis_url_or_skip()
    assert E2E_LIMITS["VISAFAQ_RATE_LIMIT_REDIS_URL"] == url
    sender = f"limit-shared-{secrets.token_hex(4)}"

    async def spend() -> None:
        replica = RateLimiter(url, E2E_LIMITS["VISAFAQ_RATE_LIMIT_PREFIX"])
        try:
            for _ in range(SENDER_LIMIT.limit):
                assert (await replica.hit("rest-sender", sender, SENDER_LIMIT)).allowed
        finally:
            await replica.close()

    asyncio.run(spend())
    assert_too_many(post(server, sender), "sender", SENDER_LIMIT.seconds)
    assert user_events(server, sender) == 0


@pytest.mark.parametrize(
    ("size", "says"),
    [(60_000, "longer than 5000"), (64 * 1024 + 1, "exceeds"), (1024 * 1024, "exceeds")],
    ids=["under-64-KiB-reaches-the-channel", "just-over-64-KiB", "1-MiB"],
)
def test_sanic_refuses_a_body_over_the_size_the_launcher_set(server: Server, size: int, says: str) -> None:
    """SANIC_REQUEST_MAX_SIZE from the launcher (VISAFAQ_MAX_BODY_BYTES, 64 KiB; Sanic's default is 100 MB):
    just under it, the channel's own message check answers; over it, Sanic refuses before any handler."""
    head, tail = b'{"sender": "limit-size", "message": "', b'"}'
    body = head + b"a" * (size - len(head) - len(tail)) + tail
    assert len(body) == size
    response = server.request(WEBHOOK, body)
    assert response.status == 413, response.body
    assert says in response.body
    assert user_events(server, "limit-size") == 0
    assert server.alive()
