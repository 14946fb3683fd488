"""Agent console: agents, sign-in attempts, conversation index, reviews, tags, notes, intent corrections.

No index is added to Rasa's ``events`` table: it lives in the tracker database
(another database, created by the Rasa server on its first start), and the
console only reads it by primary key range and by ``sender_id``, both indexed by
Rasa. Listing, filtering and searching run on the conversation index below.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-26
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('agent', 'admin')", name=op.f("ck_agents_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("email", name=op.f("uq_agents_email")),
    )

    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index("ix_sign_in_attempts_email_attempted_at", "sign_in_attempts", ["email", "attempted_at"])
    op.create_index("ix_sign_in_attempts_ip_attempted_at", "sign_in_attempts", ["ip", "attempted_at"])

    op.create_table(
        "conversation_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=40), nullable=True),
        sa.Column("base_outcome", sa.String(length=16), nullable=False),
        sa.Column("low_confidence_turns", sa.Integer(), nullable=False),
        sa.Column("first_message", sa.Text(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("indexed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_summaries")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_conversation_summaries_conversation_id")),
    )
    op.create_index("ix_conversation_summaries_last_at", "conversation_summaries", ["last_at"])
    op.create_index("ix_conversation_summaries_started_at", "conversation_summaries", ["started_at"])
    op.create_index("ix_conversation_summaries_channel_last_at", "conversation_summaries", ["channel", "last_at"])
    op.create_index("ix_conversation_summaries_branch_last_at", "conversation_summaries", ["branch", "last_at"])
    op.create_index(
        "ix_conversation_summaries_outcome_last_at", "conversation_summaries", ["base_outcome", "last_at"]
    )
    op.create_index(
        "ix_conversation_summaries_low_confidence_turns", "conversation_summaries", ["low_confidence_turns"]
    )

    op.create_table(
        "conversation_intents",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "intent", name=op.f("pk_conversation_intents")),
    )
    op.create_index(
        "ix_conversation_intents_intent_conversation_id", "conversation_intents", ["intent", "conversation_id"]
    )

    if op.get_bind().dialect.name == "sqlite":
        # Full-text index; rowid is conversation_summaries.id. unicode61 matches the
        # word splitting of loginhelp.transcripts.summary.search_words.
        op.execute(
            "CREATE VIRTUAL TABLE conversation_search USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "conversation_search",
            sa.Column("summary_id", sa.Integer(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column(
                "body_tsv",
                postgresql.TSVECTOR(),
                sa.Computed("to_tsvector('simple'::regconfig, body)", persisted=True),
                nullable=True,
            ),
            sa.ForeignKeyConstraint(
                ["summary_id"],
                ["conversation_summaries.id"],
                name=op.f("fk_conversation_search_summary_id_conversation_summaries"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("summary_id", name=op.f("pk_conversation_search")),
        )
        op.create_index(
            "ix_conversation_search_body_tsv", "conversation_search", ["body_tsv"], postgresql_using="gin"
        )

    op.create_table(
        "transcript_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stable_id", sa.Integer(), nullable=False),
        sa.Column("hole_id", sa.Integer(), nullable=True),
        sa.Column("hole_since", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_index_state")),
    )

    op.create_table(
        "conversation_reviews",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("reviewed_by", sa.String(length=320), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_reviews")),
    )

    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_conversation_tags")),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag"])

    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(op.f("ix_conversation_notes_conversation_id"), "conversation_notes", ["conversation_id"])

    op.create_table(
        "intent_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=100), nullable=True),
        sa.Column("predicted_confidence", sa.Float(), nullable=True),
        sa.Column("correct_intent", sa.String(length=100), nullable=False),
        sa.Column("corrected_by", sa.String(length=320), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_corrections")),
        sa.UniqueConstraint(
            "conversation_id", "event_id", name=op.f("uq_intent_corrections_conversation_id_event_id")
        ),
    )
    op.create_index("ix_intent_corrections_correct_intent", "intent_corrections", ["correct_intent"])


def downgrade() -> None:
    op.drop_index("ix_intent_corrections_correct_intent", table_name="intent_corrections")
    op.drop_table("intent_corrections")
    op.drop_index(op.f("ix_conversation_notes_conversation_id"), table_name="conversation_notes")
    op.drop_table("conversation_notes")
    op.drop_index("ix_conversation_tags_tag", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    op.drop_table("conversation_reviews")
    op.drop_table("transcript_index_state")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE conversation_search")
    else:
        op.drop_index("ix_conversation_search_body_tsv", table_name="conversation_search")
        op.drop_table("conversation_search")
    op.drop_index("ix_conversation_intents_intent_conversation_id", table_name="conversation_intents")
    op.drop_table("conversation_intents")
    for name in (
        "ix_conversation_summaries_low_confidence_turns",
        "ix_conversation_summaries_outcome_last_at",
        "ix_conversation_summaries_branch_last_at",
        "ix_conversation_summaries_channel_last_at",
        "ix_conversation_summaries_started_at",
        "ix_conversation_summaries_last_at",
    ):
        op.drop_index(name, table_name="conversation_summaries")
    op.drop_table("conversation_summaries")
    op.drop_index("ix_sign_in_attempts_ip_attempted_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_email_attempted_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    op.drop_table("agents")
