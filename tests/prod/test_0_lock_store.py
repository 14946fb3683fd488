"""The atomic Redis lock store against the real Redis: two "replicas" never hold one conversation at once."""
from __future__ import annotations

import asyncio
import os
import secrets
import threading
from typing import List, Tuple

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from loginhelp.lock_store import AtomicRedisLockStore

from loginhelp.prod_stack import redis_cleanup

REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))


@pytest.fixture
def prefix():
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({error})", pytrace=False)
    value = f"lhtest{secrets.token_hex(4)}"
    yield value
    redis_cleanup(REDIS_DB, value)


def store(prefix: str) -> AtomicRedisLockStore:
    """Built the way Rasa builds it from endpoints.prod.yml."""
    return AtomicRedisLockStore(endpoint_config=EndpointConfig(
        url="127.0.0.1", type="loginhelp.lock_store.AtomicRedisLockStore",
        port="6379", db=str(REDIS_DB), password="", key_prefix=prefix, poll_interval=0.01))


def test_concurrent_tickets_are_unique(prefix: str):
    stores = [store(prefix) for _ in range(4)]
    tickets: List[int] = []
    guard = threading.Lock()

    def take(lock_store: AtomicRedisLockStore) -> None:
        for _ in range(25):
            number = lock_store.issue_ticket("conversation")
            with guard:
                tickets.append(number)

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(100))


def test_two_replicas_never_process_one_conversation_at_once(prefix: str):
    """Two threads with their own event loop and store stand for two Rasa processes.

    (Rasa's own RedisLockStore fails this: it updates the lock with GET then SET,
    so messages overlap, and a ticket lost in the race waits until it expires.)
    """
    timeline: List[Tuple[str, int]] = []
    guard = threading.Lock()
    errors: List[BaseException] = []

    def replica(index: int) -> None:
        lock_store = store(prefix)

        async def handle(number: int) -> None:
            async with lock_store.lock("customer-1"):
                with guard:
                    timeline.append(("start", number))
                await asyncio.sleep(0.003)
                with guard:
                    timeline.append(("end", number))

        async def messages() -> None:
            await asyncio.gather(*(handle(index * 100 + n) for n in range(20)))

        try:
            asyncio.run(messages())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=replica, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(timeline) == 80
    for index in range(0, 80, 2):  # strictly start/end pairs of the same message
        assert timeline[index][0] == "start" and timeline[index + 1] == ("end", timeline[index][1])
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    assert list(client.scan_iter(f"{prefix}:*")) == []  # the lock is gone once nobody waits


async def test_a_dead_holder_does_not_block_forever(prefix: str):
    lock_store = store(prefix)
    lock_store.issue_ticket("customer-2", lock_lifetime=0.3)  # a replica that died holding it
    async with lock_store.lock("customer-2"):
        pass  # acquired once the dead ticket expired
    ttl = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).ttl(f"{prefix}:lock:customer-2")
    assert ttl == -2  # deleted


def test_a_lock_that_never_stops_changing_gives_a_lock_error(prefix: str, monkeypatch: pytest.MonkeyPatch):
    """Retries are bounded: a runaway writer makes issue_ticket fail with Rasa's LockError, not spin."""
    import loginhelp.lock_store as module
    from rasa.core.lock_store import LockError

    lock_store = store(prefix)
    other = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    key = lock_store._key("busy")
    attempts = []
    original = module.TicketLock.issue_ticket

    def meddling_issue(self, lifetime):  # another writer changes the key inside every transaction
        attempts.append(1)
        other.set(key, '{"conversation_id": "busy", "tickets": []}')
        return original(self, lifetime)

    monkeypatch.setattr(module, "MAX_TRANSACTION_ATTEMPTS", 5)
    monkeypatch.setattr(module.TicketLock, "issue_ticket", meddling_issue)
    with pytest.raises(LockError, match="kept changing"):
        lock_store.issue_ticket("busy")
    assert len(attempts) == 5
