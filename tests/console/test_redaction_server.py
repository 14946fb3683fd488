"""Secrets typed to the running assistant never reach storage: the real Rasa server, SQLite and PostgreSQL.

Starts the action server and the Rasa server (models/loginhelp.tar.gz) on free
ports with a temporary endpoints file that uses the redacting store, sends
messages carrying a password, a 2FA code, a seed phrase and a private key over
REST, then searches the SQLite files byte by byte and every PostgreSQL table.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from sqlalchemy import create_engine, text

from loginhelp.tickets.paths import REPO_ROOT

from .conftest import PostgresServer
from .helpers import free_port
from .secrets_fixtures import SECRETS, SECRET_MESSAGES

MODEL = REPO_ROOT / "models" / "loginhelp.tar.gz"
RASA = REPO_ROOT / ".venv" / "bin" / "rasa"
STORE = "loginhelp.tracker_store.RedactingSQLTrackerStore"


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} server exited ({process.returncode}):\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not come up in {timeout:.0f}s:\n{log.read_text()[-3000:]}", pytrace=False)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1", "RASA_TELEMETRY_ENABLED": "false"}
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing; run `make train` first", pytrace=False)
    port = free_port()
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    process = _start([str(RASA), "run", "actions", "--port", str(port), "--actions", "actions"], log)
    try:
        _wait(f"http://127.0.0.1:{port}/health", process, log)
        yield port
    finally:
        _stop(process)


def _run_rasa(tmp_path: Path, action_port: int, store: dict) -> tuple[subprocess.Popen, int, Path]:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"}, "tracker_store": store})
    )
    port = free_port()
    log = tmp_path / "rasa.log"
    process = _start(
        [str(RASA.with_name("python")), "-m", "loginhelp.rasa_launch", "run", "--model", str(MODEL),
         "--port", str(port), "--endpoints", str(endpoints),
         "--credentials", "credentials.yml"],
        log,
    )
    _wait(f"http://127.0.0.1:{port}/", process, log)
    return process, port, log


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


def test_secrets_are_redacted_in_sqlite(action_server: int, tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    process, port, log = _run_rasa(tmp_path, action_server, {"type": STORE, "dialect": "sqlite", "db": str(db)})
    try:
        _converse(port, "redact-sqlite")
    finally:
        _stop(process)
    assert "not found" not in log.read_text()  # Rasa would fall back to memory with a warning
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = [json.loads(d) for (d,) in conn.execute(text("SELECT data FROM events WHERE sender_id = 'redact-sqlite' ORDER BY id"))]
    engine.dispose()
    _check_stored_rows(rows, "redact-sqlite")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("tracker.db")]
    assert files
    for path in files:
        raw = path.read_bytes()
        for kind, secret in SECRETS.items():
            assert secret.encode() not in raw, f"raw {kind} found in {path.name}"


@pytest.mark.postgres
def test_secrets_are_redacted_in_postgresql(action_server: int, tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database()
    name = url.rsplit("/", 1)[1]
    # `url` is the host: Rasa passes it to custom stores as host= (a `host` key would clash).
    store = {"type": STORE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "username": "postgres", "db": name}
    process, port, log = _run_rasa(tmp_path, action_server, store)
    try:
        _converse(port, "redact-pg")
    finally:
        _stop(process)
    assert "not found" not in log.read_text()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = [json.loads(d) for (d,) in conn.execute(text("SELECT data FROM events WHERE sender_id = 'redact-pg' ORDER BY id"))]
            _check_stored_rows(rows, "redact-pg")
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            assert "events" in tables
            for table in tables:
                dump = "\n".join(conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars())
                for kind, secret in SECRETS.items():
                    assert secret not in dump, f"raw {kind} found in table {table}"
    finally:
        engine.dispose()
