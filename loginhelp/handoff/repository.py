"""Live conversations and their messages: the queue, the claim, the chat, the release. Storage is the truth.

Every change of a conversation is one conditional UPDATE of its row, so the
database decides races between processes: ``claim`` is
``UPDATE ... WHERE state = 'waiting'`` and exactly one of two agents clicking at
once changes the row; a message takes its number from ``last_n + 1`` in the same
UPDATE that checks who may write, so the row lock (PostgreSQL) or the write lock
(SQLite) hands out numbers one at a time, and the unique (conversation_id, n)
keeps a message from being stored twice. Every write transaction starts with
that UPDATE (never a read first), which lets SQLite's busy handler wait for a
concurrent writer instead of failing.

Returns frozen views, never rows. Bad input is ValueError, an unknown id
:class:`LiveNotFound`, a wrong state :class:`LiveConflict`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from ..agents.models import agents
from ..db.timeutil import utcnow
from .errors import LiveConflict, LiveNotFound
from .models import (
    ACTIVE,
    AGENT,
    CUSTOMER,
    RELEASE_TARGETS,
    RELEASED,
    SENDERS,
    SYSTEM,
    TO_ASSISTANT,
    TO_CLOSED,
    TO_EXPIRED,
    TO_TICKET,
    WAITING,
    live_conversations,
    live_messages,
)

#: Longest message either side may send (Telegram's own limit is 4096).
MAX_TEXT_LENGTH = 4000
#: How long a waiting customer who shows no sign of life keeps their place.
DEFAULT_WAIT_LIMIT = timedelta(minutes=5)
#: Keys of the context the assistant hands over; others are dropped so the queue shows only what agents use.
CONTEXT_KEYS: tuple[str, ...] = ("branch", "steps_tried", "device", "browser", "language", "contact")

#: The system lines written into the chat when its state changes (shown to agent and customer alike).
JOINED = "A support agent joined the chat."
REQUEUED = "The support agent left; you are back in the queue."
RELEASE_LINES: dict[str, str] = {
    TO_ASSISTANT: "The support agent handed the chat back to the assistant.",
    TO_TICKET: "The support agent turned the chat into a support ticket.",
    TO_CLOSED: "The support agent closed the chat.",
    TO_EXPIRED: "No agent was free in time; the chat left the queue.",
}
#: The customer left the queue before an agent took the chat (``customer_left``): who ended it, and where to.
CUSTOMER_LEFT_LINES: dict[str, str] = {
    TO_ASSISTANT: "The customer left the queue and is back with the assistant.",
    TO_TICKET: "The customer left the queue for a support ticket.",
}
#: The wait limit ran out while the customer was still there (``expire``): the assistant offers the ticket.
EXPIRED_TO_TICKET = "No agent was free in time; the chat left the queue and the assistant offers a ticket."
#: What the wait of ``expire`` counts from: the queue (a customer connected all along) or their last message.
WAIT_FROM_QUEUED = "queued_at"
WAIT_FROM_SEEN = "customer_seen_at"

_lc = live_conversations
_lm = live_messages


def validate_text(text: Any) -> str:
    """The message as stored: plain text, stripped; ValueError when missing, empty, too long or with NUL."""
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("text must not be empty")
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise ValueError(f"text must be at most {MAX_TEXT_LENGTH} characters")
    if "\x00" in cleaned:
        raise ValueError("text must not contain NUL characters")
    return cleaned


def validate_release_target(to: Any) -> str:
    if not isinstance(to, str) or to not in RELEASE_TARGETS:
        raise ValueError(f"to must be one of: {', '.join(RELEASE_TARGETS)}")
    return to


def clean_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The known keys of what the assistant learned, without empty values."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise ValueError("context must be a mapping")
    return {k: context[k] for k in CONTEXT_KEYS if context.get(k) not in (None, "", [], {})}


@dataclass(frozen=True)
class LiveConversationView:
    conversation_id: str
    channel: str | None
    state: str
    claimed_by: int | None
    claimed_by_email: str | None
    queued_at: datetime
    claimed_at: datetime | None
    released_at: datetime | None
    released_to: str | None
    customer_seen_at: datetime
    last_n: int
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def released_by(self) -> str | None:
        """Who ended a released chat: the agent who held it, the customer who left the queue, or the wait limit."""
        if self.state != RELEASED:
            return None
        if self.released_to == TO_EXPIRED:
            return "queue"
        return "agent" if self.claimed_by is not None else CUSTOMER

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "state": self.state,
            "claimed_by": self.claimed_by_email,
            "queued_at": self.queued_at.isoformat(),
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_to": self.released_to,
            "released_by": self.released_by,
            "last_n": self.last_n,
            "context": dict(self.context),
        }


@dataclass(frozen=True)
class QueueEntry:
    """A waiting conversation with its place (1 = next) and how long the customer has waited."""

    conversation: LiveConversationView
    place: int
    waiting_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.conversation.to_dict(), "place": self.place, "waiting_seconds": round(self.waiting_seconds, 1)}


@dataclass(frozen=True)
class LiveMessageView:
    conversation_id: str
    n: int
    sender: str
    agent_id: int | None
    agent_email: str | None
    text: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "n": self.n,
            "sender": self.sender,
            "agent": self.agent_email,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Enqueued:
    """The conversation after ``enqueue``; ``queued`` is False when it was already waiting or with an agent."""

    conversation: LiveConversationView
    queued: bool


def _conversation(row: Row) -> LiveConversationView:
    return LiveConversationView(
        conversation_id=row.conversation_id,
        channel=row.channel,
        state=row.state,
        claimed_by=row.claimed_by,
        claimed_by_email=row.claimed_by_email,
        queued_at=row.queued_at,
        claimed_at=row.claimed_at,
        released_at=row.released_at,
        released_to=row.released_to,
        customer_seen_at=row.customer_seen_at,
        last_n=row.last_n,
        context=dict(row.context or {}),
    )


def _message(row: Row) -> LiveMessageView:
    return LiveMessageView(row.conversation_id, row.n, row.sender, row.agent_id, row.agent_email, row.text, row.created_at)


_CONVERSATIONS = select(_lc, agents.c.email.label("claimed_by_email")).select_from(
    _lc.outerjoin(agents, agents.c.id == _lc.c.claimed_by)
)
_MESSAGES = select(_lm, agents.c.email.label("agent_email")).select_from(_lm.outerjoin(agents, agents.c.id == _lm.c.agent_id))


class LiveRepository:
    """The live-handoff tables on the console database; any number of processes may share them."""

    def __init__(
        self,
        engine: Engine,
        *,
        wait_limit: timedelta = DEFAULT_WAIT_LIMIT,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if wait_limit <= timedelta(0):
            raise ValueError("wait_limit must be positive")
        self._engine = engine
        self.wait_limit = wait_limit
        self._clock = clock

    # ------------------------------------------------------------------ reads

    def get(self, conversation_id: str) -> LiveConversationView | None:
        with self._engine.connect() as conn:
            return self._get(conn, conversation_id)

    def queue(self) -> list[QueueEntry]:
        """Waiting conversations, first come first served."""
        now = self._clock()
        with self._engine.connect() as conn:
            rows = conn.execute(_CONVERSATIONS.where(_lc.c.state == WAITING).order_by(_lc.c.queued_at, _lc.c.id)).all()
        return [
            QueueEntry(view, place, max(0.0, (now - view.queued_at).total_seconds()))
            for place, view in enumerate((_conversation(r) for r in rows), start=1)
        ]

    def held_by(self, agent_id: int) -> list[LiveConversationView]:
        """The chats an agent is in now."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                _CONVERSATIONS.where(_lc.c.state == ACTIVE, _lc.c.claimed_by == agent_id).order_by(_lc.c.claimed_at, _lc.c.id)
            ).all()
        return [_conversation(r) for r in rows]

    def live(self, channel: str | None = None) -> list[LiveConversationView]:
        """Conversations waiting or with an agent (of one channel): what a channel process must watch."""
        query = _CONVERSATIONS.where(_lc.c.state.in_((WAITING, ACTIVE)))
        if channel is not None:
            query = query.where(_lc.c.channel == channel)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(_lc.c.id)).all()
        return [_conversation(r) for r in rows]

    def place(self, conversation_id: str) -> int | None:
        """The customer's place in the queue (1 = next), None when not waiting; what the assistant tells them."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_lc.c.state, _lc.c.queued_at, _lc.c.id).where(_lc.c.conversation_id == conversation_id)
            ).first()
            if row is None or row.state != WAITING:
                return None
            ahead = conn.execute(
                select(func.count()).select_from(_lc).where(
                    _lc.c.state == WAITING,
                    (_lc.c.queued_at < row.queued_at) | and_(_lc.c.queued_at == row.queued_at, _lc.c.id < row.id),
                )
            ).scalar_one()
        return int(ahead) + 1

    def messages_after(self, conversation_id: str, after: int = 0, limit: int = 500) -> list[LiveMessageView]:
        """Messages numbered above ``after`` in order: how any process catches up after a missed notification."""
        if after < 0:
            raise ValueError("after must be 0 or more")
        with self._engine.connect() as conn:
            if conn.execute(select(_lc.c.id).where(_lc.c.conversation_id == conversation_id)).first() is None:
                raise LiveNotFound(f"No live conversation {conversation_id!r}.")
            rows = conn.execute(
                _MESSAGES.where(_lm.c.conversation_id == conversation_id, _lm.c.n > after).order_by(_lm.c.n).limit(limit)
            ).all()
        return [_message(r) for r in rows]

    # ----------------------------------------------------------------- writes

    def enqueue(self, conversation_id: str, channel: str | None = None,
                context: Mapping[str, Any] | None = None) -> Enqueued:
        """Put the conversation in the queue; asking again while waiting or with an agent changes nothing.

        A conversation released earlier joins the queue again at the back, with
        the new context; its earlier messages stay (the agent sees them).
        """
        if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > 255:
            raise ValueError("conversation_id must be 1 to 255 characters")
        learned = clean_context(context)
        now = self._clock()
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(_lc).values(
                        conversation_id=conversation_id, channel=channel, state=WAITING, queued_at=now,
                        customer_seen_at=now, last_n=0, context=learned,
                    )
                )
                queued = True
        except IntegrityError:
            with self._engine.begin() as conn:
                again = conn.execute(
                    update(_lc)
                    .where(_lc.c.conversation_id == conversation_id, _lc.c.state == RELEASED)
                    .values(state=WAITING, queued_at=now, customer_seen_at=now, claimed_by=None, claimed_at=None,
                            released_at=None, released_to=None, context=learned,
                            **({"channel": channel} if channel is not None else {}))
                )
                queued = again.rowcount == 1
                if not queued:
                    conn.execute(update(_lc).where(_lc.c.conversation_id == conversation_id).values(customer_seen_at=now))
        view = self.get(conversation_id)
        assert view is not None
        return Enqueued(view, queued)

    def customer_seen(self, conversation_id: str) -> None:
        """A sign of life from a waiting customer (the widget is still open): keeps their place."""
        with self._engine.begin() as conn:
            conn.execute(update(_lc).where(_lc.c.conversation_id == conversation_id).values(customer_seen_at=self._clock()))

    def claim(self, conversation_id: str, agent_id: int) -> LiveConversationView:
        """Take a waiting conversation; exactly one of several agents claiming at once wins.

        Claiming a conversation one already holds returns it unchanged; one held
        by someone else, or no longer waiting, is a LiveConflict.
        """
        now = self._clock()
        with self._engine.begin() as conn:
            won = conn.execute(
                update(_lc)
                .where(_lc.c.conversation_id == conversation_id, _lc.c.state == WAITING)
                .values(state=ACTIVE, claimed_by=agent_id, claimed_at=now, last_n=_lc.c.last_n + 1)
            ).rowcount == 1
            if won:
                self._insert_message(conn, conversation_id, SYSTEM, JOINED, None, now)
            else:
                current = self._get(conn, conversation_id)
                if current is None:
                    raise LiveNotFound(f"No live conversation {conversation_id!r}.")
                if not (current.state == ACTIVE and current.claimed_by == agent_id):
                    raise LiveConflict(self._why_not(current, agent_id, "claim"))
            view = self._get(conn, conversation_id)
        assert view is not None
        return view

    def append(self, conversation_id: str, sender: str, text: str, agent_id: int | None = None) -> LiveMessageView:
        """Store a message with the next number.

        An agent writes only into a chat they hold; the customer while waiting or
        with an agent (a released chat belongs to the assistant again); system
        lines always.
        """
        if sender not in SENDERS:
            raise ValueError(f"sender must be one of: {', '.join(SENDERS)}")
        if sender == AGENT and agent_id is None:
            raise ValueError("an agent message needs the agent")
        body = validate_text(text)
        now = self._clock()
        conditions: list[Any] = [_lc.c.conversation_id == conversation_id]
        values: dict[str, Any] = {"last_n": _lc.c.last_n + 1}
        if sender == AGENT:
            conditions += [_lc.c.state == ACTIVE, _lc.c.claimed_by == agent_id]
        elif sender == CUSTOMER:
            conditions.append(_lc.c.state.in_((WAITING, ACTIVE)))
            values["customer_seen_at"] = now
        with self._engine.begin() as conn:
            if conn.execute(update(_lc).where(*conditions).values(**values)).rowcount != 1:
                current = self._get(conn, conversation_id)
                if current is None:
                    raise LiveNotFound(f"No live conversation {conversation_id!r}.")
                raise LiveConflict(self._why_not(current, agent_id, "write to" if sender == AGENT else "reach"))
            n = self._insert_message(conn, conversation_id, sender, body, agent_id if sender == AGENT else None, now)
            row = conn.execute(_MESSAGES.where(_lm.c.conversation_id == conversation_id, _lm.c.n == n)).one()
        return _message(row)

    def release(self, conversation_id: str, agent_id: int, to: str) -> LiveConversationView:
        """End the agent's part: back to the assistant, on to a ticket, or closed. Only the holder may."""
        target = validate_release_target(to)
        now = self._clock()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(_lc)
                .where(_lc.c.conversation_id == conversation_id, _lc.c.state == ACTIVE, _lc.c.claimed_by == agent_id)
                .values(state=RELEASED, released_to=target, released_at=now, last_n=_lc.c.last_n + 1)
            ).rowcount == 1
            if not done:
                current = self._get(conn, conversation_id)
                if current is None:
                    raise LiveNotFound(f"No live conversation {conversation_id!r}.")
                raise LiveConflict(self._why_not(current, agent_id, "release"))
            self._insert_message(conn, conversation_id, SYSTEM, RELEASE_LINES[target], None, now)
            view = self._get(conn, conversation_id)
        assert view is not None
        return view

    def expire_waiting(self) -> list[str]:
        """Release (as "expired") waiting conversations whose customer showed no sign of life within the wait limit."""
        now = self._clock()
        cutoff = now - self.wait_limit
        with self._engine.connect() as conn:
            stale = conn.execute(
                select(_lc.c.conversation_id).where(_lc.c.state == WAITING, _lc.c.customer_seen_at < cutoff)
            ).scalars().all()
        expired = []
        for conversation_id in stale:
            with self._engine.begin() as conn:
                changed = conn.execute(
                    update(_lc)
                    .where(_lc.c.conversation_id == conversation_id, _lc.c.state == WAITING, _lc.c.customer_seen_at < cutoff)
                    .values(state=RELEASED, released_to=TO_EXPIRED, released_at=now, last_n=_lc.c.last_n + 1)
                ).rowcount == 1
                if changed:  # not if the customer wrote or an agent claimed it meanwhile
                    self._insert_message(conn, conversation_id, SYSTEM, RELEASE_LINES[TO_EXPIRED], None, now)
                    expired.append(conversation_id)
        return expired

    def customer_left(self, conversation_id: str, to: str) -> LiveConversationView:
        """The waiting customer left the queue (for a ticket, or back to the assistant) before an agent took it.

        Only from ``waiting``: once an agent has the chat, leaving is the agent's
        call, and the customer's message is theirs to read. LiveConflict otherwise.
        """
        if to not in CUSTOMER_LEFT_LINES:
            raise ValueError(f"to must be one of: {', '.join(CUSTOMER_LEFT_LINES)}")
        now = self._clock()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(_lc)
                .where(_lc.c.conversation_id == conversation_id, _lc.c.state == WAITING)
                .values(state=RELEASED, released_to=to, released_at=now, last_n=_lc.c.last_n + 1)
            ).rowcount == 1
            if not done:
                current = self._get(conn, conversation_id)
                if current is None:
                    raise LiveNotFound(f"No live conversation {conversation_id!r}.")
                raise LiveConflict(self._why_not(current, None, "leave"))
            self._insert_message(conn, conversation_id, SYSTEM, CUSTOMER_LEFT_LINES[to], None, now)
            view = self._get(conn, conversation_id)
        assert view is not None
        return view

    def expire(self, conversation_id: str, counted_from: str = WAIT_FROM_QUEUED) -> LiveConversationView | None:
        """Release (as "expired", the ticket offered) one conversation that waited past the limit; None if not.

        One conditional UPDATE, so of several replicas trying at once exactly one
        gets the view back and offers the ticket. ``counted_from``: the queue time
        (a connected widget) or the customer's last message (Telegram).
        """
        if counted_from not in (WAIT_FROM_QUEUED, WAIT_FROM_SEEN):
            raise ValueError(f"counted_from must be {WAIT_FROM_QUEUED} or {WAIT_FROM_SEEN}")
        now = self._clock()
        since = _lc.c[counted_from]
        with self._engine.begin() as conn:
            won = conn.execute(
                update(_lc)
                .where(_lc.c.conversation_id == conversation_id, _lc.c.state == WAITING, since < now - self.wait_limit)
                .values(state=RELEASED, released_to=TO_EXPIRED, released_at=now, last_n=_lc.c.last_n + 1)
            ).rowcount == 1
            if not won:
                return None
            self._insert_message(conn, conversation_id, SYSTEM, EXPIRED_TO_TICKET, None, now)
            view = self._get(conn, conversation_id)
        return view

    def requeue_agent(self, agent_id: int) -> list[str]:
        """Put the chats of an agent who signed out back in the queue, at their old place."""
        now = self._clock()
        with self._engine.connect() as conn:
            held = conn.execute(
                select(_lc.c.conversation_id).where(_lc.c.state == ACTIVE, _lc.c.claimed_by == agent_id)
            ).scalars().all()
        requeued = []
        for conversation_id in held:
            with self._engine.begin() as conn:
                changed = conn.execute(
                    update(_lc)
                    .where(_lc.c.conversation_id == conversation_id, _lc.c.state == ACTIVE, _lc.c.claimed_by == agent_id)
                    # The wait limit starts again: the customer was talking to someone until now.
                    .values(state=WAITING, claimed_by=None, claimed_at=None, customer_seen_at=now,
                            last_n=_lc.c.last_n + 1)
                ).rowcount == 1
                if changed:
                    self._insert_message(conn, conversation_id, SYSTEM, REQUEUED, None, now)
                    requeued.append(conversation_id)
        return requeued

    # ---------------------------------------------------------------- helpers

    def _get(self, conn: Connection, conversation_id: str) -> LiveConversationView | None:
        row = conn.execute(_CONVERSATIONS.where(_lc.c.conversation_id == conversation_id)).first()
        return _conversation(row) if row else None

    @staticmethod
    def _insert_message(conn: Connection, conversation_id: str, sender: str, text: str, agent_id: int | None,
                        now: datetime) -> int:
        """Insert with the number the caller's UPDATE just took (same transaction, row still locked)."""
        n = conn.execute(select(_lc.c.last_n).where(_lc.c.conversation_id == conversation_id)).scalar_one()
        conn.execute(
            insert(_lm).values(conversation_id=conversation_id, n=n, sender=sender, agent_id=agent_id, text=text,
                               created_at=now)
        )
        return int(n)

    @staticmethod
    def _why_not(current: LiveConversationView, agent_id: int | None, action: str) -> str:
        if current.state == ACTIVE and current.claimed_by != agent_id:
            return f"Cannot {action} this conversation: another agent holds it."
        if current.state == WAITING:
            return f"Cannot {action} this conversation: it is waiting in the queue (claim it first)."
        return f"Cannot {action} this conversation: it was released ({current.released_to})."
