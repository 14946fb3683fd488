"""A SQL tracker store that redacts secrets before Rasa writes an event.

Configured in endpoints.yml::

    tracker_store:
      type: loginhelp.tracker_store.RedactingSQLTrackerStore
      dialect: sqlite          # or postgresql with host/port/username/password
      db: var/tracker.db

Rasa instantiates custom stores with the same keyword arguments as its SQL
store. What is redacted, with loginhelp.security.secrets.redact:
- the customer's text (``text`` and ``parse_data.text``) and entity values;
- anywhere else in any event (bot replies, slot values, metadata), exact copies
  of a secret the customer typed in this conversation (an echo).
The redaction happens on a copy: the live tracker keeps the text, so the turn
being processed is unaffected. Events streamed to an event broker are redacted
the same way. The number of stored events is unchanged (Rasa counts them).

Caution: Rasa falls back to an in-memory store, with only a warning, when this
class cannot be imported; tests check that events really land in the database.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Dict, Iterable, Iterator, List, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from .security.secrets import find_secrets, redact

log = logging.getLogger(__name__)

#: Shorter "secrets" are not echo-replaced (they would hit ordinary words and numbers).
MIN_ECHO_LENGTH = 4


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
        parse_data = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
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


class _RedactedEvent:
    """Stands in for an event inside SQLTrackerStore.save: same type_name, redacted as_dict()."""

    __slots__ = ("type_name", "_data")

    def __init__(self, event: Event, secrets: Dict[str, str]) -> None:
        self.type_name = event.type_name
        self._data = redact_event_dict(event.as_dict(), secrets)

    def as_dict(self) -> Dict[str, Any]:
        return self._data


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose stored (and streamed) events carry no customer secrets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._use_wal()

    def _use_wal(self) -> None:
        """WAL lets the agent console read while Rasa writes (a rollback journal would block)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        except Exception as exc:  # noqa: BLE001 - an optimisation only
            log.debug("could not switch the tracker store to WAL: %s", exc)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        secrets = tracker_secrets(tracker.events)
        for event in super()._additional_events(session, tracker):
            yield _RedactedEvent(event, secrets)

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: List[Event], sender_id: Text
    ) -> None:
        secrets = tracker_secrets(new_events)
        for event in new_events:
            body = {"sender_id": sender_id}
            body.update(redact_event_dict(event.as_dict(), secrets))
            event_broker.publish(body)
