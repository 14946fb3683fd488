"""Fixtures for the agent console: databases on SQLite and PostgreSQL, seeded conversations, signed-in clients.

PostgreSQL works like tests/tickets/conftest.py: one throw-away database per
session, migrated once, emptied per test; the tests FAIL (never skip) when the
server is unreachable. The tracker store's ``events`` table lives in the same
database there (as when Rasa and the tickets share one PostgreSQL).
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from loginhelp.agents import passwords
from loginhelp.agents.repository import AgentRepository
from loginhelp.console import create_app
from loginhelp.console.settings import ConsoleSettings
from loginhelp.db.engine import make_engine
from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.events import events
from loginhelp.transcripts.service import TranscriptService
from loginhelp.transcripts.synthetic import ConversationWriter, write_rows

from ..fixtures_db import migrate
from .helpers import ADMIN_EMAIL, AGENT_EMAIL, DEFAULT_TEST_POSTGRES_URL, PASSWORD, sign_in


@pytest.fixture(scope="session", autouse=True)
def _fast_hashing() -> None:
    passwords.use_fast_hashing_for_tests()


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGINHELP_VAR_DIR", str(tmp_path / "var"))
    for name in ("DATABASE_URL", "TRACKER_DATABASE_URL", "CONSOLE_SECRET_KEY", "LOGINHELP_SPOOL_DIR"):
        monkeypatch.delenv(name, raising=False)


class PostgresServer:
    """A throw-away database (created lazily, dropped at the end of the session)."""

    def __init__(self, admin_url: str, prefix: str = "loginhelp_console") -> None:
        self.admin_url = admin_url
        self.prefix = prefix
        self.error: str | None = None
        self._admin: Engine | None = None
        self._created: list[str] = []

    def _engine(self) -> Engine:
        if self._admin is None:
            self._admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        return self._admin

    def create_database(self) -> str:
        """A new empty database; pytest.fail with a clear message when PostgreSQL is unreachable."""
        name = f"{self.prefix}_{secrets.token_hex(4)}"
        try:
            with self._engine().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - turned into a failure
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            pytest.fail(
                f"PostgreSQL is not usable at {make_url(self.admin_url).render_as_string(hide_password=True)} "
                f"({exc.__class__.__name__}: {first}). Start it or point TEST_POSTGRES_URL at one; "
                "deselect with -m 'not postgres'.",
                pytrace=False,
            )
        self._created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def stop(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pg_console_url(postgres: PostgresServer) -> str:
    url = postgres.create_database()
    migrate(url)
    engine = make_engine(url)
    try:
        events.create(engine, checkfirst=True)
    finally:
        engine.dispose()
    return url


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            ).scalars().all()
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Backend:
    name: str
    console_url: str
    tracker_url: str


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Backend:
    console_url = f"sqlite:///{tmp_path / 'loginhelp.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate(console_url)
    engine = make_engine(tracker_url)
    try:
        events.create(engine, checkfirst=True)
    finally:
        engine.dispose()
    return Backend("sqlite", console_url, tracker_url)


@pytest.fixture
def postgres_backend(request: pytest.FixtureRequest) -> Backend:
    url = request.getfixturevalue("_pg_console_url")
    _empty_postgres(url)
    return Backend("postgresql", url, url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue("sqlite_backend" if request.param == "sqlite" else "postgres_backend")


@pytest.fixture
def tracker_engine(backend: Backend) -> Iterator[Engine]:
    engine = make_engine(backend.tracker_url)
    yield engine
    engine.dispose()


@pytest.fixture
def console_engine(backend: Backend) -> Iterator[Engine]:
    engine = make_engine(backend.console_url)
    yield engine
    engine.dispose()


@pytest.fixture
def service(backend: Backend) -> Iterator[TranscriptService]:
    svc = TranscriptService.from_urls(backend.console_url, backend.tracker_url, threshold=0.55, refresh_interval=0)
    yield svc
    svc.dispose()


@pytest.fixture
def write(tracker_engine: Engine) -> Callable[..., None]:
    """Store conversations in the tracker store: ``write(writer, ...)``."""

    def _write(*writers: ConversationWriter) -> None:
        write_rows(tracker_engine, [row for w in writers for row in w.rows])

    return _write


@pytest.fixture
def tickets(console_engine: Engine) -> TicketRepository:
    return TicketRepository(console_engine)


# ------------------------------------------------------------------ the app


@pytest.fixture
def app(backend: Backend) -> Iterator[Flask]:
    settings = ConsoleSettings(
        database_url=backend.console_url,
        tracker_url=backend.tracker_url,
        secret_key="test-secret-key-" + secrets.token_hex(8),
        refresh_interval=0,
    )
    flask_app = create_app(settings)
    yield flask_app
    flask_app.extensions["loginhelp_console"].dispose()


@pytest.fixture
def accounts(app: Flask) -> AgentRepository:
    repo: AgentRepository = app.extensions["loginhelp_console"].agents
    repo.add(ADMIN_EMAIL, PASSWORD, "admin")
    repo.add(AGENT_EMAIL, PASSWORD, "agent")
    return repo


@pytest.fixture
def agent_client(app: Flask, accounts: AgentRepository) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, AGENT_EMAIL).status_code == 302
    return client


@pytest.fixture
def admin_client(app: Flask, accounts: AgentRepository) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, ADMIN_EMAIL).status_code == 302
    return client
