"""What one rate-limit check costs, in memory and in the real Redis (two per REST message).

    .venv/bin/python benchmarks/ratelimit_cost.py [redis://127.0.0.1:6379/0]

Keys go under a prefix of their own and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time

import redis

from visafaq.ratelimit import Rate, RateLimiter

HITS = 2000


async def measure(name: str, limiter: RateLimiter) -> None:
    rate = Rate(1_000_000, 60)
    await limiter.hit("bench", "warm-up", rate)
    started = time.perf_counter()
    for i in range(HITS):
        await limiter.hit("bench", f"sender-{i % 50}", rate)
    seconds = time.perf_counter() - started
    print(f"{name}: {HITS} checks in {seconds:.3f} s, {seconds / HITS * 1e6:.0f} us each")
    await limiter.close()


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"
    prefix = f"visafaq-bench:{secrets.token_hex(4)}:"
    asyncio.run(measure("memory", RateLimiter()))
    asyncio.run(measure("redis", RateLimiter(url, prefix)))
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


if __name__ == "__main__":
    main()
