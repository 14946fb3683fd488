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
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from loginhelp.contract import READ_IN_CONTEXT_KEY
from loginhelp.servers import MODEL, REPO, VENV_BIN, RasaStack, free_port

from .fake_telegram import FakeTelegramAPI

ARTIFACTS = REPO / "artifacts"

TELEGRAM_TOKEN = "123456789:TEST-fake_token_for_loopback_only"
TELEGRAM_SECRET = "loopback-test-secret_0123456789"
TELEGRAM_USERNAME = "CoinExLoginHelpBot"
TELEGRAM_WEBHOOK_URL = "https://bot.example.test/webhooks/telegram/webhook"


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
        """The messages the customer sent in a conversation, from the tracker store: its user
        events, less the ones the assistant handed back to itself after reading an unclear
        message in context (``read_in_context`` in their parse data, actions/context.py)."""
        with sqlite3.connect(f"file:{self.tracker_db}?mode=ro", uri=True, timeout=10) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                (sender_id,),
            ).fetchall()
        events = [json.loads(row[0]) for row in rows]
        return [e for e in events if not (e.get("parse_data") or {}).get(READ_IN_CONTEXT_KEY)]

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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    if not (REPO / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").is_file():
        pytest.fail("web/node_modules is missing: run `make web` (npm ci in web/)")
    tmp = tmp_path_factory.mktemp("channels")
    telegram_port, web_port = free_port(), free_port()
    tracker_db = tmp / "tracker.db"
    servers = RasaStack(tmp, tracker_store={"type": "SQL", "dialect": "sqlite", "db": str(tracker_db)},
                        rasa_args=["--cors", "*"])
    servers.env = {k: v for k, v in servers.env.items() if not k.startswith("TELEGRAM_")}
    servers.env.update(
        TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_BOT_USERNAME=TELEGRAM_USERNAME,
        TELEGRAM_WEBHOOK_URL=TELEGRAM_WEBHOOK_URL,
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        # Nothing listens there until Rasa is up: start-up must not depend on Telegram.
        TELEGRAM_API_BASE=f"http://127.0.0.1:{telegram_port}",
        TELEGRAM_WEBHOOK_RETRY_SECONDS="1",
    )
    fake = FakeTelegramAPI(TELEGRAM_TOKEN, port=telegram_port, username=TELEGRAM_USERNAME)
    try:
        servers.start()
        servers.spawn("web", [str(VENV_BIN / "python"), "web/serve.py", "--host", "127.0.0.1",
                              "--port", str(web_port), "--rasa-port", str(servers.rasa_port)])
        servers.wait_http(f"http://127.0.0.1:{web_port}/healthz", 30)
        # Rasa is up although Telegram cannot be reached; let it fail once, then "bring Telegram back".
        deadline = time.time() + 30
        while "Could not register the Telegram webhook" not in servers.tail("rasa", 10**7):
            if time.time() > deadline:
                raise RuntimeError("the Telegram connector never tried to register its webhook")
            time.sleep(0.2)
        fake.start()
        yield Stack(
            tmp=tmp,
            rasa_url=servers.url,
            action_url=servers.action_url,
            web_url=f"http://127.0.0.1:{web_port}",
            tracker_db=tracker_db,
            rasa_log=servers.log("rasa"),
            telegram=fake,
        )
    finally:
        fake.stop()
        servers.stop()
        keep = ARTIFACTS / "logs"
        keep.mkdir(parents=True, exist_ok=True)
        for name in ("actions", "rasa", "web"):
            if servers.log(name).exists():
                shutil.copyfile(servers.log(name), keep / f"channels-{name}.log")
