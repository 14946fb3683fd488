"""Console tables in the ticket database (created by migration 0002, never create_all).

Two kinds:
- the conversation index (``conversation_summaries``, ``conversation_intents``,
  ``conversation_search``, ``transcript_index_state``): a cache derived from the
  tracker store so that listing, filtering and searching 10,000s of conversations
  is one indexed query, and can be rebuilt from the tracker store at any time;
- what agents add (``conversation_reviews``, ``conversation_tags``,
  ``conversation_notes``, ``intent_corrections``): kept when the index is rebuilt.

``conversation_search`` differs per backend: an FTS5 virtual table on SQLite
(rowid = summary id) and a table with a generated tsvector + GIN index on
PostgreSQL; it is described here only with the columns both share.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    table,
)

from ..db.base import metadata
from ..db.timeutil import UTCDateTime

conversation_summaries = Table(
    "conversation_summaries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False, unique=True),
    Column("channel", String(64), nullable=True),
    # Epoch seconds, like Rasa's events.timestamp.
    Column("started_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("turns", Integer, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("branch", String(40), nullable=True),
    # The most alarming verdict on an address the customer showed (contract.AddressVerdict).
    Column("address_verdict", String(16), nullable=True),
    # solved | handed | abandoned; "ticket" is decided at query time from the tickets table.
    Column("base_outcome", String(16), nullable=False),
    Column("low_confidence_turns", Integer, nullable=False),
    Column("first_message", Text, nullable=True),
    Column("event_count", Integer, nullable=False),
    Column("last_event_id", Integer, nullable=False),
    Column("indexed_at", Float, nullable=False),
)
Index("ix_conversation_summaries_last_at", conversation_summaries.c.last_at)
Index("ix_conversation_summaries_started_at", conversation_summaries.c.started_at)
Index("ix_conversation_summaries_channel_last_at", conversation_summaries.c.channel, conversation_summaries.c.last_at)
Index("ix_conversation_summaries_branch_last_at", conversation_summaries.c.branch, conversation_summaries.c.last_at)
Index("ix_conversation_summaries_address_verdict_last_at", conversation_summaries.c.address_verdict,
      conversation_summaries.c.last_at)
Index("ix_conversation_summaries_outcome_last_at", conversation_summaries.c.base_outcome, conversation_summaries.c.last_at)
Index("ix_conversation_summaries_low_confidence_turns", conversation_summaries.c.low_confidence_turns)

conversation_intents = Table(
    "conversation_intents",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("intent", String(100), primary_key=True),
)
Index("ix_conversation_intents_intent_conversation_id", conversation_intents.c.intent, conversation_intents.c.conversation_id)

#: Shared shape of the per-backend full-text table (see module docstring).
conversation_search = table("conversation_search", column("summary_id"), column("body"))

transcript_index_state = Table(
    "transcript_index_state",
    metadata,
    Column("id", Integer, primary_key=True),
    # Every tracker event with id <= stable_id is reflected in the summaries.
    Column("stable_id", Integer, nullable=False),
    # A missing event id (a transaction still open on PostgreSQL, or rolled back) and since when.
    Column("hole_id", Integer, nullable=True),
    Column("hole_since", Float, nullable=True),
    Column("updated_at", Float, nullable=False),
)

conversation_reviews = Table(
    "conversation_reviews",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("reviewed_by", String(320), nullable=False),
    Column("reviewed_at", UTCDateTime(), nullable=False),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("tag", String(40), primary_key=True),
    Column("added_by", String(320), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
)
Index("ix_conversation_tags_tag", conversation_tags.c.tag)

conversation_notes = Table(
    "conversation_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("author", String(320), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

intent_corrections = Table(
    "intent_corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False),
    # events.id of the customer message in the tracker store.
    Column("event_id", Integer, nullable=False),
    # The message as stored (already redacted), so the export needs no tracker access.
    Column("text", Text, nullable=False),
    Column("predicted_intent", String(100), nullable=True),
    Column("predicted_confidence", Float, nullable=True),
    Column("correct_intent", String(100), nullable=False),
    Column("corrected_by", String(320), nullable=False),
    Column("corrected_at", UTCDateTime(), nullable=False),
    UniqueConstraint("conversation_id", "event_id"),
)
Index("ix_intent_corrections_correct_intent", intent_corrections.c.correct_intent)

#: The tables of this module (the shared MetaData also holds the tickets' and agents' tables).
CONSOLE_TABLES: tuple[str, ...] = tuple(
    t.name
    for t in (
        conversation_summaries,
        conversation_intents,
        transcript_index_state,
        conversation_reviews,
        conversation_tags,
        conversation_notes,
        intent_corrections,
    )
) + ("conversation_search",)
