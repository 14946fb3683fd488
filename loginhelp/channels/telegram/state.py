"""Which Telegram updates were already taken: in this process, and in Redis for every replica.

Telegram re-delivers an update it thinks was not received (a slow reply is
enough); each update_id must be processed once. With several Rasa replicas behind
a load balancer the re-delivery may reach another replica, so when REDIS_HOST is
set the ids are also taken in Redis with SET NX. Redis being unreachable never
loses a message: the process's own memory decides alone (and a warning is logged).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Optional

from .loops import PerLoop
from .settings import RedisSettings

logger = logging.getLogger(__name__)


class RedisUpdateIds:
    """Update ids taken by any replica, in Redis.

    Keys are ``<REDIS_KEY_PREFIX>:telegram:<bot id>:update:<update_id>``, set once
    with SET NX and kept a day (Telegram gives up re-delivering within 24 hours).
    """

    TTL_SECONDS = 24 * 3600
    TIMEOUT_SECONDS = 2.0

    def __init__(self, settings: RedisSettings, bot_id: str) -> None:
        self.settings = settings
        self.prefix = f"{settings.key_prefix}:telegram:{bot_id}:"
        self._clients: PerLoop[Any] = PerLoop(self._open)

    def _open(self) -> Any:
        import redis.asyncio

        return redis.asyncio.Redis(
            host=self.settings.host, port=self.settings.port, db=self.settings.db,
            password=self.settings.password, socket_timeout=self.TIMEOUT_SECONDS,
            socket_connect_timeout=self.TIMEOUT_SECONDS,
        )

    async def first_time(self, update_id: int) -> Optional[bool]:
        """True the first time any replica asks for ``update_id``, False afterwards;
        None when Redis could not be asked (logged)."""
        try:
            return bool(await self._clients.get().set(
                f"{self.prefix}update:{update_id}", 1, nx=True, ex=self.TTL_SECONDS))
        except Exception as error:  # noqa: BLE001 - RedisError, OSError, timeouts
            logger.warning("Redis: could not record a Telegram update id (%s: %s); using this "
                           "process's memory only.", type(error).__name__, error)
            return None

    async def close(self) -> None:
        """Close the client of the running loop (others die with their loops)."""
        client = self._clients.pop()
        if client is not None:
            await client.close()


class SeenUpdates:
    """The re-delivery filter: this process's last ids, then Redis when configured."""

    REMEMBERED = 2048

    def __init__(self, shared: Optional[RedisUpdateIds] = None) -> None:
        self.shared = shared
        self._recent: "OrderedDict[int, None]" = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        """False for an update this process or (with Redis) any replica already took."""
        if update_id in self._recent:
            return False
        self._recent[update_id] = None
        while len(self._recent) > self.REMEMBERED:
            self._recent.popitem(last=False)
        if self.shared is not None and await self.shared.first_time(update_id) is False:
            return False
        return True

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
