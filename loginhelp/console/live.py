"""The agent's live pages: the queue with availability, one chat, and the event stream that keeps both current.

The pages render the state server-side (so they work and test without
JavaScript); static/live.js then keeps them current from ``/live/events``
(server-sent events) and sends chat messages through the JSON API. Claiming
and releasing are plain forms: a claim someone else won comes back as a 409
page saying so.

The event stream reads the database (the truth every replica shares) each time
it wakes: on a Redis relay notification when REDIS_HOST is set, else every
``LIVE_EVENTS_POLL`` seconds. It sends a keep-alive comment when idle and ends
after ``LIVE_EVENTS_MAX_SECONDS`` so no worker thread is held forever;
EventSource reconnects by itself (``Last-Event-ID`` carries the last message
number, so nothing is lost or repeated).

Customer and agent text is plain text everywhere: Jinja escapes it here and
live.js inserts it with textContent.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterator

import redis
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ..agents.repository import AgentView
from ..handoff.errors import LiveConflict, LiveNotFound
from ..handoff.models import ACTIVE, TO_ASSISTANT, TO_CLOSED
from ..handoff.relay import RedisRelay, Subscription
from ..handoff.repository import LiveConversationView, validate_release_target
from ..handoff.service import LiveHandoff
from .access import current_agent
from .context import console

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__)

#: Defaults of the event stream; tests and deployments override them in app.config.
EVENT_DEFAULTS: dict[str, float] = {
    # Seconds between database reads without Redis (and the longest wait with it, for expiries).
    "LIVE_EVENTS_POLL": 1.5,
    "LIVE_EVENTS_RELAY_POLL": 5.0,
    "LIVE_EVENTS_KEEPALIVE": 15.0,
    "LIVE_EVENTS_MAX_SECONDS": 180.0,
    # Milliseconds EventSource waits before reconnecting after the stream ends.
    "LIVE_EVENTS_RETRY_MS": 1000,
}

#: How the pages name what the assistant learned (handoff.repository.CONTEXT_KEYS).
CONTEXT_LABELS: tuple[tuple[str, str], ...] = (
    ("branch", "Branch"),
    ("steps_tried", "Steps tried"),
    ("device", "Device"),
    ("browser", "Browser"),
    ("language", "Language"),
    ("contact", "Contact"),
)

RELEASE_DONE = {
    TO_ASSISTANT: "Handed back to the assistant.",
    TO_CLOSED: "Chat closed.",
}


def _agent() -> AgentView:
    agent = current_agent()
    assert agent is not None  # access.require_agent let the request in
    return agent


def _live() -> LiveHandoff:
    return console().live


def _setting(name: str) -> float:
    return float(current_app.config.get(name, EVENT_DEFAULTS[name]))


def _conversation_or_404(conversation_id: str) -> LiveConversationView:
    found = _live().state_of(conversation_id)
    if found is None:
        abort(404, "No live chat with this id: the customer never asked for an agent.")
    return found


def queue_snapshot(live: LiveHandoff, agent_id: int) -> dict[str, Any]:
    """What the queue page shows: the same JSON for the first render and every update."""
    you = live.availability.status(agent_id)
    return {
        "queue": [entry.to_dict() for entry in live.queue()],
        "yours": [c.to_dict() for c in live.conversations.held_by(agent_id)],
        "available_agents": live.agents_available(),
        "you": {"available": you.available, "chosen": you.chosen},
    }


# ------------------------------------------------------------------- pages


@bp.route("/live")
def index() -> Any:
    agent = _agent()
    _live().heartbeat(agent.id)  # the open page makes the agent available; live.js keeps beating
    snapshot = queue_snapshot(_live(), agent.id)
    return render_template("live.html", snapshot=snapshot, context_labels=CONTEXT_LABELS)


@bp.route("/live/<path:conversation_id>")
def chat(conversation_id: str) -> Any:
    conversation = _conversation_or_404(conversation_id)
    return _chat_page(conversation)


def _chat_page(conversation: LiveConversationView, error: str | None = None, status: int = 200) -> Any:
    ctx = console()
    cid = conversation.conversation_id
    messages = ctx.live.conversations.messages_after(cid, 0)
    html = render_template(
        "live_chat.html",
        conversation=conversation,
        place=ctx.live.place_in_queue(cid),
        transcript=ctx.transcripts.transcript(cid, with_live=False),
        messages=messages,
        last_n=messages[-1].n if messages else 0,
        mine=conversation.state == ACTIVE and conversation.claimed_by == _agent().id,
        context_labels=CONTEXT_LABELS,
        error=error,
    )
    return html, status


@bp.route("/live/<path:conversation_id>/claim", methods=["POST"])
def claim(conversation_id: str) -> Any:
    """Take the chat; when another agent was faster the chat page says so with a 409."""
    agent = _agent()
    try:
        _live().claim(conversation_id, agent.id)
    except LiveNotFound:
        abort(404, "No live chat with this id: the customer never asked for an agent.")
    except LiveConflict as exc:
        current = _conversation_or_404(conversation_id)
        who = f" ({current.claimed_by_email} has it)" if current.state == ACTIVE and current.claimed_by_email else ""
        return _chat_page(current, f"You could not claim this chat{who}. {exc}", 409)
    return redirect(url_for("live.chat", conversation_id=conversation_id))


@bp.route("/live/<path:conversation_id>/messages", methods=["POST"])
def send(conversation_id: str) -> Any:
    """The message box without JavaScript (live.js posts to the JSON API and stays on the page)."""
    agent = _agent()
    try:
        _live().agent_says(conversation_id, agent.id, request.form.get("text", ""))
    except LiveNotFound:
        abort(404, "No live chat with this id: the customer never asked for an agent.")
    except (LiveConflict, ValueError) as exc:
        return _chat_page(_conversation_or_404(conversation_id), str(exc), 409 if isinstance(exc, LiveConflict) else 400)
    return redirect(url_for("live.chat", conversation_id=conversation_id) + "#live-messages")


@bp.route("/live/<path:conversation_id>/release", methods=["POST"])
def release(conversation_id: str) -> Any:
    """Hand back to the assistant or close; a ticket goes through the ticket form first (new_ticket.py)."""
    agent = _agent()
    try:
        to = validate_release_target(request.form.get("to"))
    except ValueError as exc:
        abort(400, str(exc))
    if to not in RELEASE_DONE:
        return redirect(url_for("new_ticket.form", live=conversation_id))
    try:
        _live().release(conversation_id, agent.id, to)
    except LiveNotFound:
        abort(404, "No live chat with this id: the customer never asked for an agent.")
    except LiveConflict as exc:
        return _chat_page(_conversation_or_404(conversation_id), str(exc), 409)
    flash(RELEASE_DONE[to])
    return redirect(url_for("live.index"))


# ------------------------------------------------------------ event stream


@bp.route("/live/events")
def events() -> Any:
    """Server-sent events: ``queue`` snapshots for the queue page, ``message`` and ``state`` for one chat."""
    agent = _agent()
    conversation_id = request.args.get("conversation") or None
    if conversation_id is not None:
        _conversation_or_404(conversation_id)
    after = _after()
    stream = EventStream(
        _live(), agent.id, conversation_id, after,
        poll=_setting("LIVE_EVENTS_POLL"),
        relay_poll=_setting("LIVE_EVENTS_RELAY_POLL"),
        keepalive=_setting("LIVE_EVENTS_KEEPALIVE"),
        max_seconds=_setting("LIVE_EVENTS_MAX_SECONDS"),
        retry_ms=int(_setting("LIVE_EVENTS_RETRY_MS")),
    )
    return Response(
        stream_with_context(stream.run()),
        mimetype="text/event-stream",
        # Proxies must pass each event on at once (nginx buffers otherwise).
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _after() -> int:
    """The last message number the page has: EventSource's Last-Event-ID on reconnect, else ``after``."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        if raw and raw.isdigit() and len(raw) <= 12:
            return int(raw)
    return 0


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event; JSON has no raw newlines, so it fits one ``data:`` line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


