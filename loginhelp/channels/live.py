"""The channels' side of the live handoff: customer messages to the agent, the agent's replies to the customer.

During a handoff (the conversation is ``waiting`` or ``active`` in
``loginhelp.handoff``) a channel hands the customer's message to
:meth:`LiveBridge.intercept` before Rasa: it is stored for the agent (secrets
redacted by the service; the customer gets the assistant's own warning from
domain.yml) and Rasa never sees it, so the assistant stays silent. Once the
agent releases the chat the state is ``released`` and messages go to Rasa again.

The other way, each Rasa process has one :class:`LiveBridge` (:func:`shared_bridge`)
with one :class:`~loginhelp.handoff.RelayListener` on every conversation's relay
channel. A notification only says "look": the bridge reads the messages after
the last one it handled from storage (``messages_after``), so a gap or a missed
event is caught up, and a sweep every few seconds catches up even without Redis
(``make run``: no relay, the console in another process). Exactly one delivery
reaches the customer:

* a socket.io session lives in one process; only a process with a client in the
  conversation's room claims and emits, so a message waits for a customer who is
  away and is delivered when they reconnect (the channel calls :meth:`LiveBridge.seen`);
* Telegram can be reached from any replica; each replica claims the message
  before sending it.

A claim is an atomic Redis ``SET NX`` on ``<prefix>:live:delivered:<channel>:<conversation>:<n>``
(kept a day), or this process's memory without Redis (one replica). Messages
older than what a claim can remember (a day; without Redis, the process start)
are never delivered, so a restart does not repeat a chat.

Leaving the queue. A waiting customer who types "cancel" or "ticket please"
(``loginhelp/handoff/leaving.yml``) leaves it (``customer_left``): told so, and for
a ticket the bridge hands ``/contact_support`` to Rasa through the channel's own
``on_new_message`` (:meth:`Deliverer.inject`), so the assistant's pre-filled ticket
form answers in the same chat. The sweep ends waits past LOGINHELP_LIVE_WAIT_SECONDS
the same way (counted from joining the queue on the widget, from the last message
on Telegram): one conditional UPDATE picks the one replica that offers the ticket.

Pause and resume. The assistant's action pauses the tracker when the customer
joins the queue (``ConversationPaused``), so Rasa's tracker store and REST API show
the handoff. When the chat is released, the bridge appends ``ConversationResumed``
(and ``action_listen``, so the next message is read as an answer to nothing) under
Rasa's conversation lock, only if the tracker is still paused: once, before any
message the bridge hands to Rasa, and again lazily at the customer's next message
(a replica that missed the release). The live chat's own messages stay in the
handoff tables.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Protocol, TypeVar

import redis
import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationResumed

from loginhelp.contract import ChannelMessage
from loginhelp.db.paths import REPO_ROOT
from loginhelp.db.timeutil import utcnow
from loginhelp.handoff import LiveHandoff, RedisRelay, RelayEvent, RelayListener, RelaySettings
from loginhelp.handoff.customer_lines import NOT_DELIVERED, SECRET_FALLBACK, for_customer, still_waiting
from loginhelp.handoff.errors import LiveConflict, LiveNotFound
from loginhelp.handoff.leaving import leaving_to
from loginhelp.handoff.models import ACTIVE, CUSTOMER, RELEASED, TO_TICKET, WAITING
from loginhelp.handoff.relay import MESSAGE, STATE
from loginhelp.handoff.repository import MAX_TEXT_LENGTH, WAIT_FROM_QUEUED, LiveConversationView
from loginhelp.secret_detection import PASSWORD, secret_kinds

log = logging.getLogger(__name__)

T = TypeVar("T")
Reply = Callable[[str], Awaitable[None]]
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: What the bridge hands to Rasa to start the ticket (the intent the ticket rule starts from; the action pre-fills it).
CONTACT_SUPPORT = "/contact_support"

#: How long a delivery claim is kept: a message older than this is never delivered.
CLAIM_SECONDS = 24 * 3600
#: The "still in the queue" line: at most once per this many seconds per conversation.
NOTICE_SECONDS = 60
#: A connected customer who waits keeps their place: their sign of life is written this often.
PRESENCE_SECONDS = 30.0
#: How often storage is read for replies a notification did not announce (every second without Redis).
SWEEP_SECONDS_WITH_RELAY = 10.0
SWEEP_SECONDS_WITHOUT_RELAY = 1.0
#: After the database or its schema failed, the bridge tries again after this long.
RETRY_SECONDS = 60.0

DOMAIN_FILE = REPO_ROOT / "domain.yml"


# --------------------------------------------------------------- secret warnings


@functools.lru_cache(maxsize=2)
def _domain_responses(path: Path) -> Dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            domain = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as error:
        log.warning("live chat: cannot read the secret warnings from %s (%s)", path, error)
        return {}
    responses = domain.get("responses") if isinstance(domain, dict) else None
    return responses if isinstance(responses, dict) else {}


def _response_text(responses: Dict[str, Any], name: str) -> Optional[str]:
    variants = responses.get(name)
    if isinstance(variants, list) and variants and isinstance(variants[0], dict):
        text = variants[0].get("text")
        return text if isinstance(text, str) and text.strip() else None
    return None


def secret_warnings(kinds: Iterable[str], domain_file: Path = DOMAIN_FILE) -> List[str]:
    """The assistant's own warning (``utter_secret_<kind>`` of domain.yml) for each kind, each once.

    Read from the domain at run time so the live chat and the assistant say the same thing.
    """
    responses = _domain_responses(domain_file)
    warnings: List[str] = []
    for kind in kinds:
        text = (_response_text(responses, f"utter_secret_{kind}")
                or _response_text(responses, f"utter_secret_{PASSWORD}") or SECRET_FALLBACK)
        if text not in warnings:
            warnings.append(text)
    return warnings


# ------------------------------------------------------------------------ claims


class Claims:
    """Keys taken once: this process's memory (one replica, no Redis). Called from worker threads."""

    shared = False

    def __init__(self, remembered: int = 100_000) -> None:
        self._until: Dict[str, float] = {}
        self._lock = threading.Lock()
        self._remembered = remembered

    def take(self, key: str, seconds: float) -> bool:
        """True for the first caller within ``seconds``."""
        now = time.monotonic()
        with self._lock:
            until = self._until.get(key)
            if until is not None and until > now:
                return False
            self._until[key] = now + seconds
            if len(self._until) > self._remembered:
                for old in [k for k, u in self._until.items() if u <= now] or list(self._until)[: len(self._until) // 2]:
                    del self._until[old]
            return True


class RedisClaims(Claims):
    """Keys taken once by any replica: ``SET NX EX`` in Redis; this process's memory while Redis is down."""

    shared = True

    def __init__(self, client: "redis.Redis[bytes]", key_prefix: str) -> None:
        super().__init__()
        self._client = client
        self.key_prefix = key_prefix

    @classmethod
    def connect(cls, found: RelaySettings, timeout: float = 2.0) -> "RedisClaims":
        client = redis.Redis(host=found.host, port=found.port, db=found.db, password=found.password,
                             socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, found.key_prefix)

    def take(self, key: str, seconds: float) -> bool:
        try:
            return bool(self._client.set(f"{self.key_prefix}:{key}", 1, nx=True, ex=max(1, int(seconds))))
        except redis.RedisError as error:
            # Never lose a reply: this process decides alone (another replica may send it too).
            log.warning("live chat: Redis could not record a claim (%s); using this process's memory", error)
            return super().take(key, seconds)


# -------------------------------------------------------------------- deliverers


class Deliverer(Protocol):
    """How one channel reaches its customers from this process."""

    def present(self, conversation_id: str) -> bool:
        """Whether this process can reach the customer now (socket.io: a client in the room here)."""

    def connected(self, conversation_id: str) -> bool:
        """Whether the customer holds a connection here (it keeps their place in the queue)."""

    async def deliver(self, conversation_id: str, text: str) -> None:
        """Send ``text`` as plain text (never markup) the way the channel sends the assistant's replies."""

    @property
    def wait_counted_from(self) -> str:
        """What the wait limit counts from: joining the queue (a live connection) or the last message."""

    async def inject(self, conversation_id: str, text: str) -> None:
        """Hand ``text`` to Rasa as the customer's message, the way the channel hands theirs (replies reach them)."""


class ChannelDeliverer:
    """The parts every channel shares: Rasa's ``on_new_message`` and the channel's output for injected messages."""

    wait_counted_from = WAIT_FROM_QUEUED

    def __init__(self, channel: str, on_new_message: Optional[OnNewMessage]) -> None:
        self.channel = channel
        self.on_new_message = on_new_message

    def output(self) -> OutputChannel:
        raise NotImplementedError

    async def inject(self, conversation_id: str, text: str) -> None:
        if self.on_new_message is None:
            log.warning("live chat: %s cannot hand a message to Rasa (no on_new_message)", self.channel)
            return
        await self.on_new_message(UserMessage(text, self.output(), conversation_id, input_channel=self.channel))


# ------------------------------------------------------------------------ bridge


class LiveBridge:
    """One per Rasa process: intercepts customer messages during a handoff and delivers the agent's replies.

    ``handoff`` and ``claims`` default to the environment (DATABASE_URL, REDIS_*),
    opened on first use; a database that is unreachable or behind its migrations
    leaves the assistant answering as if there were no handoff (logged, retried).
    """

    def __init__(self, handoff: Optional[LiveHandoff] = None, claims: Optional[Claims] = None, *,
                 sweep_seconds: Optional[float] = None, presence_seconds: float = PRESENCE_SECONDS,
                 domain_file: Path = DOMAIN_FILE) -> None:
        self._handoff = handoff
        self._claims = claims
        self._from_env = handoff is None
        self._sweep_seconds = sweep_seconds
        self._presence_seconds = presence_seconds
        self._domain_file = domain_file
        self._ready_lock = threading.Lock()
        self._broken_until = 0.0
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="loginhelp-live")
        self._started_at = utcnow()
        self._deliverers: Dict[str, Deliverer] = {}
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._listener: Optional[RelayListener] = None
        self._sweeper: Optional[asyncio.Task[None]] = None
        self._channel_of: Dict[str, Optional[str]] = {}
        self._watched: set[str] = set()
        self._cursors: Dict[str, int] = {}
        self._locks: Dict[str, asyncio.Lock] = {}
        self._presence_at: Dict[str, float] = {}
        self._app: Any = None
        self._resumed: Dict[str, Optional[datetime]] = {}

    # ------------------------------------------------------------------ plumbing

    def _ready(self) -> Optional[LiveHandoff]:
        """The handoff service, opened and schema-checked on first use; None while it cannot be used."""
        with self._ready_lock:
            if self._handoff is not None and self._claims is not None:
                return self._handoff
            if time.monotonic() < self._broken_until:
                return None
            try:
                handoff = LiveHandoff.from_environment()
                found = RelaySettings.from_env()
                self._claims = RedisClaims.connect(found) if found else Claims()
                self._handoff = handoff
            except Exception as error:  # noqa: BLE001 - the assistant keeps answering without the live chat
                log.error("live chat is off for %.0f s: %s: %s", RETRY_SECONDS, type(error).__name__, error)
                self._broken_until = time.monotonic() + RETRY_SECONDS
                return None
            return self._handoff

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Database and Redis work off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    @property
    def claims(self) -> Claims:
        assert self._claims is not None, "used before the bridge was ready"
        return self._claims

    def _horizon(self) -> datetime:
        """Messages older than this are not delivered (their claims may be forgotten)."""
        if self.claims.shared:
            return utcnow() - timedelta(seconds=CLAIM_SECONDS)
        return self._started_at

    # ------------------------------------------------------- customer -> agent

    async def intercept(self, conversation_id: str, channel: str, text: str, reply: Reply) -> bool:
        """True when the message belongs to a live chat and was taken (Rasa must not see it).

        False when there is no handoff, it was released, or the live chat cannot be
        reached (the assistant answers rather than nobody).
        """
        handoff = await self._run(self._ready)
        if handoff is None:
            return False
        try:
            view = await self._run(handoff.state_of, conversation_id)
        except Exception as error:  # noqa: BLE001
            log.error("live chat: cannot read the state of %s (%s); the assistant answers", conversation_id, error)
            return False
        if view is None:
            return False
        if view.state not in (WAITING, ACTIVE):
            await self.resume_once(view)  # a replica that missed the release: Rasa must not ignore this message
            return False
        self._watch(conversation_id, view.channel or channel)
        body = text.strip()[:MAX_TEXT_LENGTH]
        if not body or body == ChannelMessage.GREET:
            return True  # nothing said (the widget's automatic opener is no message to the agent)
        target = leaving_to(body) if view.state == WAITING else None
        if target is not None:
            return await self._leave(handoff, view, body, target)
        kinds = secret_kinds(body)
        try:
            await self._run(handoff.customer_says, conversation_id, body)
        except (LiveConflict, LiveNotFound):
            return False  # released in the meantime: the assistant answers
        except Exception:  # noqa: BLE001
            log.exception("live chat: could not store a message of %s", conversation_id)
            await reply(NOT_DELIVERED)
            return True
        for warning in secret_warnings(kinds, self._domain_file):
            await reply(warning)
        if view.state == WAITING and await self._run(self.claims.take, f"live:notice:{conversation_id}", NOTICE_SECONDS):
            place = await self._run(handoff.place_in_queue, conversation_id)
            if place is not None:
                await reply(still_waiting(place))
        return True

    async def _leave(self, handoff: LiveHandoff, view: LiveConversationView, body: str, target: str) -> bool:
        """The waiting customer leaves the queue: stored for the agent, released, told, and for a ticket the
        assistant starts it. False when the chat was released meanwhile (the assistant answers the message)."""
        conversation_id = view.conversation_id
        try:
            await self._run(handoff.customer_says, conversation_id, body)
        except (LiveConflict, LiveNotFound):
            return False
        try:
            left = await self._run(handoff.customer_left, conversation_id, target)
        except (LiveConflict, LiveNotFound):
            return True  # an agent took the chat meanwhile: the message is theirs to answer
        await self._back_to_rasa(left, CONTACT_SUPPORT if target == TO_TICKET else None)
        return True

    async def _back_to_rasa(self, view: LiveConversationView, message: Optional[str]) -> None:
        """After this process released a chat: the customer's line, the tracker resumed, then ``message`` to Rasa."""
        conversation_id = view.conversation_id
        self._watch(conversation_id, view.channel)
        await self.catch_up(conversation_id)  # the line saying what happened comes before the assistant's answer
        await self.resume_once(view)
        deliverer = self._deliverers.get(str(view.channel))
        if message is None:
            return
        if deliverer is None:
            log.warning("live chat: no %s channel here to hand %s of %s to Rasa", view.channel, message,
                        conversation_id)
            return
        try:
            await deliverer.inject(conversation_id, message)
        except Exception:  # noqa: BLE001 - the customer can still ask; the release stands
            log.exception("live chat: could not hand %s of %s to Rasa", message, conversation_id)

    # ------------------------------------------------------------ Rasa tracker

    def _rasa_agent(self) -> Any:
        """The Rasa ``Agent`` of this process (``app.ctx.agent``, read each time: a model reload replaces it)."""
        ctx = getattr(self._app, "ctx", None)
        agent = getattr(ctx, "agent", None)
        if agent is None or getattr(agent, "tracker_store", None) is None or getattr(agent, "lock_store", None) is None:
            return None
        return agent

    async def resume(self, conversation_id: str) -> bool:
        """Append ``ConversationResumed`` (and ``action_listen``) to a paused tracker; True if this call did.

        Under Rasa's own conversation lock, as ``Agent.handle_message`` takes it,
        so no message is processed in between and two callers resume once.
        """
        agent = self._rasa_agent()
        if agent is None:
            return False
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is None or not tracker.is_paused():
                return False
            tracker.update(ConversationResumed())
            if tracker.latest_action_name != ACTION_LISTEN_NAME:
                # The pausing action's FollowupAction(action_listen) never ran: without it Rasa would
                # "listen" again at the next message instead of answering it.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
        log.info("live chat: the assistant has %s again (tracker resumed)", conversation_id)
        return True

    async def resume_once(self, view: LiveConversationView) -> None:
        """Resume a released conversation's tracker if still paused; each release is looked at once per process."""
        if view.state != RELEASED or self._rasa_agent() is None:
            return
        if view.conversation_id in self._resumed and self._resumed[view.conversation_id] == view.released_at:
            return
        try:
            await self.resume(view.conversation_id)
        except Exception:  # noqa: BLE001 - tried again at the customer's next message
            log.exception("live chat: could not resume the tracker of %s", view.conversation_id)
            return
        self._resumed[view.conversation_id] = view.released_at

    # ------------------------------------------------------- agent -> customer

    async def attach(self, channel: str, deliverer: Deliverer, app: Any = None) -> None:
        """Deliver this channel's live messages from now on; the first channel starts the listener and the sweep.

        ``app``: the Sanic app of the Rasa server, whose ``ctx.agent`` holds the trackers to resume.
        """
        self._deliverers[channel] = deliverer
        if app is not None:
            self._app = app
        self._loop = asyncio.get_running_loop()
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = self._loop.create_task(self._sweep_forever())

    async def detach(self, channel: str) -> None:
        """The channel's server stops; the last one stops the listener and the sweep."""
        self._deliverers.pop(channel, None)
        if self._deliverers:
            return
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
        listener, self._listener = self._listener, None
        if listener is not None:
            await self._run(listener.stop)

    async def close(self) -> None:
        """Detach every channel and let go of the worker threads (tests; a process just exits)."""
        for channel in list(self._deliverers):
            await self.detach(channel)
        self._executor.shutdown(wait=False)

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.running

    def _listen(self, handoff: LiveHandoff) -> None:
        """Subscribe to every conversation's relay channel (worker thread; blocks until Redis confirms)."""
        if self._listener is not None or not isinstance(handoff.relay, RedisRelay):
            return
        subscription = handoff.relay.subscribe(every_conversation=True)
        self._listener = RelayListener(subscription, self._on_event, name="live-chat-delivery")

    def _on_event(self, event: RelayEvent) -> None:
        """Listener thread: wake the event loop, which reads storage (the notification only says "look")."""
        if event.kind not in (MESSAGE, STATE) or not event.conversation_id:
            return
        if event.kind == MESSAGE and event.data.get("sender") == CUSTOMER:
            return  # nothing for the customer in their own message
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.notified(event.conversation_id, event.kind == STATE), loop)

    async def notified(self, conversation_id: str, state_changed: bool = False) -> None:
        """Something changed in a conversation: deliver what is new if it is one of this process's channels
        (and after a release, give the assistant the conversation back)."""
        if conversation_id not in self._channel_of:
            handoff = await self._run(self._ready)
            if handoff is None:
                return
            view = await self._run(handoff.state_of, conversation_id)
            if view is None:
                return  # never asked for an agent (most reconnects)
            self._channel_of[conversation_id] = view.channel
        channel = self._channel_of.get(conversation_id)
        if channel is None or channel not in self._deliverers:
            return
        self._watched.add(conversation_id)
        await self.catch_up(conversation_id)
        if state_changed and self._rasa_agent() is not None:
            handoff = await self._run(self._ready)
            view = await self._run(handoff.state_of, conversation_id) if handoff is not None else None
            if view is not None:
                await self.resume_once(view)

    async def seen(self, conversation_id: str) -> None:
        """The customer (re)connected here: deliver what they missed."""
        try:
            await self.notified(conversation_id)
        except Exception:  # noqa: BLE001 - a reconnect must never fail because of the live chat
            log.exception("live chat: could not catch up %s", conversation_id)

    def _watch(self, conversation_id: str, channel: Optional[str]) -> None:
        self._channel_of[conversation_id] = channel
        self._watched.add(conversation_id)

    async def catch_up(self, conversation_id: str) -> None:
        """Deliver, in order, every stored agent or system line after the last one handled here."""
        handoff = await self._run(self._ready)
        channel = self._channel_of.get(conversation_id)
        deliverer = self._deliverers.get(channel) if channel else None
        if handoff is None or deliverer is None:
            return
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            cursor = self._cursors.get(conversation_id, 0)
            messages = await self._run(handoff.conversations.messages_after, conversation_id, cursor)
            horizon = self._horizon()
            for message in messages:
                text = for_customer(message)
                if text is None or message.created_at < horizon:
                    cursor = message.n
                    continue
                if not deliverer.present(conversation_id):
                    break  # the customer is away from this process: delivered when they come back
                key = f"live:delivered:{channel}:{conversation_id}:{message.n}"
                if await self._run(self.claims.take, key, CLAIM_SECONDS):
                    try:
                        await deliverer.deliver(conversation_id, text)
                    except Exception:  # noqa: BLE001
                        log.exception("live chat: could not deliver message %s of %s", message.n, conversation_id)
                cursor = message.n
            self._cursors[conversation_id] = cursor

    # ------------------------------------------------------------------- sweep

    def _sweep_interval(self, handoff: LiveHandoff) -> float:
        if self._sweep_seconds is not None:
            return self._sweep_seconds
        return SWEEP_SECONDS_WITH_RELAY if isinstance(handoff.relay, RedisRelay) else SWEEP_SECONDS_WITHOUT_RELAY

    async def _sweep_forever(self) -> None:
        interval = SWEEP_SECONDS_WITHOUT_RELAY
        while True:
            try:
                handoff = await self._run(self._ready)
                if handoff is not None:
                    interval = self._sweep_interval(handoff)
                    if self._listener is None and isinstance(handoff.relay, RedisRelay):
                        try:
                            await self._run(self._listen, handoff)
                        except Exception as error:  # noqa: BLE001 - retried at the next sweep
                            log.warning("live chat: cannot listen on Redis (%s); reading storage every %.0f s",
                                        error, interval)
                    await self.sweep(handoff)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("live chat: sweep failed")
            await asyncio.sleep(interval)

    async def sweep(self, handoff: LiveHandoff) -> None:
        """Catch up every live conversation of this process's channels; keep connected waiting customers queued."""
        live: List[LiveConversationView] = await self._run(handoff.live)
        current = {view.conversation_id for view in live}
        for view in live:
            if view.channel not in self._deliverers:
                continue
            self._watch(view.conversation_id, view.channel)
            if view.state == WAITING:
                await self._keep_place(handoff, view)
                await self._expire_if_waited(handoff, view)
        for conversation_id in list(self._watched):
            await self.catch_up(conversation_id)
            if conversation_id not in current:  # released: its last lines are out, stop watching
                if self._rasa_agent() is not None:
                    released = await self._run(handoff.state_of, conversation_id)
                    if released is not None:
                        await self.resume_once(released)
                self._forget(conversation_id)

    async def _expire_if_waited(self, handoff: LiveHandoff, view: LiveConversationView) -> None:
        """Past the wait limit: leave the queue and offer the ticket, from the one replica whose UPDATE wins.

        Only a process that reaches the customer tries (a widget's socket is in one
        process): a widget closed everywhere is dropped by the console's queue instead.
        """
        deliverer = self._deliverers[str(view.channel)]
        if not deliverer.present(view.conversation_id):
            return
        counted_from = deliverer.wait_counted_from
        since = view.queued_at if counted_from == WAIT_FROM_QUEUED else view.customer_seen_at
        if utcnow() - since <= handoff.conversations.wait_limit:
            return
        expired = await self._run(handoff.expire, view.conversation_id, counted_from)
        if expired is not None:
            await self._back_to_rasa(expired, CONTACT_SUPPORT)

    async def _keep_place(self, handoff: LiveHandoff, view: LiveConversationView) -> None:
        deliverer = self._deliverers[str(view.channel)]
        now = time.monotonic()
        if not deliverer.connected(view.conversation_id):
            return
        if now - self._presence_at.get(view.conversation_id, 0.0) < self._presence_seconds:
            return
        self._presence_at[view.conversation_id] = now
        await self._run(handoff.customer_seen, view.conversation_id)

    def _forget(self, conversation_id: str) -> None:
        self._watched.discard(conversation_id)
        self._channel_of.pop(conversation_id, None)
        self._presence_at.pop(conversation_id, None)
        lock = self._locks.get(conversation_id)
        if lock is None or not lock.locked():
            self._locks.pop(conversation_id, None)
        # The cursor stays: a conversation asked for an agent again goes on from there.


_shared: Optional[LiveBridge] = None
_shared_lock = threading.Lock()


def shared_bridge() -> LiveBridge:
    """This process's bridge (every channel of a Rasa server shares one relay listener)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LiveBridge()
        return _shared
