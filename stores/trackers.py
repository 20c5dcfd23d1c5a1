"""Rasa's SQL tracker store, made to survive a database restart and to fail loudly while it is down.

Rasa 3.6's `SQLTrackerStore` creates its engine without `pool_pre_ping` and without timeouts, so the
first request after a PostgreSQL restart fails on a dead pooled connection, and a database that stops
answering holds the server for as long as the operating system lets a socket hang. This one:

- builds its engine with `pool_pre_ping` (a dead pooled connection is replaced before use) and, on
  PostgreSQL, `connect_timeout`, a `statement_timeout`, TCP keep-alives and `tcp_user_timeout`, so every
  call to the database ends within TRACKER_STORE_CONNECT_TIMEOUT (5) / TRACKER_STORE_STATEMENT_TIMEOUT
  (10) seconds; a free pooled connection is waited for at most TRACKER_STORE_POOL_TIMEOUT (10);
- retries `retrieve`, `retrieve_full_tracker`, `keys` and `save` up to TRACKER_STORE_RETRIES (3) times
  (0.5 s, 1 s, 2 s apart) when the error is the database being unreachable, not the query being wrong.
  `save` is safe to repeat: it writes the events the database does not have yet, counted again on each
  try, in one transaction.

Rasa wraps every tracker store in a `FailSafeTrackerStore`, which on an error answers from an empty
conversation and saves it in memory only: a message in an outage would be answered without its
history and then lost. `install()` (called when this store is created) makes that wrapper pass the
error on instead, so the channel answers "temporarily unavailable" (channels/outages.py) and the
client sends the message again once the database is back: each message is stored once.

endpoints.yml (PostgreSQL: the whole SQLAlchemy URL in `url`, as Rasa accepts it):
    tracker_store:
      type: stores.trackers.SQLTrackerStore
      url: ${TRACKER_STORE_URL}
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import FailSafeTrackerStore, create_engine_kwargs, is_postgresql_url
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import URL

from stores.settings import number

logger = logging.getLogger(__name__)

DB_CONNECT_TIMEOUT = number("TRACKER_STORE_CONNECT_TIMEOUT", 5.0)
DB_STATEMENT_TIMEOUT = number("TRACKER_STORE_STATEMENT_TIMEOUT", 10.0)
DB_POOL_TIMEOUT = number("TRACKER_STORE_POOL_TIMEOUT", 10.0)
DB_RETRIES = int(number("TRACKER_STORE_RETRIES", 3.0, allow_zero=True))
FIRST_RETRY_DELAY = 0.5

#: The database is unreachable, restarting or too slow: worth another try. Other errors are not.
UNREACHABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError)


def engine_kwargs(url: str | URL) -> dict[str, Any]:
    """Rasa's engine settings (pool size, schema) plus pre-ping and, on PostgreSQL, timeouts."""
    kwargs: dict[str, Any] = {**create_engine_kwargs(url), "pool_pre_ping": True}
    if is_postgresql_url(url):
        connect_args = dict(kwargs.get("connect_args", {}))
        options = f"{connect_args.get('options', '')} -c statement_timeout={int(DB_STATEMENT_TIMEOUT * 1000)}"
        connect_args.update(
            options=options.strip(),
            connect_timeout=max(1, round(DB_CONNECT_TIMEOUT)),
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=5,
            keepalives_count=3,
            # A write the server never acknowledges (it vanished) fails after this, not minutes later.
            tcp_user_timeout=int((DB_CONNECT_TIMEOUT + DB_STATEMENT_TIMEOUT) * 1000),
        )
        kwargs.update(connect_args=connect_args, pool_timeout=DB_POOL_TIMEOUT)
    return kwargs


def _retried(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def retried(self: SQLTrackerStore, *args: Any) -> Any:
        delay = FIRST_RETRY_DELAY
        for attempt in range(DB_RETRIES + 1):
            try:
                return await method(self, *args)
            except UNREACHABLE as error:
                if attempt == DB_RETRIES:
                    raise
                logger.warning(
                    "Tracker store %s failed (%s), try %d of %d in %.1f s",
                    method.__name__,
                    type(error.orig if isinstance(error, sqlalchemy.exc.DBAPIError) else error).__name__,
                    attempt + 2,
                    DB_RETRIES + 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises

    return retried


class SQLTrackerStore(RasaSQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install()
        super().__init__(*args, **kwargs)  # connects, creating the table (Rasa waits for the database)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, **engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        logger.info(
            "SQL tracker store on %s: pre-ping, %.0f s connect / %.0f s statement timeouts, %d retries",
            url.get_backend_name(),
            DB_CONNECT_TIMEOUT,
            DB_STATEMENT_TIMEOUT,
            DB_RETRIES,
        )

    @_retried
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await super().retrieve(sender_id)

    @_retried
    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await super().retrieve_full_tracker(conversation_id)

    @_retried
    async def keys(self) -> Iterable[str]:
        return await super().keys()

    @_retried
    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)


def _pass_on(self: FailSafeTrackerStore, error: Exception) -> None:
    """Instead of falling back to an empty, in-memory conversation: log one line and raise the error."""
    message = " ".join(str(getattr(error, "orig", None) or error).split("[SQL:")[0].split())[:300]
    logger.error("Tracker store unavailable: %s: %s", type(error).__name__, message)
    raise error


def install() -> None:
    """Make Rasa's FailSafeTrackerStore pass a store's error on (idempotent)."""
    FailSafeTrackerStore.on_tracker_store_error = _pass_on  # type: ignore[method-assign]
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _pass_on  # type: ignore[method-assign]