class EventStream:
    """One page's stream: sends what changed since it last looked, then waits for the relay or the poll."""

    def __init__(self, live: LiveHandoff, agent_id: int, conversation_id: str | None, after: int, *,
                 poll: float, relay_poll: float, keepalive: float, max_seconds: float, retry_ms: int) -> None:
        self.live = live
        self.agent_id = agent_id
        self.conversation_id = conversation_id
        self.after = after
        self.poll = poll
        self.relay_poll = relay_poll
        self.keepalive = keepalive
        self.max_seconds = max_seconds
        self.retry_ms = retry_ms
        self._queue_seen: str | None = None
        self._state_seen: str | None = None

    def run(self) -> Iterator[str]:
        subscription = self._subscribe()
        try:
            yield f"retry: {self.retry_ms}\n\n"
            deadline = time.monotonic() + self.max_seconds
            quiet_since = time.monotonic()
            while True:
                out = self._changes()
                now = time.monotonic()
                if out:
                    yield out
                    quiet_since = now
                elif now - quiet_since >= self.keepalive:
                    yield ": keep-alive\n\n"
                    quiet_since = now
                if now >= deadline:
                    return
                # Wake for the next keep-alive too: an idle stream must still show it is alive.
                keepalive_due = self.keepalive - (now - quiet_since)
                wait = min(self._wait_time(subscription), max(keepalive_due, 0.01), deadline - now)
                subscription = self._wait(subscription, wait)
        finally:
            if subscription is not None:
                subscription.close()

    def _changes(self) -> str:
        out: list[str] = []
        snapshot = queue_snapshot(self.live, self.agent_id)
        # Waiting times grow every second: the page counts them on, they do not make a change.
        seen = json.dumps({**snapshot, "queue": [{k: v for k, v in e.items() if k != "waiting_seconds"}
                                                 for e in snapshot["queue"]]}, sort_keys=True, default=str)
        if seen != self._queue_seen:
            self._queue_seen = seen
            out.append(sse("queue", snapshot))
        if self.conversation_id is not None:
            for message in self.live.conversations.messages_after(self.conversation_id, self.after):
                out.append(sse("message", message.to_dict(), message.n))
                self.after = message.n
            view = self.live.state_of(self.conversation_id)
            if view is not None:
                state = {**view.to_dict(), "place": self.live.place_in_queue(self.conversation_id),
                         "mine": view.state == ACTIVE and view.claimed_by == self.agent_id}
                seen = json.dumps(state, sort_keys=True, default=str)
                if seen != self._state_seen:
                    self._state_seen = seen
                    out.append(sse("state", state))
        return "".join(out)

    def _subscribe(self) -> Subscription | None:
        """A Redis subscription when the relay is Redis; None (poll the database) otherwise or when it fails."""
        relay = self.live.relay
        if not isinstance(relay, RedisRelay):
            return None
        try:
            ids = [self.conversation_id] if self.conversation_id is not None else []
            return relay.subscribe(ids, queue=True)
        except (redis.RedisError, TimeoutError) as exc:
            log.warning("live events: no relay subscription (%s); polling the database", exc)
            return None

    def _wait_time(self, subscription: Subscription | None) -> float:
        return self.relay_poll if subscription is not None else self.poll

    def _wait(self, subscription: Subscription | None, seconds: float) -> Subscription | None:
        """Until a relay notification (then drain the others: one database read covers them) or the timeout."""
        seconds = max(0.0, seconds)
        if subscription is None:
            time.sleep(seconds)
            return None
        try:
            if subscription.get(timeout=seconds) is not None:
                while subscription.get(timeout=0.0) is not None:
                    pass
            return subscription
        except redis.RedisError as exc:
            log.warning("live events: relay failed (%s); polling the database", exc)
            subscription.close()
            return None


