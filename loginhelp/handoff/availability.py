"""Which agents can take a live chat now, so the assistant offers a person only when someone is there.

An agent is available while the live page is open (it sends a heartbeat; the
agent counts for ``window`` after the last one) or after saying so explicitly.
Saying "away" wins over an open page; signing out forgets both. Disabled
accounts never count. Kept in the database, so every console and Rasa replica
sees the same answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..agents.models import agents
from ..db.timeutil import utcnow
from .models import agent_availability

#: How long after its last heartbeat an open live page still counts.
DEFAULT_HEARTBEAT_WINDOW = timedelta(seconds=60)

_av = agent_availability


@dataclass(frozen=True)
class AvailabilityView:
    agent_id: int
    #: True / False when the agent said so; None when only the heartbeat decides.
    chosen: bool | None
    heartbeat_at: datetime | None
    available: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "chosen": self.chosen,
            "heartbeat_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None,
        }


class AvailabilityRepository:
    """The ``agent_availability`` table."""

    def __init__(
        self,
        engine: Engine,
        *,
        window: timedelta = DEFAULT_HEARTBEAT_WINDOW,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self._engine = engine
        self.window = window
        self._clock = clock

    def heartbeat(self, agent_id: int) -> AvailabilityView:
        """The live page is open."""
        now = self._clock()
        with self._engine.begin() as conn:
            self._upsert(conn, agent_id, {"heartbeat_at": now, "updated_at": now})
        return self.status(agent_id)

    def set_available(self, agent_id: int, available: bool) -> AvailabilityView:
        """The agent's own choice: available (even with the page closed) or away (even with it open)."""
        if not isinstance(available, bool):
            raise ValueError("available must be true or false")
        now = self._clock()
        with self._engine.begin() as conn:
            self._upsert(conn, agent_id, {"available": available, "updated_at": now})
        return self.status(agent_id)

    def forget(self, agent_id: int) -> None:
        """Sign-out: neither the choice nor the last heartbeat counts any more."""
        with self._engine.begin() as conn:
            conn.execute(delete(_av).where(_av.c.agent_id == agent_id))

    def status(self, agent_id: int) -> AvailabilityView:
        with self._engine.connect() as conn:
            row = conn.execute(select(_av).where(_av.c.agent_id == agent_id)).first()
        if row is None:
            return AvailabilityView(agent_id, None, None, False)
        return AvailabilityView(agent_id, row.available, row.heartbeat_at, self._counts(row.available, row.heartbeat_at))

    def available_count(self) -> int:
        """How many active agents can take a chat now (the assistant offers a person only when above 0)."""
        cutoff = self._clock() - self.window
        counted = or_(_av.c.available.is_(True), and_(_av.c.available.is_(None), _av.c.heartbeat_at >= cutoff))
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(_av.join(agents, agents.c.id == _av.c.agent_id))
                    .where(agents.c.active.is_(True), counted)
                ).scalar_one()
            )

    def _counts(self, chosen: bool | None, heartbeat_at: datetime | None) -> bool:
        if chosen is not None:
            return chosen
        return heartbeat_at is not None and heartbeat_at >= self._clock() - self.window

    @staticmethod
    def _upsert(conn: Connection, agent_id: int, values: dict[str, Any]) -> None:
        """Insert the agent's row or change it, in one statement (two tabs beating at once must not collide)."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(_av).values(agent_id=agent_id, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=[_av.c.agent_id], set_=values))
