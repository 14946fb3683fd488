"""Tables of live handoff (created by migration 0004, never create_all).

- ``live_conversations``: one row per customer conversation that asked for a
  person; its state moves waiting -> active (claimed) -> released, and back to
  waiting when the customer asks again or the agent signs out. ``last_n`` is the
  message counter the append takes its number from, so numbering is one row lock.
- ``live_messages``: the live chat, numbered 1, 2, 3 ... per conversation; the
  unique (conversation_id, n) makes a message stored once and in order whatever
  process wrote it.
- ``agent_availability``: who can take a chat now (a heartbeat of the live page
  or an explicit choice).
- ``api_tokens``: personal API tokens; only their SHA-256 is stored.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..agents.models import agents
from ..db.base import metadata
from ..db.timeutil import UTCDateTime

WAITING = "waiting"
ACTIVE = "active"
RELEASED = "released"
STATES: tuple[str, ...] = (WAITING, ACTIVE, RELEASED)

#: Where a released conversation went: the agent chooses the first three, the queue's wait limit the last.
TO_ASSISTANT = "assistant"
TO_TICKET = "ticket"
TO_CLOSED = "closed"
TO_EXPIRED = "expired"
RELEASE_TARGETS: tuple[str, ...] = (TO_ASSISTANT, TO_TICKET, TO_CLOSED)

CUSTOMER = "customer"
AGENT = "agent"
SYSTEM = "system"
SENDERS: tuple[str, ...] = (CUSTOMER, AGENT, SYSTEM)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


live_conversations = Table(
    "live_conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False, unique=True),
    Column("channel", String(64), nullable=True),
    Column("state", String(10), nullable=False),
    Column("claimed_by", Integer, ForeignKey(agents.c.id), nullable=True),
    Column("queued_at", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=True),
    Column("released_at", UTCDateTime(), nullable=True),
    Column("released_to", String(10), nullable=True),
    # The customer's last sign of life (asking, writing); the wait limit counts from it.
    Column("customer_seen_at", UTCDateTime(), nullable=False),
    # Number of the last message stored; the next append takes last_n + 1 under the row lock.
    Column("last_n", Integer, nullable=False, default=0),
    # What the assistant learned: branch, steps tried, device, browser, language, contact.
    Column("context", JSON, nullable=False),
    CheckConstraint(_in("state", STATES), name="state"),
    CheckConstraint(_in("released_to", (*RELEASE_TARGETS, TO_EXPIRED)), name="released_to"),
)
# The queue is the waiting rows in order of arrival; an agent's chats are looked up on sign-out.
Index("ix_live_conversations_state_queued_at", live_conversations.c.state, live_conversations.c.queued_at)
Index("ix_live_conversations_claimed_by_state", live_conversations.c.claimed_by, live_conversations.c.state)

live_messages = Table(
    "live_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), ForeignKey(live_conversations.c.conversation_id), nullable=False),
    Column("n", Integer, nullable=False),
    Column("sender", String(10), nullable=False),
    Column("agent_id", Integer, ForeignKey(agents.c.id), nullable=True),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("conversation_id", "n"),
    CheckConstraint(_in("sender", SENDERS), name="sender"),
)

agent_availability = Table(
    "agent_availability",
    metadata,
    Column("agent_id", Integer, ForeignKey(agents.c.id), primary_key=True),
    # True: available until they say otherwise; False: away even with the live page open; NULL: the heartbeat decides.
    Column("available", Boolean, nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey(agents.c.id), nullable=False),
    # SHA-256 hex of the token: the token has 256 random bits, so a fast hash is enough and lookups stay indexed.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)
Index("ix_api_tokens_agent_id", api_tokens.c.agent_id)
