"""Tell every process about a stored live message or a queue change, through Redis pub/sub.

In production any Rasa replica may receive the customer's message and any
console process the agent's. The database stores each message once, in order
(see repository.py); after the commit the writer publishes it here so the
process holding the customer's socket, or the agent's page, pushes it at once
instead of polling.

Channels (``<REDIS_KEY_PREFIX>`` keeps deployments apart in a shared Redis):

- ``<prefix>:live:conversation:<conversation_id>``: every message of the chat
  (``{"type": "message", "n": ..., ...}``) and its state changes
  (``{"type": "state", "state": ..., "released_to": ...}``);
- ``<prefix>:live:queue``: the queue changed (``{"type": "queue", "event":
  "waiting" | "claimed" | "released" | "expired" | "requeued", ...}``).

Pub/sub delivers only to whoever listens at that moment, and that is enough:
storage is the source of truth. A subscriber that was away, or that sees a gap
in the numbers ``n``, reads what it missed with
``LiveRepository.messages_after(conversation_id, last_n)``. A failed publish is
logged and never fails the write that was already stored.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import redis

from .. import settings

log = logging.getLogger(__name__)

QUEUE = "queue"
MESSAGE = "message"
STATE = "state"


@dataclass(frozen=True)
class RelaySettings:
    """The Redis the lock store and the Telegram replicas already share (same variables)."""

    host: str
    port: int = 6379
    db: int = 1
    password: str | None = None
    key_prefix: str = "loginhelp"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "RelaySettings | None":
        """None when REDIS_HOST is unset (one process, no relay needed)."""
        host = settings.get("REDIS_HOST", environ)
        if not host:
            return None
        return cls(
            host=host,
            port=settings.get("REDIS_PORT", environ),
            db=settings.get("REDIS_DB", environ),
            password=settings.get("REDIS_PASSWORD", environ) or None,
            key_prefix=settings.get("REDIS_KEY_PREFIX", environ),
        )


@dataclass(frozen=True)
class RelayEvent:
    """One notification: ``kind`` is "message", "state" or "queue"; ``data`` the published JSON."""

    kind: str
    conversation_id: str | None
    data: dict[str, Any]


class Relay:
    """What the rest of the code publishes to; this base class publishes nowhere (no Redis configured)."""

    def publish_message(self, message: Mapping[str, Any]) -> int:
        return 0

    def publish_state(self, conversation: Mapping[str, Any]) -> int:
        return 0

    def publish_queue(self, event: str, conversation_id: str, **details: Any) -> int:
        return 0

    def close(self) -> None:
        return None


class RedisRelay(Relay):
    """Publishes on Redis; :meth:`subscribe` listens on its own connection."""

    def __init__(self, client: "redis.Redis[bytes]", key_prefix: str = "loginhelp") -> None:
        self._client = client
        self.key_prefix = key_prefix

    @classmethod
    def connect(cls, relay_settings: RelaySettings, socket_timeout: float = 5.0) -> "RedisRelay":
        client = redis.Redis(
            host=relay_settings.host,
            port=relay_settings.port,
            db=relay_settings.db,
            password=relay_settings.password,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        return cls(client, relay_settings.key_prefix)

    def conversation_channel(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:live:conversation:{conversation_id}"

    @property
    def queue_channel(self) -> str:
        return f"{self.key_prefix}:live:queue"

    def publish_message(self, message: Mapping[str, Any]) -> int:
        """``message`` is ``LiveMessageView.to_dict()``; returns how many subscribers got it."""
        return self._publish(self.conversation_channel(message["conversation_id"]), {"type": MESSAGE, **message})

    def publish_state(self, conversation: Mapping[str, Any]) -> int:
        """``conversation`` is ``LiveConversationView.to_dict()``: the chat was claimed, released or requeued."""
        data = {"type": STATE, **{k: conversation.get(k) for k in ("conversation_id", "state", "released_to", "last_n")}}
        return self._publish(self.conversation_channel(conversation["conversation_id"]), data)

    def publish_queue(self, event: str, conversation_id: str, **details: Any) -> int:
        return self._publish(self.queue_channel, {"type": QUEUE, "event": event, "conversation_id": conversation_id, **details})

    def subscribe(self, conversation_ids: Iterable[str] = (), *, queue: bool = False,
                  every_conversation: bool = False, ready_timeout: float = 5.0) -> "Subscription":
        """Listen to some chats, the queue, or every chat (an agent page watching all of its chats)."""
        channels = [self.conversation_channel(c) for c in conversation_ids]
        if queue:
            channels.append(self.queue_channel)
        patterns = [self.conversation_channel("*")] if every_conversation else []
        return Subscription(self._client.pubsub(), channels, patterns, self.key_prefix, ready_timeout)

    def close(self) -> None:
        self._client.close()

    def _publish(self, channel: str, data: Mapping[str, Any]) -> int:
        try:
            return int(self._client.publish(channel, json.dumps(data, ensure_ascii=False, default=str)))
        except redis.RedisError as exc:
            # Stored already: subscribers catch up from the database, so this is not the writer's failure.
            log.warning("live relay: could not publish on %s (%s)", channel, exc)
            return 0


class Subscription:
    """One Redis connection listening; used from one thread. ``get`` waits for the next event.

    Returns only after Redis confirmed every subscription, so nothing published
    afterwards is missed.
    """

    def __init__(self, pubsub: Any, channels: list[str], patterns: list[str], key_prefix: str,
                 ready_timeout: float) -> None:
        if not channels and not patterns:
            raise ValueError("subscribe to at least one conversation, the queue, or every conversation")
        self._pubsub = pubsub
        self._prefix = f"{key_prefix}:live:conversation:"
        self._closed = False
        try:
            if channels:
                pubsub.subscribe(*channels)
            if patterns:
                pubsub.psubscribe(*patterns)
            self._await_confirmations(len(channels) + len(patterns), ready_timeout)
        except BaseException:
            pubsub.close()
            raise

    def _await_confirmations(self, expected: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        confirmed = 0
        while confirmed < expected:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Redis did not confirm the subscription in time")
            reply = self._pubsub.get_message(timeout=left)
            if reply and reply.get("type") in ("subscribe", "psubscribe"):
                confirmed += 1

    def get(self, timeout: float = 1.0) -> RelayEvent | None:
        """The next event, or None when nothing came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._closed:
            left = max(0.0, deadline - time.monotonic())
            reply = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if reply is not None and reply.get("type") in ("message", "pmessage"):
                event = self._event(reply)
                if event is not None:
                    return event
            if time.monotonic() >= deadline:
                return None
        return None

    def _event(self, reply: Mapping[str, Any]) -> RelayEvent | None:
        try:
            data = json.loads(reply["data"])
        except (TypeError, ValueError):
            log.warning("live relay: ignoring a message that is not JSON on %r", reply.get("channel"))
            return None
        if not isinstance(data, dict):
            return None
        conversation_id = data.get("conversation_id")
        return RelayEvent(str(data.get("type")), conversation_id if isinstance(conversation_id, str) else None, data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pubsub.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RelayListener:
    """A background thread handing every event of a subscription to ``handler``; ``stop()`` ends it cleanly.

    The thread polls with a short timeout, so ``stop()`` returns within about
    ``poll`` seconds and closes the connection from the thread that used it.
    An exception in the handler is logged and listening goes on.
    """

    def __init__(self, subscription: Subscription, handler: Callable[[RelayEvent], None], poll: float = 0.2,
                 name: str = "live-relay") -> None:
        self._subscription = subscription
        self._handler = handler
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    event = self._subscription.get(timeout=self._poll)
                except redis.RedisError as exc:
                    log.warning("live relay: listening failed (%s); retrying", exc)
                    self._stop.wait(self._poll)
                    continue
                if event is None:
                    continue
                try:
                    self._handler(event)
                except Exception:  # noqa: BLE001 - one bad event must not stop the listener
                    log.exception("live relay: handler failed for %s", event)
        finally:
            self._subscription.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> "RelayListener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def relay_from_env(environ: Mapping[str, str] | None = None) -> Relay:
    """A Redis relay when REDIS_HOST is set, else the relay that publishes nowhere."""
    found = RelaySettings.from_env(environ)
    return RedisRelay.connect(found) if found else Relay()
