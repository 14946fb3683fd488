"""The redacting tracker store in process: what it writes, and that Rasa loads it from endpoints.yml."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from loginhelp.db.paths import REPO_ROOT

from .secrets_fixtures import SECRET_MESSAGES, SECRETS

pytest.importorskip("rasa")  # rasa is a hard dependency; this only guards odd environments

from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store  # noqa: E402
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


def _conversation(sender: str) -> List[List[Any]]:
    """Three saves of one conversation: a first session, more of it, then a second session."""
    first = [SessionStarted(timestamp=100.0), ActionExecuted("action_listen", timestamp=100.1),
             UserUttered("i can't log in", intent={"name": "login_problem", "confidence": 0.9},
                         parse_data={"intent": {"name": "login_problem", "confidence": 0.9}, "entities": [],
                                     "text": "i can't log in"}, timestamp=101.0),
             ActionExecuted("action_triage", timestamp=101.1), BotUttered("What does the screen say?", timestamp=101.2)]
    more = [SlotSet("platform", "web", timestamp=102.0), ActionExecuted("action_listen", timestamp=102.1)]
    second = [ActionExecuted("action_session_start", timestamp=200.0), SessionStarted(timestamp=200.1),
              ActionExecuted("action_listen", timestamp=200.2),
              UserUttered("thanks", intent={"name": "thanks", "confidence": 0.99}, timestamp=201.0)]
    return [first, more, second]


def _store_kwargs(url: str) -> Dict[str, Any]:
    parsed = make_url(url)
    return {"dialect": parsed.get_backend_name(), "host": parsed.host, "port": parsed.port,
            "db": parsed.database, "username": parsed.username}


async def test_rows_and_sessions_are_those_of_rasas_own_store(backend) -> None:
    """The Core statements write the rows Rasa's ORM store writes and read back the same sessions."""
    domain = Domain.load(str(REPO_ROOT / "domain.yml"))
    ours = RedactingSQLTrackerStore(domain, **_store_kwargs(backend.tracker_url))
    rasas = SQLTrackerStore(domain, **_store_kwargs(backend.tracker_url))
    try:
        for store, sender in ((ours, "ours"), (rasas, "rasas")):
            tracker = DialogueStateTracker(sender, domain.slots)
            parts = _conversation(sender)
            for part in parts:  # (Rasa starts a new session on the same tracker)
                for event in part:
                    tracker.update(event)
                await store.save(tracker)
                if part is not parts[-1]:
                    # Nothing new: nothing stored twice. (Not after a session start: the
                    # tracker in memory still holds the old session, which both stores
                    # would count against the new one; Rasa saves once per turn.)
                    await store.save(tracker)

        with create_engine(backend.tracker_url).connect() as conn:
            rows = conn.execute(text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                                     "FROM events ORDER BY id")).all()
        mine = [tuple(r[1:]) for r in rows if r[0] == "ours"]
        theirs = [tuple(r[1:]) for r in rows if r[0] == "rasas"]
        assert mine == theirs and len(mine) == sum(len(p) for p in _conversation("x"))
        assert ("user", 101.0, "login_problem", None) == mine[2][:4]

        for full in (False, True):
            read = await ours._retrieve("ours", fetch_events_from_all_sessions=full)
            reference = await SQLTrackerStore._retrieve(rasas, "rasas", fetch_events_from_all_sessions=full)
            assert [e.as_dict() for e in read.events] == [e.as_dict() for e in reference.events]
            assert len(read.events) == (len(mine) if full else 3)  # the latest session starts at session_started
        assert await ours.retrieve("nobody") is None
    finally:
        ours.engine.dispose()
        rasas.engine.dispose()
