"""Fixtures for live handoff: databases (SQLite and PostgreSQL), agents, a settable clock, Redis, the console app.

The databases come from tests/fixtures_db.py: a fresh SQLite file per test, and
the session's PostgreSQL database, emptied here of the handoff tables and the
agents. Tests FAIL (never skip) when PostgreSQL or Redis is unreachable.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import redis
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from loginhelp.agents import passwords
from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.console import create_app
from loginhelp.console.settings import ConsoleSettings
from loginhelp.db.engine import make_engine
from loginhelp.transcripts.events import events

PASSWORD = "correct horse battery"
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))
HANDOFF_TABLES = ("live_messages", "live_conversations", "agent_availability", "api_tokens")


@pytest.fixture(scope="session", autouse=True)
def _fast_hashing() -> None:
    passwords.use_fast_hashing_for_tests()


@pytest.fixture(autouse=True)
def _no_redis_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console builds its relay from REDIS_HOST: tests that want Redis set it themselves."""
    for name in ("REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "REDIS_KEY_PREFIX"):
        monkeypatch.delenv(name, raising=False)


def _empty(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(HANDOFF_TABLES)}, agents, sign_in_attempts RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database with no agents and no live conversations."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url: str = request.getfixturevalue("fresh_postgres_url")
    _empty(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def agents(engine: Engine) -> list[AgentView]:
    """Two agents, alice and bob."""
    repo = AgentRepository(engine)
    return [repo.add("alice@coinex.test", PASSWORD, "agent"), repo.add("bob@coinex.test", PASSWORD, "agent")]


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# ------------------------------------------------------------------- Redis


@dataclass(frozen=True)
class RedisTarget:
    prefix: str
    db: int = REDIS_DB
    host: str = "127.0.0.1"
    port: int = 6379

    def client(self) -> "redis.Redis[bytes]":
        return redis.Redis(host=self.host, port=self.port, db=self.db, socket_timeout=5)

    def environ(self) -> dict[str, str]:
        return {"REDIS_HOST": self.host, "REDIS_PORT": str(self.port), "REDIS_DB": str(self.db),
                "REDIS_PASSWORD": "", "REDIS_KEY_PREFIX": self.prefix}


@pytest.fixture
def redis_target() -> Iterator[RedisTarget]:
    """The real Redis at 127.0.0.1:6379 with a key prefix of this test alone; fails when Redis is down."""
    target = RedisTarget(prefix=f"lhtest{secrets.token_hex(4)}")
    client = target.client()
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({error})", pytrace=False)
    yield target
    keys = list(client.scan_iter(f"{target.prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


# --------------------------------------------------------------------- app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)
    try:
        events.create(tracker, checkfirst=True)
    finally:
        tracker.dispose()
    settings = ConsoleSettings(database_url=db_url, tracker_url=tracker_url,
                               secret_key="test-secret-key-" + secrets.token_hex(8), refresh_interval=0)
    flask_app = create_app(settings)
    yield flask_app
    flask_app.extensions["loginhelp_console"].dispose()
