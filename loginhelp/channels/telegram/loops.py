"""One client per event loop.

aiohttp sessions and redis.asyncio connections belong to the event loop they
were opened in; the channel is used from more than one (Rasa's server loop, and
``asyncio.run`` in tests and at start-up), so each loop gets its own.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Dict, Generic, Optional, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """A cache of one ``T`` per running event loop, opened on first use."""

    def __init__(self, open_one: Callable[[], T], usable: Callable[[T], bool] = lambda _: True) -> None:
        self._open = open_one
        self._usable = usable
        self._items: Dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        """The running loop's client, opened now if it has none (or its own was closed)."""
        loop = asyncio.get_running_loop()
        item = self._items.get(loop)
        if item is None or not self._usable(item):
            for closed in [other for other in self._items if other.is_closed()]:
                del self._items[closed]  # their clients died with them
            item = self._open()
            self._items[loop] = item
        return item

    def pop(self) -> Optional[T]:
        """Forget the running loop's client and return it, for the caller to close."""
        return self._items.pop(asyncio.get_running_loop(), None)
