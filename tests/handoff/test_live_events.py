"""The console's /live/events woken by the Redis relay: with the fallback wait far longer than the test's timeout, a
queue change or message written by another process can only arrive this fast through the relay."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from loginhelp.agents.repository import AgentRepository
from loginhelp.console import create_app
from loginhelp.console.settings import ConsoleSettings
from loginhelp.db.engine import make_engine
from loginhelp.handoff.relay import RedisRelay, RelaySettings
from loginhelp.handoff.service import LiveHandoff
from loginhelp.transcripts.events import events
from tests.console.helpers import sign_in
from tests.console.test_live_pages import EventReader

from .conftest import PASSWORD, RedisTarget


@pytest.fixture
def relayed_app(db_url: str, tmp_path: Path, redis_target: RedisTarget,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for name, value in redis_target.environ().items():
        monkeypatch.setenv(name, value)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)
    events.create(tracker, checkfirst=True)
    tracker.dispose()
    app = create_app(ConsoleSettings(db_url, tracker_url, "test-secret-key-" + secrets.token_hex(8), refresh_interval=0))
    # No database read but on a notification until the stream ends (after the test's waits, which are shorter).
    app.config.update(LIVE_EVENTS_POLL=30, LIVE_EVENTS_RELAY_POLL=30, LIVE_EVENTS_KEEPALIVE=30, LIVE_EVENTS_MAX_SECONDS=6)
    yield app
    app.extensions["loginhelp_console"].dispose()


def test_the_relay_wakes_the_event_stream(relayed_app: Flask, redis_target: RedisTarget, db_url: str) -> None:
    AgentRepository(relayed_app.extensions["loginhelp_console"].transcripts.console_engine).add(
        "alice@coinex.test", PASSWORD, "agent")
    assert isinstance(relayed_app.extensions["loginhelp_console"].live.relay, RedisRelay)
    # Another process (a Rasa replica): its own engine and its own Redis connection.
    engine = make_engine(db_url)
    settings = RelaySettings.from_env(redis_target.environ())
    assert settings is not None
    other = LiveHandoff.on(engine, RedisRelay.connect(settings))
    other.request_agent("relay-1", "telegram")
    clients = [relayed_app.test_client(), relayed_app.test_client()]
    for client in clients:
        assert sign_in(client, "alice@coinex.test").status_code == 302
    queue_page = EventReader(clients[0], "/live/events")
    chat_page = EventReader(clients[1], "/live/events?conversation=relay-1")
    try:
        # The first snapshots are read from the database; everything after them comes on a relay notification.
        assert [e["conversation_id"] for e in queue_page.next("queue")["queue"]] == ["relay-1"]
        assert chat_page.next("state")["state"] == "waiting"
        other.request_agent("relay-2", "telegram")
        assert [e["conversation_id"] for e in queue_page.next("queue", timeout=2)["queue"]] == ["relay-1", "relay-2"]
        other.customer_says("relay-1", "anyone there?")
        assert chat_page.next("message", timeout=2)["text"] == "anyone there?"
    finally:
        queue_page.close()
        chat_page.close()
        other.relay.close()
        engine.dispose()
