"""Read-only access to Rasa's SQL tracker store (the ``events`` table the Rasa server writes).

Rasa's own ``retrieve()`` returns only the latest session; the console reads the
rows directly, all sessions, in id order (the order Rasa itself replays them).
Every query here uses an index Rasa creates: the primary key or ``sender_id``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, inspect, select
from sqlalchemy.engine import Engine

from ..db.engine import make_engine

log = logging.getLogger(__name__)

#: Rasa's schema (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); described here, created by Rasa.
#: Its own MetaData on purpose: the table lives in Rasa's database, not in the one Alembic migrates.
_metadata = MetaData()
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

#: Conversations loaded per query when (re)building summaries.
SENDER_CHUNK = 400


@dataclass(frozen=True)
class StoredEvent:
    """One row of the events table with its JSON parsed."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


#: The console never writes the tracker store; wait for Rasa's writes instead of failing.
READ_ONLY_SQLITE_PRAGMAS: tuple[str, ...] = ("query_only=ON", "busy_timeout=5000")


def make_tracker_engine(url: str) -> Engine:
    """A read-only engine on Rasa's tracker store (the shared factory with the reader's SQLite pragmas)."""
    return make_engine(url, sqlite_pragmas=READ_ONLY_SQLITE_PRAGMAS)


def _parse(row: Any) -> StoredEvent:
    try:
        data = json.loads(row.data) if row.data else {}
    except ValueError:
        log.warning("event %s of %r holds invalid JSON; shown empty", row.id, row.sender_id)
        data = {}
    if not isinstance(data, dict):
        data = {}
    timestamp = row.timestamp if row.timestamp is not None else data.get("timestamp") or 0.0
    return StoredEvent(row.id, row.sender_id, row.type_name, float(timestamp), data)


class TrackerReader:
    """Queries on the events table; tolerates a store Rasa has not created yet."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._table_seen = False

    def has_events_table(self) -> bool:
        if not self._table_seen:
            with self.engine.connect() as conn:
                self._table_seen = inspect(conn).has_table("events")
        return self._table_seen

    def max_id(self) -> int:
        if not self.has_events_table():
            return 0
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(events.c.id))).scalar() or 0

    def ids_after(self, after_id: int) -> list[tuple[int, str]]:
        """(id, sender_id) of every event newer than ``after_id``, in id order."""
        if not self.has_events_table():
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.id, events.c.sender_id).where(events.c.id > after_id).order_by(events.c.id)
            )
            return [(r.id, r.sender_id) for r in rows]

    def conversation(self, sender_id: str) -> list[StoredEvent]:
        """Every event of one conversation, all sessions, in the order Rasa stored them."""
        if not self.has_events_table():
            return []
        stmt = (
            select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id)
            .order_by(events.c.id)
        )
        with self.engine.connect() as conn:
            return [_parse(r) for r in conn.execute(stmt)]

    def conversations(self, sender_ids: Iterable[str]) -> Iterator[tuple[str, list[StoredEvent]]]:
        """(sender_id, events) for many conversations, loaded in chunks."""
        ids = sorted(set(sender_ids))
        for start in range(0, len(ids), SENDER_CHUNK):
            chunk: Sequence[str] = ids[start : start + SENDER_CHUNK]
            grouped: dict[str, list[StoredEvent]] = {sid: [] for sid in chunk}
            stmt = (
                select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                .where(events.c.sender_id.in_(chunk))
                .order_by(events.c.id)
            )
            with self.engine.connect() as conn:
                for row in conn.execute(stmt):
                    grouped[row.sender_id].append(_parse(row))
            yield from grouped.items()
