"""Database fixtures shared by every test package (loaded from tests/conftest.py).

Each database test runs on SQLite and on the real PostgreSQL at 127.0.0.1:5432;
a run that cannot reach PostgreSQL fails with a clear message instead of skipping.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from loginhelp.cli import main as loginhelp_cli
from loginhelp.db.engine import make_engine

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def migrate(url: str) -> None:
    """``loginhelp db upgrade`` on ``url``: tests migrate the way deployments do (nothing else migrates)."""
    code = loginhelp_cli(["--database-url", url, "db", "upgrade"])
    assert code == 0, f"loginhelp db upgrade failed on {make_url(url).render_as_string(hide_password=True)}"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the developer's var/ directory and DATABASE_URL."""
    monkeypatch.setenv("LOGINHELP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LOGINHELP_SPOOL_DIR", raising=False)


class _PostgresServer:
    """One throw-away database per test session, created and migrated once, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.url: str | None = None
        self.error: str | None = None
        self._admin: Engine | None = None
        self._name = f"loginhelp_test_{secrets.token_hex(4)}"

    def start(self) -> None:
        try:
            self._admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self._name}"'))
        except Exception as exc:  # noqa: BLE001 - turned into a test failure below
            self.error = (
                f"PostgreSQL is not usable at {make_url(self.admin_url).render_as_string(hide_password=True)} "
                f"({exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}). "
                "Start the server or point TEST_POSTGRES_URL at one; deselect with -m 'not postgres'."
            )
            return
        self.url = make_url(self.admin_url).set(database=self._name).render_as_string(hide_password=False)
        migrate(self.url)

    def stop(self) -> None:
        if self._admin is None or self.url is None:
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_PostgresServer]:
    server = _PostgresServer(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE tickets, ticket_screenshots, ticket_status_changes RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def fresh_postgres_url(request: pytest.FixtureRequest) -> str:
    """The session database, emptied; fails (never skips) when PostgreSQL is unreachable."""
    server: _PostgresServer = request.getfixturevalue("postgres_server")
    if server.error or server.url is None:
        pytest.fail(server.error or "PostgreSQL test database was not created", pytrace=False)
    _truncate(server.url)
    return server.url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file private to this test."""
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: SQLite file or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("fresh_postgres_url")
