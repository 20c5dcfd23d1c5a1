"""Rate limits and the client's address, for the Rasa REST channel and for the web app.

A limit is "at most N hits per window of S seconds" per key (a sender id, a client address). The window is
fixed and starts at a key's first hit; a refused hit says how many seconds remain (`Retry-After`).

Counts live in this process's memory by default. With `VISAFAQ_RATE_LIMIT_REDIS_URL` they live in Redis, so
several replicas enforce one limit (one counter per key: SET NX with the window's expiry, then INCR, in one
transaction). When Redis cannot be reached the limiter **falls back to this process's own counts** for a few
seconds and logs it (once per outage): the limit then holds per replica instead of across them, and people can
still chat. Refusing everyone while Redis is down (failing closed) would turn a rate-limit store outage into an
outage of the assistant, which is worse than a looser limit for a minute.

This module is imported by the Rasa process too (`channels/rest.py`, Python 3.10, redis-py 4.6): standard
library and redis-py only, nothing else from visafaq, and Python 3.10 syntax.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("visafaq.ratelimit")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where every limit's counters live in Redis, unless VISAFAQ_RATE_LIMIT_PREFIX says otherwise.
DEFAULT_PREFIX = "visafaq:ratelimit:"
#: How long the limiter keeps to its own counts after Redis failed, before trying Redis again.
REDIS_RETRY_SECONDS = 5.0
#: Redis must answer within this (seconds). Generous, because it is wall time in the caller's event loop, which
#: Rasa's model inference blocks now and then (0.5 s tripped on a loaded machine); a dead Redis refuses the
#: connection at once, and after a failure Redis is left alone for REDIS_RETRY_SECONDS anyway.
REDIS_TIMEOUT = 2.0
#: Keys kept in memory at most; past that the oldest windows are dropped (a flood of new senders cannot
#: exhaust memory; it only forgets old counts early).
MAX_MEMORY_KEYS = 100_000
#: The largest request body either server reads (VISAFAQ_MAX_BODY_BYTES): a 5000-character message,
#: JSON-escaped, is at most about 30 KB.
DEFAULT_MAX_BODY_BYTES = 65536


class LimitConfigError(ValueError):
    """A limit setting is unusable; the message names the variable and shows the expected form."""


_UNITS = {
    "": 1,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Rate:
    """At most `limit` hits per `seconds`."""

    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str, variable: str) -> Rate | None:
        """`20/minute`, `20 per 60s`, `5/10 seconds`, `100/hour`; `off` (or `0`) for no limit (None)."""
        if text.strip().lower() in {"off", "none", "0", ""}:
            return None
        match = _RATE.match(text.lower())
        if not match or match.group(3) not in _UNITS:
            raise LimitConfigError(
                f"{variable}={text!r} is not a rate: write it like 20/minute, 20/60s or 5/10 seconds (or off)"
            )
        count, amount, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
        seconds = amount * _UNITS[unit]
        if count < 1 or seconds < 1:
            raise LimitConfigError(f"{variable}={text!r}: the count and the window must be at least 1")
        return cls(count, seconds)

    def __str__(self) -> str:
        return f"{self.limit}/{self.seconds}s"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Hits left in this window after this one.
    remaining: int
    #: Whole seconds until the window ends (at least 1): what `Retry-After` says when refused.
    retry_after: int


def _verdict(count: int, rate: Rate, seconds_left: float) -> Verdict:
    return Verdict(count <= rate.limit, max(0, rate.limit - count), max(1, math.ceil(seconds_left)))


class MemoryWindows:
    """Fixed windows in this process's memory."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self.max_keys = max_keys
        self._windows: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def hit(self, key: str, rate: Rate, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + rate.seconds
            self._windows.pop(key, None)
        count += 1
        self._windows[key] = (count, ends)  # (re)inserted last: the dict is ordered by window start
        self._prune(now)
        return _verdict(count, rate, ends - now)

    def _prune(self, now: float) -> None:
        while len(self._windows) > self.max_keys:
            self._windows.popitem(last=False)
        # Windows start in order, so expired ones are at the front (windows of different lengths may
        # interleave; those are dropped a little later).
        while self._windows:
            _key, (_count, ends) = next(iter(self._windows.items()))
            if ends > now:
                break
            self._windows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._windows)


