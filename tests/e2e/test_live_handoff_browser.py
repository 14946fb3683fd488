"""Live handoff through the whole stack in Debian's Chromium: a customer in the widget, an agent in the console.

The real servers, each its own process as in production (loginhelp/servers.py): the
Rasa server with the trained model (every channel), the action server, the demo page
serving the widget, and the agent console; one migrated SQLite database shared by
Rasa's channels, the action server and the console, Rasa's SQLite tracker store read by
the console, and the real Redis at 127.0.0.1:6379 under a key prefix of this test alone
(it FAILS, never skips, when Redis is down). Two browser contexts: the agent signs in and
opens Live (which makes them available); the customer types in the widget. Nothing is
called from the test but the browsers: every line crosses the processes the way a
deployment carries it.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from loginhelp.handoff.customer_lines import BACK_WITH_ASSISTANT
from loginhelp.handoff.repository import JOINED
from loginhelp.servers import MODEL, REPO, VENV_BIN, RasaStack, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))
ARTIFACTS = REPO / "artifacts"
ALICE = "alice@coinex.test"
PASSWORD = "correct horse battery staple"
GREETING = "Hi, I'm CoinEx's login helper"
QUEUED = "You're number 1 in the queue"
ASKS = "can i talk to a human"
AGENT_SAYS = "Hi, I'm Alice <b>from support</b>"
CUSTOMER_SAYS = "thanks Alice, the app says my session expired every time"
STORAGE_KEY = "coinex.loginhelp.chat.v1"
TIMEOUT_MS = 20_000


@dataclass
class LiveStack:
    web_url: str
    console_url: str
    tracker_db: Path
    redis_prefix: str


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Rasa + actions + widget page + console with Redis, started like `make run` with REDIS_HOST set."""
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    if not (REPO / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").is_file():
        pytest.fail("web/node_modules is missing: run `make web` (npm ci in web/)")
    prefix = f"lhe2e{secrets.token_hex(4)}"
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({error})", pytrace=False)
    tmp = tmp_path_factory.mktemp("live-e2e")
    tracker_db = tmp / "tracker.db"
    servers = RasaStack(tmp, env={
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": str(REDIS_DB), "REDIS_KEY_PREFIX": prefix,
        "TRACKER_DATABASE_URL": f"sqlite:///{tracker_db}", "CONSOLE_SECRET_KEY": secrets.token_urlsafe(32),
    }, rasa_args=["--cors", "*"])
    servers.env = {k: v for k, v in servers.env.items() if not k.startswith("TELEGRAM_")}  # Telegram off
    web_port, console_port = free_port(), free_port()
    try:
        servers.start()  # migrates loginhelp.db first
        added = subprocess.run([str(VENV_BIN / "loginhelp"), "agents", "add", ALICE, "--password-stdin"],
                               input=PASSWORD + "\n", text=True, capture_output=True, env=servers.env, cwd=REPO)
        assert added.returncode == 0, added.stderr
        servers.spawn("web", [str(VENV_BIN / "python"), "web/serve.py", "--host", "127.0.0.1",
                              "--port", str(web_port), "--rasa-port", str(servers.rasa_port)])
        servers.spawn("console", [str(VENV_BIN / "python"), "-m", "loginhelp.console", "--host", "127.0.0.1",
                                  "--port", str(console_port)])
        servers.wait_http(f"http://127.0.0.1:{web_port}/healthz", 30)
        servers.wait_http(f"http://127.0.0.1:{console_port}/sign-in", 60)
        yield LiveStack(f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{console_port}", tracker_db, prefix)
    finally:
        servers.stop()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        keep = ARTIFACTS / "logs"
        keep.mkdir(parents=True, exist_ok=True)
        for name in ("actions", "rasa", "web", "console"):
            if servers.log(name).exists():
                shutil.copyfile(servers.log(name), keep / f"live-e2e-{name}.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def widget_lines(page: Page) -> List[Tuple[str, str]]:
    """What the customer's chat shows, in order: ("user" | "bot", the bubble's text)."""
    rows = page.locator(".lhc-log .lhc-msg").evaluate_all(
        "rows => rows.map(r => [r.classList.contains('lhc-from-user') ? 'user' : 'bot',"
        " (r.querySelector('.lhc-bubble') || {textContent: ''}).textContent])")
    return [(who, text) for who, text in rows]


def agent_lines(page: Page) -> List[Tuple[str, str]]:
    """What the agent's chat page shows of the live part, in order: (who, text)."""
    rows = page.get_by_test_id("live-message").evaluate_all(
        "rows => rows.map(r => [r.querySelector('.who').textContent.trim(), r.querySelector('.text').textContent])")
    return [(who, text) for who, text in rows]


def type_in_widget(page: Page, text: str) -> None:
    """Typed key by key and sent with Enter, as a customer does (no button is tapped)."""
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_be_enabled(timeout=TIMEOUT_MS)
    box.press_sequentially(text)
    box.press("Enter")


def user_texts(tracker_db: Path, sender: str) -> List[str]:
    """The customer's messages that reached Rasa (the tracker store's user events)."""
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    return [json.loads(row[0]).get("text") for row in rows]


def test_customer_in_the_widget_and_agent_in_the_console_chat_both_ways_and_the_assistant_answers_again(
        live_stack: LiveStack, browser: Browser) -> None:
    agent_context: BrowserContext = browser.new_context(base_url=live_stack.console_url)
    customer_context: BrowserContext = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    agent_context.set_default_timeout(TIMEOUT_MS)
    customer_context.set_default_timeout(TIMEOUT_MS)
    agent, customer = agent_context.new_page(), customer_context.new_page()
    page_errors: List[str] = []
    for page in (agent, customer):
        page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        # The agent signs in and opens Live: the open page makes them available.
        agent.goto("/sign-in")
        agent.fill("input[name=email]", ALICE)
        agent.fill("input[name=password]", PASSWORD)
        agent.click("button[type=submit]")
        expect(agent.get_by_test_id("signed-in-as")).to_contain_text(ALICE)
        agent.get_by_test_id("nav-live").click()
        expect(agent.get_by_test_id("queue-empty")).to_be_visible()
        expect(agent.get_by_test_id("availability-status")).to_have_text(
            "You are available while this page is open.")
        expect(agent.get_by_test_id("available-agents")).to_have_text("1")
        agent.evaluate("window.__sameDocument = true")

        # The customer opens the widget, is greeted, and types that they want a person.
        customer.goto(f"{live_stack.web_url}/")
        customer.get_by_role("button", name="Chat with the login helper").click()
        log = customer.get_by_role("log", name="Conversation")
        expect(log).to_contain_text(GREETING)
        type_in_widget(customer, ASKS)
        expect(log).to_contain_text(QUEUED)
        session = customer.evaluate(f"JSON.parse(localStorage.getItem('{STORAGE_KEY}')).sessionId")
        assert isinstance(session, str) and session

        # The agent's page shows the customer without a reload, and the agent claims the chat.
        item = agent.get_by_test_id("queue-item")
        expect(item).to_have_count(1)
        expect(item).to_have_attribute("data-conversation", session)
        expect(item).to_contain_text("via socketio")
        assert agent.evaluate("window.__sameDocument") is True
        item.get_by_test_id("claim").click()
        expect(agent).to_have_url(f"/live/{session}")
        expect(agent.get_by_test_id("live-state")).to_have_text("with you")
        expect(log).to_contain_text(JOINED)

        # The agent writes; the customer reads exactly that text, markup shown as text.
        agent.get_by_test_id("message-box").fill(AGENT_SAYS)
        agent.get_by_test_id("send").click()
        expect(customer.locator(".lhc-from-bot .lhc-bubble").last).to_have_text(AGENT_SAYS)
        assert customer.locator(".lhc-log b").count() == 0

        # The customer answers; the agent's page shows it without a reload.
        agent.evaluate("window.__sameDocument = true")
        type_in_widget(customer, CUSTOMER_SAYS)
        from_customer = agent.get_by_test_id("live-message").filter(has_text="session expired")
        expect(from_customer).to_have_count(1)
        expect(from_customer.locator(".who")).to_have_text("Customer")
        assert agent.evaluate("window.__sameDocument") is True
        assert agent_lines(agent) == [("·", JOINED), (ALICE, AGENT_SAYS), ("Customer", CUSTOMER_SAYS)]

        # The agent hands back: the customer is told, and the assistant answers the next message.
        agent.get_by_test_id("hand-back").click()
        expect(agent).to_have_url("/live")
        expect(agent.get_by_role("status")).to_have_text("Handed back to the assistant.")
        expect(log).to_contain_text(BACK_WITH_ASSISTANT)
        type_in_widget(customer, "hi")
        expect(customer.locator(".lhc-from-bot .lhc-bubble").last).to_contain_text(GREETING)

        lines = widget_lines(customer)
        assert [who for who, _ in lines] == ["bot", "user", "bot", "bot", "bot", "user", "bot", "user", "bot"], lines
        assert lines[0][1].startswith(GREETING)
        assert lines[1] == ("user", ASKS)
        assert QUEUED in lines[2][1]
        assert lines[3:8] == [("bot", JOINED), ("bot", AGENT_SAYS), ("user", CUSTOMER_SAYS),
                              ("bot", BACK_WITH_ASSISTANT), ("user", "hi")]
        assert lines[8][1].startswith(GREETING)
        ARTIFACTS.mkdir(exist_ok=True)
        customer.screenshot(path=str(ARTIFACTS / "live-handoff-widget.png"))
        assert page_errors == []
    finally:
        agent_context.close()
        customer_context.close()

    # The assistant never saw the live chat: only the greeting, the request and the "hi" after it.
    assert user_texts(live_stack.tracker_db, session) == ["/greet", ASKS, "hi"]
