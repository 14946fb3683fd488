"""Secrets typed to the running assistant never reach storage: the real Rasa server, SQLite and PostgreSQL.

Starts the action server and the Rasa server (models/loginhelp.tar.gz) on free
ports with a temporary endpoints file that uses the redacting store, sends
messages carrying a password, a 2FA code, a seed phrase and a private key over
REST, then searches the SQLite files byte by byte and every PostgreSQL table.
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from loginhelp.servers import RasaStack, ServerFailed

from .conftest import PostgresServer
from .secrets_fixtures import SECRET_MESSAGES, SECRETS

STORE = "loginhelp.tracker_store.RedactingSQLTrackerStore"


def _run_rasa(tmp_path: Path, store: dict) -> RasaStack:
    """The action server and the Rasa server writing through ``store``."""
    try:
        return RasaStack(tmp_path / "servers", tracker_store=store).start()
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


def _say(port: int, sender: str, message: str) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _converse(port: int, sender: str) -> None:
    assert _say(port, sender, "hi")
    for message in SECRET_MESSAGES:
        assert _say(port, sender, message), f"no reply to {message!r}"


def _check_stored_rows(rows: list[dict], sender: str) -> None:
    users = [r for r in rows if r["event"] == "user"]
    assert len(users) == 1 + len(SECRET_MESSAGES), "the redacting store did not write the conversation"
    assert all("[redacted" in u["text"] for u in users[1:])


def test_secrets_are_redacted_in_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    servers = _run_rasa(tmp_path, {"type": STORE, "dialect": "sqlite", "db": str(db)})
    try:
        _converse(servers.rasa_port, "redact-sqlite")
    finally:
        servers.stop()
    assert "not found" not in servers.tail("rasa", 10**7)  # Rasa would fall back to memory with a warning
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        query = text("SELECT data FROM events WHERE sender_id = 'redact-sqlite' ORDER BY id")
        rows = [json.loads(d) for (d,) in conn.execute(query)]
    engine.dispose()
    _check_stored_rows(rows, "redact-sqlite")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("tracker.db")]
    assert files
    for path in files:
        raw = path.read_bytes()
        for kind, secret in SECRETS.items():
            assert secret.encode() not in raw, f"raw {kind} found in {path.name}"


@pytest.mark.postgres
def test_secrets_are_redacted_in_postgresql(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database()
    name = url.rsplit("/", 1)[1]
    # `url` is the host: Rasa passes it to custom stores as host= (a `host` key would clash).
    store = {"type": STORE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "username": "postgres", "db": name}
    servers = _run_rasa(tmp_path, store)
    try:
        _converse(servers.rasa_port, "redact-pg")
    finally:
        servers.stop()
    assert "not found" not in servers.tail("rasa", 10**7)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT data FROM events WHERE sender_id = 'redact-pg' ORDER BY id")
            rows = [json.loads(d) for (d,) in conn.execute(query)]
            _check_stored_rows(rows, "redact-pg")
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            assert "events" in tables
            for table in tables:
                dump = "\n".join(conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars())
                for kind, secret in SECRETS.items():
                    assert secret not in dump, f"raw {kind} found in table {table}"
    finally:
        engine.dispose()
