"""A Redis lock store whose ticket operations are atomic, for several Rasa replicas.

Configured in deploy/endpoints.prod.yml::

    lock_store:
      type: loginhelp.lock_store.AtomicRedisLockStore
      url: REDIS_HOST
      port: 6379
      db: 1
      key_prefix: loginhelp
      poll_interval: 0.05

Rasa serialises the messages of one conversation with a ticket lock ("take a
number"): a replica takes a ticket, waits until its number is served, handles
the message and returns the ticket. Rasa 3.6's RedisLockStore stores the lock
as one JSON value and updates it with GET, change, SET. Two replicas that take
a ticket for the same conversation within a few milliseconds (a double click,
a message sent twice by a widget that reconnected) both read the same lock,
both write "ticket N", and both go ahead: they process the conversation at the
same time and the tracker store keeps only part of their events (measured:
three messages lost out of nineteen sent in pairs; tests/prod/test_1_replicas.py);
a ticket overwritten in the race is never served, so its message waits until the
ticket expires (60 s), or for ever once the lock's ticket list is empty.
Here each change of the lock is a Redis transaction (WATCH / MULTI / EXEC,
retried when another replica changed the lock in between), and the lock key
expires on its own once its last ticket has expired, so a replica that died
holding a ticket leaves nothing behind.

Rasa's waiting loop polls the lock once a second; ``poll_interval`` (seconds,
default 0.05) makes a second message of the same conversation wait only as
long as the first one takes.
"""
from __future__ import annotations

import json
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Extra seconds the lock key outlives its last ticket.
KEY_GRACE_SECONDS = 60
#: A transaction retried this often without succeeding gives up with a LockError
#: (a handful of retries is normal under a burst; hundreds means a runaway writer).
MAX_TRANSACTION_ATTEMPTS = 200


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore with transactional ticket operations and a shorter wait between polls."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, poll_interval: float = 0.05,
                 **kwargs: Any) -> None:
        # Rasa builds a custom lock store with the endpoint configuration only:
        # `url` is the Redis host, the other keys are RedisLockStore's arguments.
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, **kwargs, "host": endpoint_config.url or "localhost"}
        poll_interval = kwargs.pop("poll_interval", poll_interval)
        super().__init__(**kwargs)
        self.poll_interval = float(poll_interval)

    # ------------------------------------------------------------------ transactions

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def _transaction(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[T, Optional[TicketLock], bool]]
    ) -> T:
        """Apply ``change`` to the stored lock atomically.

        ``change(lock)`` returns (result, new lock, write): with ``write`` the new
        lock is stored (or the key deleted when it is None).
        """
        import redis

        key = self._key(conversation_id)
        with self.red.pipeline() as pipe:
            for _ in range(MAX_TRANSACTION_ATTEMPTS):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, new_lock, write = change(lock)
                    pipe.multi()
                    if write and new_lock is None:
                        pipe.delete(key)
                    elif write and new_lock is not None:
                        pipe.set(key, new_lock.dumps(), ex=self._expiry(new_lock))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another replica changed the lock: read it again
        raise LockError(f"the lock of {conversation_id!r} kept changing under {MAX_TRANSACTION_ATTEMPTS} attempts")

    @staticmethod
    def _expiry(lock: TicketLock) -> int:
        latest = max((ticket.expires for ticket in lock.tickets), default=time.time())
        return max(1, math.ceil(latest - time.time()) + KEY_GRACE_SECONDS)

    # ------------------------------------------------------------------ LockStore API

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]):
            lock = lock or TicketLock(conversation_id)
            ticket = lock.issue_ticket(lock_lifetime)
            return ticket, lock, True

        try:
            return self._transaction(conversation_id, change)
        except Exception as error:  # same contract as Rasa's: a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None, False
            lock.remove_expired_tickets()
            return None, lock, True

        self._transaction(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None, False
            lock.remove_ticket_for(ticket_number)
            return None, lock, True

        self._transaction(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Return the ticket; delete the lock in the same transaction when nobody waits."""

        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return None, lock, True
            return None, None, True

        self._transaction(conversation_id, change)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        wait = self.poll_interval if wait_time_in_seconds is None else wait_time_in_seconds
        async with super().lock(conversation_id, lock_lifetime, wait) as acquired:
            yield acquired
