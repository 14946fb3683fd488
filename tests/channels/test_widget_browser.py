"""The demo page and its widget in a real browser (Playwright driving Debian's Chromium).

Opens the page, runs the browser branch of the guide by clicking a button and
typing, reloads and continues the same conversation, checks in the tracker store
that the widget's custom data reached Rasa, and saves a screenshot under artifacts/.
"""
from __future__ import annotations

import json
import os
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from .conftest import ARTIFACTS, Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GREETING = "Hi, I'm CoinEx's login helper"
STORAGE_KEY = "coinex.loginhelp.chat.v1"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_widget_runs_a_branch_survives_a_reload_and_sends_its_custom_data(stack: Stack, browser):
    # Headless Chromium calls itself "HeadlessChrome"; customers' Chrome says "Chrome".
    major = browser.version.split(".")[0]
    user_agent = (f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  f"Chrome/{major}.0.0.0 Safari/537.36")
    context = browser.new_context(user_agent=user_agent, locale="en-GB", timezone_id="Europe/Berlin",
                                  viewport={"width": 1280, "height": 800})
    page = context.new_page()
    requested, websockets, page_errors = [], [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda ws: websockets.append(ws.url))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(f"{stack.web_url}/")
        launcher = page.get_by_role("button", name="Chat with the login helper")
        launcher.click()
        log = page.get_by_role("log", name="Conversation")
        # Opening the chat greets, with the menu's buttons.
        expect(log).to_contain_text(GREETING, timeout=30_000)
        page.get_by_role("button", name="Browser trouble").click()
        # The user agent says Chrome: Chrome's steps straight away, no "which browser?".
        expect(log).to_contain_text("Clear Chrome's cache and cookies", timeout=20_000)
        expect(page.get_by_role("button", name="No, still stuck")).to_be_visible()
        assert "Which browser are you using" not in log.inner_text()
        # Typing works too.
        page.get_by_role("textbox", name="Your message").fill("no, still not working")
        page.keyboard.press("Enter")
        expect(log).to_contain_text("Now try a different browser", timeout=20_000)
        expect(page.get_by_role("button", name="No, still stuck")).to_have_count(1)
        session = page.evaluate(f"JSON.parse(localStorage.getItem('{STORAGE_KEY}')).sessionId")

        page.reload()
        # The widget reopens with the conversation so far, and carries on from where it was.
        expect(log).to_contain_text("Now try a different browser", timeout=20_000)
        expect(page.locator(".lhc-status")).to_have_text("Online", timeout=20_000)
        page.get_by_role("button", name="No, still stuck").click()
        expect(log).to_contain_text("switch off extensions", timeout=20_000)
        assert log.inner_text().count(GREETING) == 1  # no second greeting after the reload
        assert page.evaluate(f"JSON.parse(localStorage.getItem('{STORAGE_KEY}')).sessionId") == session
        page_user_agent = page.evaluate("navigator.userAgent")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-browser-branch.png"))
    finally:
        context.close()

    # What reached Rasa: the same conversation, with the widget's custom data on every message.
    events = stack.wait_for_user_events(session, 4)
    assert [e["text"] for e in events] == ["/greet", "/browser_issue", "no, still not working", "/still_broken"]
    now_ms = time.time() * 1000
    for event in events:
        metadata = event["metadata"]
        assert metadata["user_agent"] == page_user_agent == user_agent
        assert metadata["language"] == "en-GB"
        assert metadata["timezone"] == "Europe/Berlin"
        assert abs(now_ms - metadata["client_time"]) < 5 * 60 * 1000, json.dumps(metadata)
    client_times = [e["metadata"]["client_time"] for e in events]
    assert client_times == sorted(client_times) and len(set(client_times)) == 4  # the time of each message

    # socket.io upgraded from long-polling to a websocket on Rasa's port.
    assert any(urlsplit(url).path.startswith("/socket.io/") for url in websockets), websockets
    # Everything came from this machine: the page server and Rasa, no CDN.
    assert {urlsplit(url).hostname for url in requested + websockets} == {"127.0.0.1"}
    assert not page_errors