class RedisWindows:
    """The same fixed windows in Redis (redis-py's asyncio client), shared by every process using `prefix`."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        import redis.asyncio  # only when configured: the default needs no Redis

        self.prefix = prefix
        self.client: Any = redis.asyncio.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=30
        )

    async def hit(self, key: str, rate: Rate) -> Verdict:
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=rate.seconds * 1000, nx=True)
            pipe.incr(name)
            pipe.pttl(name)
            _created, count, pttl = await asyncio.wait_for(pipe.execute(), timeout=REDIS_TIMEOUT * 2)
        if pttl < 0:  # no expiry (a key someone else wrote): give it one rather than count forever
            await self.client.pexpire(name, rate.seconds * 1000)
            pttl = rate.seconds * 1000
        return _verdict(int(count), rate, pttl / 1000)

    async def close(self) -> None:
        close = getattr(self.client, "aclose", None) or self.client.close  # aclose from redis-py 5
        await close()


def redacted(url: str) -> str:
    """A Redis URL fit for a log line: no password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RateLimiter:
    """Counts hits per (limit name, key) in memory, or in Redis when a URL is given (with the memory
    fallback described at the top of this module)."""

    def __init__(self, redis_url: str | None = None, prefix: str = DEFAULT_PREFIX) -> None:
        self.memory = MemoryWindows()
        self.redis_url = redis_url or None
        self.prefix = prefix
        self._redis: RedisWindows | None = None
        self._redis_down_until = 0.0
        self._redis_was_down = False

    @property
    def shared(self) -> bool:
        return self.redis_url is not None

    async def hit(self, name: str, key: str, rate: Rate) -> Verdict:
        # Keys are hashed: sender ids and addresses are not written to Redis as they are, and any length fits.
        digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]
        counter = f"{name}:{digest}"
        if self.redis_url is not None and time.monotonic() >= self._redis_down_until:
            try:
                if self._redis is None:
                    self._redis = RedisWindows(self.redis_url, self.prefix)
                verdict = await self._redis.hit(counter, rate)
            except Exception as error:  # redis-py's errors, OSError, timeouts: all mean "not now"
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                if not self._redis_was_down:
                    log.warning(
                        "rate limits: Redis at %s is unreachable (%s: %s); counting in this process only "
                        "until it is back",
                        redacted(self.redis_url),
                        type(error).__name__,
                        error or f"no answer within {REDIS_TIMEOUT:g} s",
                    )
                self._redis_was_down = True
            else:
                if self._redis_was_down:
                    log.warning("rate limits: Redis at %s is back; limits are shared again", redacted(self.redis_url))
                    self._redis_was_down = False
                return verdict
        return self.memory.hit(counter, rate)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()


# --- the client's address -----------------------------------------------------------------------------


def parse_networks(text: str, variable: str) -> tuple[Network, ...]:
    """Addresses or CIDR networks, space- or comma-separated: `127.0.0.1 10.0.0.0/8 ::1`."""
    networks = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise LimitConfigError(f"{variable}: {item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from error
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str | None, headers: Mapping[str, str], proxies: tuple[Network, ...]) -> str:
    """Who is asking. The connection's peer, unless the peer is one of our `proxies` (VISAFAQ_TRUSTED_PROXIES):
    then X-Forwarded-For read from the right, skipping our own proxies (the left part is whatever the client
    wrote), or X-Real-IP when there is no X-Forwarded-For. A header from anyone else is ignored."""
    seen = _address(peer or "")
    if seen is None:
        return peer or "unknown"
    if not proxies or not _trusted(seen, proxies):
        return str(seen)
    forwarded = headers.get("x-forwarded-for")
    if forwarded:
        for hop in reversed(forwarded.split(",")):
            address = _address(hop)
            if address is None:
                break  # garbage written by the client: the hop to its right is the best we know
            seen = address
            if not _trusted(address, proxies):
                break
        return str(seen)
    real = _address(headers.get("x-real-ip", ""))
    return str(real) if real is not None else str(seen)


@dataclass(frozen=True)
class LimitSettings:
    """Limits for the Rasa REST channel and the web app, from the environment (see the README's "Limits")."""

    per_sender: Rate | None
    per_address: Rate | None
    staff_login: Rate | None
    web_post: Rate | None
    max_body_bytes: int
    trusted_proxies: tuple[Network, ...]
    redis_url: str | None
    prefix: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LimitSettings:
        def rate(variable: str, default: str) -> Rate | None:
            return Rate.parse(env.get(variable, default), variable)

        body = env.get("VISAFAQ_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)).strip()
        if not body.isdigit() or int(body) < 1024:
            raise LimitConfigError(f"VISAFAQ_MAX_BODY_BYTES={body!r} must be a number of bytes, at least 1024")
        return cls(
            per_sender=rate("VISAFAQ_RATE_LIMIT_SENDER", "20/minute"),
            per_address=rate("VISAFAQ_RATE_LIMIT_ADDRESS", "120/minute"),
            staff_login=rate("VISAFAQ_RATE_LIMIT_STAFF_LOGIN", "10/minute"),
            web_post=rate("VISAFAQ_RATE_LIMIT_WEB_POST", "60/minute"),
            max_body_bytes=int(body),
            trusted_proxies=parse_networks(env.get("VISAFAQ_TRUSTED_PROXIES", ""), "VISAFAQ_TRUSTED_PROXIES"),
            redis_url=env.get("VISAFAQ_RATE_LIMIT_REDIS_URL") or None,
            prefix=env.get("VISAFAQ_RATE_LIMIT_PREFIX") or DEFAULT_PREFIX,
        )


def too_many_message(retry_after: int) -> str:
    """What a person is told (the widget shows it as it is)."""
    return (
        f"You are sending messages faster than the assistant can take them. Please wait {retry_after} s and send again."
    )
