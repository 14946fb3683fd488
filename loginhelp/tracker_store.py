"""A SQL tracker store that redacts secrets before Rasa writes an event.

Configured in endpoints.yml::

    tracker_store:
      type: loginhelp.tracker_store.RedactingSQLTrackerStore
      dialect: sqlite          # or postgresql with host/port/username/password
      db: var/tracker.db

Rasa instantiates custom stores with the same keyword arguments as its SQL
store. What is redacted, with loginhelp.secret_detection.redact:
- the customer's text (``text`` and ``parse_data.text``) and entity values;
- anywhere else in any event (bot replies, slot values, metadata), exact copies
  of a secret the customer typed in this conversation (an echo).
The redaction happens on a copy: the live tracker keeps the text, so the turn
being processed is unaffected. Events streamed to an event broker are redacted
the same way. The number of stored events is unchanged (Rasa counts them).

Reads and writes go through prepared SQLAlchemy Core statements instead of
Rasa's ORM queries (same table, same rows, same session logic): a turn reads
the conversation and writes its new events once, and Rasa's ORM version spent
more time building and caching query objects than SQLite or PostgreSQL spent
answering them (bench/README.md, "load").

Caution: Rasa falls back to an in-memory store, with only a warning, when this
class cannot be imported; tests check that events really land in the database.
"""
from __future__ import annotations

import copy
import itertools
import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from .db.engine import make_engine
from .secret_detection import find_secrets, redact

#: Shorter "secrets" are not echo-replaced (they would hit ordinary words and numbers).
MIN_ECHO_LENGTH = 4


#: Connections kept open to the SQLite file (Rasa uses one at a time; the rest absorb bursts).
SQLITE_POOL_SIZE = 4
#: How long a write waits for another writer (the console never writes this file).
SQLITE_BUSY_TIMEOUT_S = 15.0


SQLITE_PRAGMAS: tuple[str, ...] = ("journal_mode=WAL", "synchronous=NORMAL")

log = logging.getLogger(__name__)


def _marker(kind: str) -> str:
    return f"[redacted {kind.replace('_', ' ')}]"


def secret_values(texts: Iterable[Any]) -> Dict[str, str]:
    """Each secret found in ``texts`` -> the marker that replaces it."""
    found: Dict[str, str] = {}
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        for finding in find_secrets(text):
            value = text[finding.start : finding.end]
            if len(value) >= MIN_ECHO_LENGTH:
                found.setdefault(value, _marker(finding.kind))
    return found


