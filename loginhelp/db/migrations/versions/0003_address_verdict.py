"""Conversation index: the verdict on an address the customer showed (filterable).

The index is a cache of the tracker store, so the watermark goes back to 0: the
next refresh summarises every conversation again and fills the new column.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("conversation_summaries", sa.Column("address_verdict", sa.String(length=16), nullable=True))
    op.create_index(
        "ix_conversation_summaries_address_verdict_last_at",
        "conversation_summaries",
        ["address_verdict", "last_at"],
    )
    op.execute("UPDATE transcript_index_state SET stable_id = 0, hole_id = NULL, hole_since = NULL")


def downgrade() -> None:
    op.drop_index("ix_conversation_summaries_address_verdict_last_at", table_name="conversation_summaries")
    with op.batch_alter_table("conversation_summaries") as batch:
        batch.drop_column("address_verdict")
