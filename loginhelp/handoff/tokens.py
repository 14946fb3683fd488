"""Personal API tokens for the console's JSON API (``Authorization: Bearer <token>``).

A token is shown once, when made (``loginhelp agents token EMAIL``); only its
SHA-256 is stored, so a copy of the database does not let anyone in. Making a
new token revokes the agent's earlier ones, so a leaked token is dealt with by
making a new one. A token of a disabled account opens nothing.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from ..agents.models import agents
from ..db.timeutil import utcnow
from .models import api_tokens

#: Tokens start with this, so they are recognisable in a leaked file or a secret scanner.
TOKEN_PREFIX = "lhk_"
#: Longer than any token we make; a header longer than this is not hashed at all.
MAX_TOKEN_LENGTH = 200


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokens:
    """The ``api_tokens`` table."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def issue(self, agent_id: int) -> str:
        """A new token for the agent (returned once, never stored); the agent's earlier tokens stop working."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.agent_id == agent_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            conn.execute(insert(api_tokens).values(agent_id=agent_id, token_hash=token_hash(token), created_at=now))
        return token

    def revoke_all(self, agent_id: int) -> int:
        """Stop every token of the agent; returns how many were still valid."""
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.agent_id == agent_id, api_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=self._clock())
                ).rowcount
            )

    def agent_id_for(self, token: str) -> int | None:
        """The agent a valid token belongs to; None for an unknown, revoked or malformed token or a disabled account."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
            return None
        with self._engine.connect() as conn:
            found = conn.execute(
                select(api_tokens.c.agent_id)
                .select_from(api_tokens.join(agents, agents.c.id == api_tokens.c.agent_id))
                .where(
                    api_tokens.c.token_hash == token_hash(token),
                    api_tokens.c.revoked_at.is_(None),
                    agents.c.active.is_(True),
                )
            ).scalar()
        return int(found) if found is not None else None