def _replace_echoes(value: Any, secrets: Dict[str, str]) -> Any:
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, secrets[secret])
        return value
    if isinstance(value, dict):
        return {k: _replace_echoes(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_echoes(v, secrets) for v in value]
    return value


def redact_event_dict(data: Dict[str, Any], secrets: Dict[str, str] | None = None) -> Dict[str, Any]:
    """A redacted deep copy of a serialised event (``Event.as_dict()``)."""
    data = copy.deepcopy(data)
    secrets = dict(secrets or {})
    if data.get("event") == UserUttered.type_name:
        parse_data: Dict[str, Any] = data["parse_data"] if isinstance(data.get("parse_data"), dict) else {}
        secrets.update(secret_values([data.get("text"), parse_data.get("text")]))
        for holder in (data, parse_data):
            if isinstance(holder.get("text"), str):
                holder["text"] = redact(holder["text"])
        for entity in parse_data.get("entities") or []:
            if isinstance(entity, dict) and isinstance(entity.get("value"), str):
                entity["value"] = redact(entity["value"])
    if not secrets:
        return data
    return _replace_echoes(data, secrets)


def tracker_secrets(events: Iterable[Event]) -> Dict[str, str]:
    """Secrets typed in these events, so later echoes of them are caught too."""
    return secret_values(e.text for e in events if isinstance(e, UserUttered))


def event_row(sender_id: Text, event: Event, secrets: Dict[str, str]) -> Dict[str, Any]:
    """The row Rasa's SQLTrackerStore writes for an event, from the redacted event."""
    data = redact_event_dict(event.as_dict(), secrets)
    parse_data = data.get("parse_data") or {}
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (parse_data.get("intent") or {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class _EventStatements:
    """Rasa's event queries as Core statements built once (SQLAlchemy caches their compiled form)."""

    def __init__(self, events: sa.Table) -> None:
        sender = events.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        # As in Rasa: the latest session starts at the latest `session_started`
        # event's timestamp; without one, every event belongs to it.
        in_latest_session = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self.all_sessions = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self.latest_session = sa.select(events.c.data).where(sender, in_latest_session).order_by(events.c.id)
        self.count_latest_session = sa.select(sa.func.count()).select_from(events).where(sender, in_latest_session)
        self.insert = events.insert()


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose stored (and streamed) events carry no customer secrets."""

    engine: sa.engine.Engine  # set by SQLTrackerStore.__init__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statements = _EventStatements(self.SQLEvent.__table__)
        if self.engine.dialect.name == "sqlite":
            self._tune_sqlite()

    def _tune_sqlite(self) -> None:
        """Pooled WAL connections for the embedded mode's SQLite file.

        Rasa runs its SQL synchronously inside the event loop, so every
        millisecond here stalls every conversation. SQLAlchemy 1.4 gives file
        SQLite a NullPool (a new connection opened and closed per query) and
        SQLite's default journal fsyncs on every commit: together about a
        sixth of a turn's time under load (bench/README.md, "load"). Here:
        - a small QueuePool, as SQLAlchemy 2.0 does by default for files;
        - WAL, which also lets the agent console read while Rasa writes;
        - synchronous=NORMAL, the setting SQLite recommends with WAL: a commit
          survives a crash of the process, only an OS crash or power cut can
          lose the last turns. Production runs on PostgreSQL (deploy/).
        """
        url = self.engine.url
        self.engine.dispose()
        # future=False: Rasa's own SQLTrackerStore methods use this engine through 1.x-style sessions.
        engine = make_engine(
            url, sqlite_pragmas=SQLITE_PRAGMAS, future=False,
            poolclass=sa.pool.QueuePool, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        with engine.connect():  # WAL is a property of the file: set it before anyone reads
            pass
        self.engine = engine
        self.sessionmaker = sa.orm.sessionmaker(bind=engine)

    # -- reading and writing -------------------------------------------------------------

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        """The events of the latest session (or of all sessions) in the order they were stored."""
        query = self._statements.all_sessions if fetch_events_from_all_sessions else self._statements.latest_session
        with self.engine.connect() as conn:
            serialised = conn.execute(query, {"sender_id": sender_id}).scalars().all()
        if not serialised or not self.domain:
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in serialised],
                                              self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events of the tracker's session that are not stored yet, redacted, in one transaction.

        Like Rasa's store, the events already stored are counted rather than
        remembered: a replica never trusts its own memory of a conversation
        another replica may have continued (the lock store serialises turns).
        """
        await self.stream_events(tracker)
        with self.engine.begin() as conn:
            stored = conn.execute(self._statements.count_latest_session, {"sender_id": tracker.sender_id}).scalar_one()
            new_events = list(itertools.islice(tracker.events, stored, None))
            if not new_events:
                return
            secrets = tracker_secrets(tracker.events)
            conn.execute(self._statements.insert, [event_row(tracker.sender_id, event, secrets)
                                                   for event in new_events])
        log.debug("stored %d events of %s", len(new_events), tracker.sender_id)

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: List[Event], sender_id: Text
    ) -> None:
        secrets = tracker_secrets(new_events)
        for event in new_events:
            body = {"sender_id": sender_id}
            body.update(redact_event_dict(event.as_dict(), secrets))
            event_broker.publish(body)
