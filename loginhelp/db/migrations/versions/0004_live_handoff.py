"""Live handoff: live conversations and their messages, agent availability, personal API tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "live_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_to", sa.String(length=10), nullable=True),
        sa.Column("customer_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_n", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.CheckConstraint("state IN ('waiting', 'active', 'released')", name=op.f("ck_live_conversations_state")),
        sa.CheckConstraint(
            "released_to IN ('assistant', 'ticket', 'closed', 'expired')",
            name=op.f("ck_live_conversations_released_to"),
        ),
        sa.ForeignKeyConstraint(["claimed_by"], ["agents.id"], name=op.f("fk_live_conversations_claimed_by_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_conversations")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_live_conversations_conversation_id")),
    )
    op.create_index("ix_live_conversations_state_queued_at", "live_conversations", ["state", "queued_at"])
    op.create_index("ix_live_conversations_claimed_by_state", "live_conversations", ["claimed_by", "state"])

    op.create_table(
        "live_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sender IN ('customer', 'agent', 'system')", name=op.f("ck_live_messages_sender")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_live_messages_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["live_conversations.conversation_id"],
            name=op.f("fk_live_messages_conversation_id_live_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_messages")),
        sa.UniqueConstraint("conversation_id", "n", name=op.f("uq_live_messages_conversation_id_n")),
    )

    op.create_table(
        "agent_availability",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_availability_agent_id_agents")),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_availability")),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_api_tokens_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_agent_id", "api_tokens", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_agent_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("agent_availability")
    op.drop_table("live_messages")
    op.drop_index("ix_live_conversations_claimed_by_state", table_name="live_conversations")
    op.drop_index("ix_live_conversations_state_queued_at", table_name="live_conversations")
    op.drop_table("live_conversations")
