"""One real stack per test session: action server, Rasa server, demo page and fake Telegram.

Everything runs on free loopback ports chosen at start-up (never 5005/5055/5056/8080),
with a private SQLite tracker store in a temporary folder, so the tests can read
what reached Rasa. The Telegram channel is configured with TELEGRAM_API_BASE
pointing at a port where nothing listens yet: the Rasa server must start anyway,
and the fake Telegram API is started only once Rasa is up, so the tests also see
the connector retrying its webhook registration.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from .fake_telegram import FakeTelegramAPI

REPO = Path(__file__).resolve().parents[2]
RASA = REPO / ".venv" / "bin" / "rasa"
PYTHON = REPO / ".venv" / "bin" / "python"
MODEL = REPO / "models" / "loginhelp.tar.gz"
ARTIFACTS = REPO / "artifacts"

TELEGRAM_TOKEN = "123456789:TEST-fake_token_for_loopback_only"
TELEGRAM_SECRET = "loopback-test-secret_0123456789"
TELEGRAM_USERNAME = "CoinExLoginHelpBot"
TELEGRAM_WEBHOOK_URL = "https://bot.example.test/webhooks/telegram/webhook"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    tmp: Path
    rasa_url: str
    action_url: str
    web_url: str
    tracker_db: Path
    rasa_log: Path
    telegram: FakeTelegramAPI

    @property
    def telegram_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/telegram/webhook"

    def post_update(self, update: Any, secret: Optional[str] = TELEGRAM_SECRET,
                    raw: Optional[bytes] = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = raw if raw is not None else json.dumps(update).encode()
        return requests.post(self.telegram_webhook, data=body, headers=headers, timeout=60)

    def user_events(self, sender_id: str) -> List[Dict[str, Any]]:
        """The user events of a conversation, from the tracker store."""
        with sqlite3.connect(f"file:{self.tracker_db}?mode=ro", uri=True, timeout=10) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                (sender_id,),
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def wait_for_user_events(self, sender_id: str, count: int, timeout: float = 20.0) -> List[Dict[str, Any]]:
        deadline = time.time() + timeout
        events: List[Dict[str, Any]] = []
        while time.time() < deadline:
            try:
                events = self.user_events(sender_id)
            except sqlite3.OperationalError:  # table not created yet, or locked
                events = []
            if len(events) >= count:
                return events
            time.sleep(0.2)
        raise AssertionError(f"{sender_id}: {len(events)} user events, expected {count}")


def _start(cmd: List[str], log: Path, env: Dict[str, str]) -> subprocess.Popen:
    handle = log.open("wb")
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the process and its children
    except ProcessLookupError:
        return
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _wait_http(url: str, processes: List[subprocess.Popen], logs: List[Path], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for process, log in zip(processes, logs):
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    if not (REPO / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").is_file():
        pytest.fail("web/node_modules is missing: run `make web` (npm ci in web/)")
    tmp = tmp_path_factory.mktemp("channels")
    rasa_port, action_port, web_port, telegram_port = (free_port() for _ in range(4))
    tracker_db = tmp / "tracker.db"
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONDONTWRITEBYTECODE="1",
        # Tickets filed in these tests go to a database of their own.
        DATABASE_URL=f"sqlite:///{tmp / 'loginhelp.db'}",
        LOGINHELP_VAR_DIR=str(tmp / "var"),
        TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_BOT_USERNAME=TELEGRAM_USERNAME,
        TELEGRAM_WEBHOOK_URL=TELEGRAM_WEBHOOK_URL,
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        # Nothing listens there until Rasa is up: start-up must not depend on Telegram.
        TELEGRAM_API_BASE=f"http://127.0.0.1:{telegram_port}",
        TELEGRAM_WEBHOOK_RETRY_SECONDS="1",
    )
    logs = {name: tmp / f"{name}.log" for name in ("actions", "rasa", "web")}
    processes: Dict[str, subprocess.Popen] = {}
    fake = FakeTelegramAPI(TELEGRAM_TOKEN, port=telegram_port, username=TELEGRAM_USERNAME)
    try:
        processes["actions"] = _start(
            [str(RASA), "run", "actions", "--port", str(action_port), "--actions", "actions"],
            logs["actions"], env)
        processes["rasa"] = _start(
            [str(PYTHON), "-m", "loginhelp.rasa_launch", "run", "--model", str(MODEL), "--port", str(rasa_port),
             "--credentials", "credentials.yml", "--endpoints", str(endpoints), "--cors", "*"],
            logs["rasa"], env)
        processes["web"] = _start(
            [str(PYTHON), "web/serve.py", "--host", "127.0.0.1", "--port", str(web_port),
             "--rasa-port", str(rasa_port)],
            logs["web"], env)
        all_procs, all_logs = list(processes.values()), list(logs.values())
        _wait_http(f"http://127.0.0.1:{web_port}/healthz", all_procs, all_logs, 30)
        _wait_http(f"http://127.0.0.1:{action_port}/health", all_procs, all_logs, 120)
        _wait_http(f"http://127.0.0.1:{rasa_port}/", all_procs, all_logs, 240)
        # Rasa is up although Telegram cannot be reached; let it fail once, then "bring Telegram back".
        deadline = time.time() + 30
        while "Could not register the Telegram webhook" not in logs["rasa"].read_text(errors="replace"):
            if time.time() > deadline:
                raise RuntimeError("the Telegram connector never tried to register its webhook")
            time.sleep(0.2)
        fake.start()
        yield Stack(
            tmp=tmp,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            action_url=f"http://127.0.0.1:{action_port}",
            web_url=f"http://127.0.0.1:{web_port}",
            tracker_db=tracker_db,
            rasa_log=logs["rasa"],
            telegram=fake,
        )
    finally:
        fake.stop()
        for process in processes.values():
            _stop(process)
        keep = ARTIFACTS / "logs"
        keep.mkdir(parents=True, exist_ok=True)
        for name, log in logs.items():
            if log.exists():
                shutil.copyfile(log, keep / f"channels-{name}.log")

