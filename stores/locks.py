"""Rasa's Redis lock store with finite timeouts, keep-alive, a health check and a bounded retry.

Rasa 3.6's `RedisLockStore` gives its client a 10 s socket timeout and no retry: after a Redis restart
the first command on a pooled connection fails, so the next message after the restart gets an error.
This one's client (redis-py's own mechanisms, nothing of ours):

- connects within LOCK_STORE_CONNECT_TIMEOUT (2 s) and waits at most LOCK_STORE_SOCKET_TIMEOUT (5 s)
  for each reply;
- pings a connection idle for more than LOCK_STORE_HEALTH_CHECK_SECONDS (10) before using it;
- retries a command that failed on a broken connection or a timeout up to LOCK_STORE_RETRIES (3)
  times, with exponential backoff (0.2 s doubling, at most 1 s), on a fresh connection. A refused
  connection (Redis down) is not retried: it fails at once.

When Redis stays down, the error reaches the channel, which answers "temporarily unavailable"
(channels/outages.py). The Redis calls are Rasa's, synchronous: a retry holds the event loop, for at
most about 2 s with the defaults (plus the timeouts when Redis hangs rather than refuses).

endpoints.yml:
    lock_store:
      type: stores.locks.RedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: 1            # and password, key_prefix, use_ssl... as for Rasa's `type: redis`
"""

from __future__ import annotations

import logging

import redis
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from stores.settings import number

logger = logging.getLogger(__name__)

REDIS_CONNECT_TIMEOUT = number("LOCK_STORE_CONNECT_TIMEOUT", 2.0)
REDIS_SOCKET_TIMEOUT = number("LOCK_STORE_SOCKET_TIMEOUT", 5.0)
REDIS_HEALTH_CHECK_SECONDS = number("LOCK_STORE_HEALTH_CHECK_SECONDS", 10.0)
REDIS_RETRIES = int(number("LOCK_STORE_RETRIES", 3.0, allow_zero=True))


class RedisLockStore(RasaRedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        kwargs = dict(endpoint_config.kwargs)
        kwargs.setdefault("socket_timeout", REDIS_SOCKET_TIMEOUT)
        super().__init__(host=endpoint_config.url or "localhost", **kwargs)
        rasa_pool = self.red.connection_pool
        connection_kwargs = {
            **rasa_pool.connection_kwargs,
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_keepalive": True,
            "health_check_interval": REDIS_HEALTH_CHECK_SECONDS,
            "retry": Retry(ExponentialBackoff(cap=1.0, base=0.1), REDIS_RETRIES),
            "retry_on_error": [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        }
        self.red = redis.StrictRedis(
            connection_pool=redis.ConnectionPool(connection_class=rasa_pool.connection_class, **connection_kwargs)
        )
        rasa_pool.disconnect()
        logger.info(
            "Redis lock store at %s:%s: timeouts %.0f s connect / %.0f s reply, %d retries",
            connection_kwargs.get("host"),
            connection_kwargs.get("port"),
            REDIS_CONNECT_TIMEOUT,
            REDIS_SOCKET_TIMEOUT,
            REDIS_RETRIES,
        )
