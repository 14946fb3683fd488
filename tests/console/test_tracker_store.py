"""The redacting tracker store in process: what it writes, and that Rasa loads it from endpoints.yml."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from loginhelp.tickets.paths import REPO_ROOT

from .secrets_fixtures import SECRETS, SECRET_MESSAGES

pytest.importorskip("rasa")  # rasa is a hard dependency; this only guards odd environments

from rasa.core.tracker_store import create_tracker_store  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from loginhelp.tracker_store import RedactingSQLTrackerStore, redact_event_dict  # noqa: E402


def test_endpoints_yml_uses_the_redacting_store_on_var_tracker_db() -> None:
    config = yaml.safe_load((REPO_ROOT / "endpoints.yml").read_text())["tracker_store"]
    assert config == {"type": "loginhelp.tracker_store.RedactingSQLTrackerStore", "dialect": "sqlite", "db": "var/tracker.db"}


def test_rasa_instantiates_the_class_from_the_endpoint_config(tmp_path: Path) -> None:
    """Rasa silently falls back to an in-memory store when a custom class fails to load."""
    db = tmp_path / "tracker.db"
    config = EndpointConfig.from_dict(
        {"type": "loginhelp.tracker_store.RedactingSQLTrackerStore", "dialect": "sqlite", "db": str(db)}
    )
    store = create_tracker_store(config, Domain.empty())
    assert isinstance(store, RedactingSQLTrackerStore)
    assert db.exists()
    with create_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.engine.dispose()


def test_sqlite_store_pools_connections_without_fsync_per_commit(tmp_path: Path) -> None:
    """Rasa's own engine would open a connection per query and fsync every commit (bench/README.md)."""
    store = RedactingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    try:
        assert isinstance(store.engine.pool, QueuePool)
        with store.sessionmaker() as session:
            first = session.connection().connection.dbapi_connection
            assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        with store.sessionmaker() as session:
            assert session.connection().connection.dbapi_connection is first  # reused, not reopened
    finally:
        store.engine.dispose()


async def test_save_redacts_text_parse_data_entities_and_echoes(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker.from_events("s1", [SessionStarted(), ActionExecuted("action_listen")])
    for message in SECRET_MESSAGES:
        tracker.update(
            UserUttered(
                message,
                intent={"name": "share_secret", "confidence": 1.0},
                entities=[{"entity": "email", "value": message, "start": 0, "end": len(message)}],
                parse_data={"intent": {"name": "share_secret", "confidence": 1.0}, "text": message, "entities": [
                    {"entity": "email", "value": message, "start": 0, "end": len(message)}]},
            )
        )
    tracker.update(BotUttered(f"You said {SECRETS['password']}, never share it"))
    tracker.update(SlotSet("email", f"me@x.com / {SECRETS['password']}"))
    await store.save(tracker)
    # The live tracker keeps the text: only storage is redacted.
    assert tracker.latest_message.text == SECRET_MESSAGES[-1]

    with create_engine(f"sqlite:///{db}").connect() as conn:
        rows = [json.loads(d) for (d,) in conn.execute(text("SELECT data FROM events ORDER BY id"))]
    dump = json.dumps(rows)
    for secret in SECRETS.values():
        assert secret not in dump
    users = [r for r in rows if r["event"] == "user"]
    assert len(users) == len(SECRET_MESSAGES)
    assert all("[redacted" in u["text"] and "[redacted" in u["parse_data"]["text"] for u in users)
    assert "[redacted password]" in next(r for r in rows if r["event"] == "bot")["text"]

    # Saving again stores only the new events (Rasa counts stored events per session).
    tracker.update(UserUttered("thanks", intent={"name": "thanks", "confidence": 0.99}))
    await store.save(tracker)
    with create_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == len(tracker.events)
    store.engine.dispose()


def test_ordinary_messages_are_stored_unchanged() -> None:
    event = UserUttered("my password is wrong and the code 2003 error shows, call +44 7911 123456").as_dict()
    assert redact_event_dict(event) == event
