"""Live handoff in Debian's Chromium (Playwright): two agents watch the queue, one wins the claim, chats, hands back.

The console is served by werkzeug in a thread (SQLite, no Redis: the event
stream polls the database), like test_browser.py; the customer's side is
LiveHandoff called from the test, as the Rasa channels call it.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from loginhelp.agents.repository import AgentRepository
from loginhelp.console import create_app
from loginhelp.console.settings import ConsoleSettings
from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import upgrade
from loginhelp.handoff.service import LiveHandoff
from loginhelp.transcripts.events import events
from loginhelp.transcripts.synthetic import write_rows

from .helpers import PASSWORD, free_port
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .test_views import XSS_TEXT, conversation

ALICE = "alice@coinex.test"
BOB = "bob@coinex.test"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    root: Path = tmp_path_factory.mktemp("live-browser")
    console_db, tracker_db = f"sqlite:///{root / 'loginhelp.db'}", f"sqlite:///{root / 'tracker.db'}"
    upgrade(console_db)
    tracker = make_engine(tracker_db)
    events.create(tracker, checkfirst=True)
    write_rows(tracker, conversation("web-1").rows)
    tracker.dispose()
    app = create_app(ConsoleSettings(console_db, tracker_db, "live-browser-test-key", refresh_interval=0))
    app.config.update(LIVE_EVENTS_POLL=0.3, LIVE_EVENTS_MAX_SECONDS=60)
    ctx = app.extensions["loginhelp_console"]
    agents = AgentRepository(ctx.transcripts.console_engine)
    for email in (ALICE, BOB):
        agents.add(email, PASSWORD, "agent")
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        ctx.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Agent:
    """One agent's browser context (own cookies), signed in, with its page's dialogs and console errors recorded."""

    def __init__(self, browser: Browser, base_url: str, email: str) -> None:
        self.context: BrowserContext = browser.new_context(base_url=base_url)
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        # Any error answer counts, but the favicon (the console has none) and the 409 of a lost claim.
        self.page.on("response", lambda r: self.problems.append(f"{r.status}: {r.url}")
                     if r.status >= 400 and not r.url.endswith("/favicon.ico") and r.status != 409 else None)
        self.page.goto("/sign-in")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        expect(self.page.get_by_test_id("signed-in-as")).to_contain_text(email)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def two_agents(browser: Browser, served: tuple[str, Flask]) -> Iterator[tuple[Agent, Agent]]:
    alice, bob = Agent(browser, served[0], ALICE), Agent(browser, served[0], BOB)
    yield alice, bob
    alice.close()
    bob.close()


def test_two_agents_one_claim_a_live_chat_and_hand_back(served: tuple[str, Flask], two_agents: tuple[Agent, Agent]) -> None:
    _, app = served
    live: LiveHandoff = app.extensions["loginhelp_console"].live
    alice, bob = two_agents
    for agent in (alice, bob):
        agent.page.get_by_test_id("nav-live").click()
        expect(agent.page.get_by_test_id("queue-empty")).to_be_visible()
        expect(agent.page.get_by_test_id("availability-status")).to_have_text("You are available while this page is open.")
        agent.page.evaluate("window.__sameDocument = true")
    assert live.agents_available() == 2

    live.request_agent("web-1", "socketio", {"branch": "browser", "device": "Pixel 8", "contact": XSS_TEXT,
                                             "steps_tried": ["Cleared the cache"]})
    for agent in (alice, bob):
        item = agent.page.get_by_test_id("queue-item")
        expect(item).to_have_count(1)  # arrived by the event stream, no reload
        expect(item).to_contain_text("web-1")
        expect(item).to_contain_text("Pixel 8")
        expect(item.locator("dd[data-key=contact]")).to_have_text(XSS_TEXT)
        expect(item.locator(".waited")).not_to_have_text("")
        assert agent.page.evaluate("window.__sameDocument") is True
        assert agent.page.evaluate("window.__xss") is None

    # Bob opens the chat to read it first; his page stops getting updates, so it still offers the claim he will lose.
    bob.page.route("**/live/events**", lambda route: route.abort())
    bob.page.get_by_test_id("queue-item").locator("a.mono").click()
    expect(bob.page.get_by_test_id("live-state")).to_contain_text("waiting in the queue")
    expect(bob.page.get_by_test_id("customer-text").first).to_have_text("the login page is blank in chrome")

    alice.page.get_by_test_id("queue-item").get_by_test_id("claim").click()
    expect(alice.page).to_have_url("/live/web-1")
    expect(alice.page.get_by_test_id("live-state")).to_have_text("with you")
    expect(alice.page.get_by_test_id("live-message").first).to_contain_text("A support agent joined the chat.")

    bob.page.get_by_test_id("claim").click()
    expect(bob.page.get_by_test_id("live-error")).to_contain_text(f"You could not claim this chat ({ALICE} has it)")
    expect(bob.page.get_by_test_id("live-state")).to_have_text(f"with {ALICE}")
    expect(bob.page.get_by_test_id("send-form")).to_be_hidden()

    alice.page.get_by_test_id("message-box").fill("Hello, I can help. <b>Which</b> browser?")
    alice.page.get_by_test_id("send").click()
    mine = alice.page.get_by_test_id("live-message").filter(has_text="Which")
    expect(mine).to_have_count(1)
    expect(mine.locator(".text")).to_have_text("Hello, I can help. <b>Which</b> browser?")
    expect(mine.locator(".who")).to_have_text(ALICE)
    expect(alice.page.get_by_test_id("message-box")).to_have_value("")
    assert [m.text for m in live.conversations.messages_after("web-1")][-1] == "Hello, I can help. <b>Which</b> browser?"

    alice.page.evaluate("window.__sameDocument = true")
    live.customer_says("web-1", XSS_TEXT)
    answer = alice.page.get_by_test_id("live-message").filter(has_text="window.__xss")
    expect(answer).to_have_count(1)
    expect(answer.locator(".text")).to_have_text(XSS_TEXT)
    expect(answer.locator(".who")).to_have_text("Customer")
    assert alice.page.evaluate("window.__sameDocument") is True
    assert alice.page.evaluate("window.__xss") is None
    assert alice.page.locator("#live-messages img, #live-messages script, #live-messages b").count() == 0

    alice.page.get_by_test_id("hand-back").click()
    expect(alice.page).to_have_url("/live")
    expect(alice.page.get_by_role("status")).to_have_text("Handed back to the assistant.")
    view = live.state_of("web-1")
    assert view is not None and view.state == "released" and view.released_to == "assistant"

    alice.page.goto("/transcripts/web-1")
    agent_line = alice.page.get_by_test_id("live-line").filter(has_text="Which")
    expect(agent_line.get_by_test_id("live-agent")).to_have_text(ALICE)
    assert alice.page.evaluate("window.__xss") is None
    assert [p for p in alice.problems if "404 (NOT FOUND)" not in p] == [], alice.problems  # the favicon
    # Bob's aborted event stream, and the 409 of his lost claim, are the only problems on his page.
    assert [p for p in bob.problems if "/live/events" not in p and "ERR_FAILED" not in p
            and "status of 404" not in p and "status of 409" not in p] == [], bob.problems
