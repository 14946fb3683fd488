"""The console in Debian's Chromium (Playwright): sign in, filter, open, review, ticket status, no XSS."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from loginhelp.agents.repository import AgentRepository
from loginhelp.console import create_app
from loginhelp.console.settings import ConsoleSettings
from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import upgrade
from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.events import events
from loginhelp.transcripts.synthetic import ConversationWriter, write_rows

from .helpers import AGENT_EMAIL, PASSWORD, T0, free_port, ticket_for
from .test_views import XSS_TEXT, conversation, hostile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A seeded console served by werkzeug in a thread (SQLite), like `make run` serves it."""
    root: Path = tmp_path_factory.mktemp("browser")
    console_db, tracker_db = f"sqlite:///{root / 'loginhelp.db'}", f"sqlite:///{root / 'tracker.db'}"
    upgrade(console_db)
    tracker = make_engine(tracker_db)
    events.create(tracker, checkfirst=True)
    fallback = ConversationWriter("fallback-1", T0 + 30, "telegram").session_start()
    fallback.user("hmm the thing", "nlu_fallback", 0.55).action("action_help_menu").bot("Sorry, pick one:").listen()
    write_rows(tracker, [r for w in (conversation("chrome-1"), conversation("ticket-1", T0 + 10, "my 2fa code fails"),
                                     fallback, hostile()) for r in w.rows])
    tracker.dispose()
    app = create_app(ConsoleSettings(console_db, tracker_db, "browser-test-key", refresh_interval=0))
    ctx = app.extensions["loginhelp_console"]
    AgentRepository(ctx.transcripts.console_engine).add(AGENT_EMAIL, PASSWORD, "agent")
    ticket_for(TicketRepository(ctx.transcripts.console_engine), "ticket-1")
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        ctx.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, console_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=console_url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield tab
    context.close()
    assert dialogs == [], f"a script opened a dialog: {dialogs}"


def sign_in(page: Page, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.fill("input[name=email]", AGENT_EMAIL)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_sign_in(page: Page) -> None:
    page.goto("/conversations")
    expect(page).to_have_url("/sign-in?next=/conversations")
    sign_in(page, "wrong password!!")
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    sign_in(page)
    expect(page).to_have_url("/conversations")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text(AGENT_EMAIL)
    expect(page.get_by_test_id("total")).to_have_text("4")
    cookie = next(c for c in page.context.cookies() if c["name"] == "loginhelp_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_filtering(page: Page) -> None:
    sign_in(page)
    page.fill("input[name=q]", "2fa")
    page.click("text=Apply")
    expect(page.get_by_test_id("total")).to_have_text("1")
    expect(page.get_by_test_id("conversations")).to_contain_text("ticket-1")
    page.goto("/conversations")
    page.select_option("select[name=channel]", "telegram")
    page.check("input[name=low_confidence]")
    page.click("text=Apply")
    expect(page.get_by_test_id("total")).to_have_text("1")
    expect(page.get_by_test_id("conversations")).to_contain_text("fallback-1")
    page.goto("/conversations")
    page.select_option("select[name=outcome]", "ticket")
    page.click("text=Apply")
    expect(page.get_by_test_id("conversations").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("conversations")).to_contain_text("ticket-1")


def test_open_transcript_and_mark_reviewed(page: Page) -> None:
    sign_in(page)
    page.click("a:text-is('chrome-1')")
    expect(page.get_by_test_id("conversation-id")).to_have_text("chrome-1")
    expect(page.get_by_test_id("customer-text").first).to_have_text("the login page is blank in chrome")
    expect(page.locator(".assistant").first).to_contain_text("Clear Chrome's cache and cookies.")
    expect(page.get_by_test_id("not-reviewed")).to_be_visible()
    page.get_by_test_id("mark-reviewed").click()
    expect(page.get_by_test_id("reviewed-badge")).to_contain_text(f"reviewed by {AGENT_EMAIL}")
    page.goto("/conversations?reviewed=yes")
    expect(page.get_by_test_id("total")).to_have_text("1")
    expect(page.get_by_test_id("conversations")).to_contain_text("chrome-1")


def test_change_ticket_status(page: Page) -> None:
    sign_in(page)
    page.goto("/conversations?q=2fa")
    page.click("a:text-is('ticket-1')")
    page.get_by_test_id("ticket-link").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("open")
    form = page.get_by_test_id("status-form")
    form.locator("select[name=status]").select_option("resolved")
    form.locator("textarea[name=note]").fill("Reset 2FA after ID check")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    expect(page.get_by_test_id("history")).to_contain_text("Reset 2FA after ID check")
    expect(page.get_by_test_id("history")).to_contain_text(AGENT_EMAIL)
    page.get_by_test_id("transcript-link").click()
    expect(page.get_by_test_id("conversation-id")).to_have_text("ticket-1")


def test_customer_html_runs_nothing(page: Page) -> None:
    sign_in(page)
    for path in ("/transcripts/xss-1", "/conversations", "/conversations?q=script", "/api/transcripts/xss-1"):
        page.goto(path)
        assert page.evaluate("window.__xss") is None, path
    page.goto("/transcripts/xss-1")
    expect(page.get_by_test_id("customer-text").first).to_have_text(XSS_TEXT)
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.locator("details summary").first.click()
    expect(page.locator("details pre").first).to_contain_text("<script>window.__xss=1</script>")
    assert page.evaluate("window.__xss") is None
