"""What a live handoff amounted to, defined once for the conversation list, its filter and the live pages.

- handed to an agent: an agent took the chat, i.e. the live conversation has a
  claim (``claimed_at``: set by the claim, kept by the release) or an agent wrote
  in it (a claim cleared later by requeueing or a new request still counts);
- wait time: from joining the queue to the claim; without a claim, to the
  release (expired) or, still waiting, to now;
- handling time: from the claim to the release or, still active, to now.

Both figures describe the latest time the customer asked (asking again after a
release starts a new wait: ``queued_at`` moves, ``claimed_at`` is cleared).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_
from sqlalchemy.sql import ColumnElement

from .models import AGENT, live_conversations, live_messages

_lc = live_conversations
_lm = live_messages


def taken_by_agent(conversation_id: Any) -> ColumnElement[bool]:
    """SQL: the conversation with this id (a column or value) was handed to an agent."""
    claimed = exists().where(_lc.c.conversation_id == conversation_id, _lc.c.claimed_at.is_not(None))
    wrote = exists().where(_lm.c.conversation_id == conversation_id, _lm.c.sender == AGENT)
    return or_(claimed, wrote)


@dataclass(frozen=True)
class LiveFigures:
    """Seconds the customer waited for an agent and the agent spent with them (None: not applicable)."""

    wait_seconds: float | None
    handling_seconds: float | None


def figures(queued_at: datetime, claimed_at: datetime | None, released_at: datetime | None,
            now: datetime) -> LiveFigures:
    """The two figures of one live conversation row (see the module docstring)."""
    wait_end = claimed_at or released_at or now
    wait = max(0.0, (wait_end - queued_at).total_seconds())
    handling = max(0.0, ((released_at or now) - claimed_at).total_seconds()) if claimed_at else None
    return LiveFigures(wait, handling)
