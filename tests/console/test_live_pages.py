"""The live pages through Flask's test client: the queue, a chat, claims (409 for the loser), release, the ticket form
pre-filled from the chat, 404s for unknown ids, escaped text, and the server-sent events of /live/events."""
from __future__ import annotations

import json
import queue
import threading
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginhelp.agents.repository import AgentRepository
from loginhelp.handoff.service import LiveHandoff
from loginhelp.tickets.repository import TicketRepository

from .helpers import ADMIN_EMAIL, AGENT_EMAIL, post_form, sign_in
from .test_views import XSS_TEXT

CONTEXT = {"branch": "twofa_code", "steps_tried": ["Synced the phone's clock", "Tried a backup code"],
           "device": "Pixel 8", "browser": "Chrome 120", "language": "en", "contact": "alice@gmail.com"}


def _live(app: Flask) -> LiveHandoff:
    return app.extensions["loginhelp_console"].live


def _id(accounts: AgentRepository, email: str) -> int:
    found = accounts.find(email)
    assert found is not None
    return found.id


def test_queue_page_lists_waiting_customers_with_what_the_assistant_learned(app: Flask, agent_client: FlaskClient,
                                                                            accounts: AgentRepository) -> None:
    live = _live(app)
    live.request_agent("first-1", "socketio", CONTEXT)
    live.request_agent("second-1", "telegram", {"branch": "kyc", "contact": XSS_TEXT})
    page = agent_client.get("/live")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="nav-live"' in html and 'src="/static/live.js"' in html
    assert html.index("first-1") < html.index("second-1")
    assert ">#1<" in html and ">#2<" in html
    for shown in ("Synced the phone&#39;s clock, Tried a backup code", "Pixel 8", "Chrome 120", "alice@gmail.com",
                  "twofa_code", "via telegram"):
        assert shown in html, shown
    assert XSS_TEXT not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    # Opening the page is a heartbeat: the agent counts as available.
    assert "You are available while this page is open." in html
    assert live.agents_available() == 1
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]


def test_chat_page_shows_the_transcript_above_the_live_chat_with_text_escaped(app: Flask, agent_client: FlaskClient,
                                                                              accounts: AgentRepository,
                                                                              write: Any) -> None:
    from .test_views import conversation

    write(conversation("chat-1"))
    live = _live(app)
    live.request_agent("chat-1", "socketio", CONTEXT)
    agent_id = _id(accounts, AGENT_EMAIL)
    claimed = post_form(agent_client, "/live/chat-1/claim", {}, page="/live")
    assert claimed.status_code == 302 and claimed.headers["Location"].endswith("/live/chat-1")
    live.customer_says("chat-1", XSS_TEXT)
    live.agent_says("chat-1", agent_id, "<b>bold?</b> no")
    html = agent_client.get("/live/chat-1").get_data(as_text=True)
    assert html.index("the login page is blank in chrome") < html.index('id="live-messages"')
    assert XSS_TEXT not in html and "<b>bold?</b>" not in html
    assert "&lt;b&gt;bold?&lt;/b&gt; no" in html and "&lt;img src=x" in html
    assert "with you" in html and '<div id="mine" >' in html
    assert 'data-testid="send-form"' in html and 'action="/live/chat-1/messages"' in html
    assert "Save correction" not in html  # the transcript is read-only here


def test_claim_conflict_is_shown_with_409(app: Flask, agent_client: FlaskClient, admin_client: FlaskClient,
                                          accounts: AgentRepository) -> None:
    _live(app).request_agent("race-1", "socketio")
    assert post_form(admin_client, "/live/race-1/claim", {}, page="/live").status_code == 302
    lost = post_form(agent_client, "/live/race-1/claim", {}, page="/live")
    html = lost.get_data(as_text=True)
    assert lost.status_code == 409
    assert f"You could not claim this chat ({ADMIN_EMAIL} has it)" in html and "another agent holds it" in html
    assert f"with {ADMIN_EMAIL}" in html and 'id="mine" hidden' in html
    # The winner claiming again is no conflict.
    assert post_form(admin_client, "/live/race-1/claim", {}, page="/live").status_code == 302


def test_send_and_hand_back_without_javascript(app: Flask, agent_client: FlaskClient, accounts: AgentRepository) -> None:
    live = _live(app)
    live.request_agent("plain-1", "socketio")
    post_form(agent_client, "/live/plain-1/claim", {}, page="/live")
    sent = post_form(agent_client, "/live/plain-1/messages", {"text": "Hello from the agent"}, page="/live")
    assert sent.status_code == 302
    assert [m.text for m in live.conversations.messages_after("plain-1")][-1] == "Hello from the agent"
    empty = post_form(agent_client, "/live/plain-1/messages", {"text": "   "}, page="/live")
    assert empty.status_code == 400 and "text must not be empty" in empty.get_data(as_text=True)
    back = post_form(agent_client, "/live/plain-1/release", {"to": "assistant"}, page="/live")
    assert back.status_code == 302 and back.headers["Location"].endswith("/live")
    view = live.state_of("plain-1")
    assert view is not None and view.state == "released" and view.released_to == "assistant"
    assert "Handed back to the assistant." in agent_client.get("/live").get_data(as_text=True)
    again = post_form(agent_client, "/live/plain-1/release", {"to": "closed"}, page="/live")
    assert again.status_code == 409 and "it was released (assistant)" in again.get_data(as_text=True)


def test_unknown_ids_get_404_pages(agent_client: FlaskClient) -> None:
    for path in ("/live/nobody", "/live/no/such/chat", "/tickets/new?live=nobody", "/live/events?conversation=nobody"):
        response = agent_client.get(path)
        assert response.status_code == 404, path
        assert "never asked for an agent" in response.get_data(as_text=True)
    for path, data in (("/live/nobody/claim", {}), ("/live/nobody/messages", {"text": "hi"}),
                       ("/live/nobody/release", {"to": "closed"})):
        assert post_form(agent_client, path, data, page="/live").status_code == 404, path


def test_forms_need_the_csrf_token(app: Flask, agent_client: FlaskClient) -> None:
    _live(app).request_agent("csrf-1", "socketio")
    assert agent_client.post("/live/csrf-1/claim").status_code == 400
    assert agent_client.post("/tickets/new", data={"description": "x"}).status_code == 400


def test_turn_into_ticket_prefills_the_form_and_ends_the_chat(app: Flask, agent_client: FlaskClient,
                                                              accounts: AgentRepository, tickets: TicketRepository) -> None:
    live = _live(app)
    live.request_agent("tk-1", "socketio", CONTEXT)
    post_form(agent_client, "/live/tk-1/claim", {}, page="/live")
    live.customer_says("tk-1", "The code from my app is always wrong")
    form = agent_client.get("/tickets/new?live=tk-1")
    html = form.get_data(as_text=True)
    assert form.status_code == 200
    for prefilled in ('value="alice@gmail.com"', "Synced the phone&#39;s clock\nTried a backup code", 'value="Pixel 8"',
                      'value="Chrome 120"', '<option value="twofa_code" selected>',
                      "Customer: The code from my app is always wrong"):
        assert prefilled in html, prefilled
    fields = {"live": "tk-1", "conversation_id": "tk-1", "channel": "socketio", "email": "alice@gmail.com", "phone": "",
              "category": "twofa_code", "description": "Authenticator codes rejected; clock synced.",
              "error_message": "Invalid code", "steps_tried": "Synced the phone's clock\nTried a backup code",
              "device": "Pixel 8", "browser_version": "Chrome 120"}
    bad = post_form(agent_client, "/tickets/new", {**fields, "email": "not an email"}, page="/tickets/new?live=tk-1")
    assert bad.status_code == 400 and 'data-testid="ticket-error"' in bad.get_data(as_text=True)
    saved = post_form(agent_client, "/tickets/new", fields, page="/tickets/new?live=tk-1")
    assert saved.status_code == 302
    [ticket] = tickets.for_conversation("tk-1")
    assert saved.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    assert (ticket.contact_email, ticket.category, ticket.device, ticket.error_message) == (
        "alice@gmail.com", "twofa_code", "Pixel 8", "Invalid code")
    assert list(ticket.steps_tried) == ["Synced the phone's clock", "Tried a backup code"]
    assert ticket.history[0].changed_by == AGENT_EMAIL
    view = live.state_of("tk-1")
    assert view is not None and view.released_to == "ticket"
    lines = [m.text for m in live.conversations.messages_after("tk-1")]
    assert any(ticket.reference in line for line in lines)
    assert "was turned into the ticket" in agent_client.get(saved.headers["Location"]).get_data(as_text=True)


def test_a_blank_ticket_form_without_a_chat(agent_client: FlaskClient, tickets: TicketRepository) -> None:
    assert agent_client.get("/tickets/new").status_code == 200
    saved = post_form(agent_client, "/tickets/new", {"description": "Called in by phone", "phone": "+44 7911 123456",
                                                     "category": "general"}, page="/tickets/new")
    assert saved.status_code == 302
    [ticket] = tickets.list()
    assert ticket.contact_phone == "+447911123456" and ticket.conversation_id is None


# --------------------------------------------------------------- events


class EventReader:
    """Requests a text/event-stream and reads it in a thread, so a test waits for events with a timeout.

    The whole request runs in that thread (as in a threaded server): the
    streamed response keeps its request context on the thread that started it.
    """

    def __init__(self, client: FlaskClient, path: str, **kwargs: Any) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.comments: list[str] = []
        self.mimetype: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(client, path, kwargs), daemon=True)
        self._thread.start()

    def _read(self, client: FlaskClient, path: str, kwargs: dict[str, Any]) -> None:
        response = client.get(path, buffered=False, **kwargs)
        self.mimetype = response.mimetype
        buffer = ""
        try:
            for chunk in response.response:
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    self._parse(block)
                if self._stop.is_set():
                    break
        finally:
            response.close()
            self.events.put(("end", None))

    def _parse(self, block: str) -> None:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "event" in fields:
            self.events.put((fields["event"], {**json.loads(fields["data"]), "_id": fields.get("id")}))

    def next(self, kind: str, timeout: float = 5.0) -> Any:
        """The next event of this kind (others are skipped); fails after ``timeout`` seconds."""
        while True:
            try:
                event, data = self.events.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {kind} event within {timeout} s")
            if event == kind:
                return data
            if event == "end":
                pytest.fail(f"the stream ended before a {kind} event")

    def close(self) -> None:
        """Stop reading at the next chunk (a keep-alive at the latest) and let the stream's generator finish."""
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


@pytest.fixture
def fast_events(app: Flask) -> Iterator[None]:
    app.config.update(LIVE_EVENTS_POLL=0.05, LIVE_EVENTS_KEEPALIVE=0.2, LIVE_EVENTS_MAX_SECONDS=8)
    yield


def test_events_stream_queue_changes_and_messages(app: Flask, agent_client: FlaskClient, accounts: AgentRepository,
                                                  fast_events: None) -> None:
    live = _live(app)
    live.request_agent("ev-1", "socketio", CONTEXT)
    queue_page = EventReader(agent_client, "/live/events")
    chat_page = EventReader(signed_in(app, AGENT_EMAIL), "/live/events?conversation=ev-1")
    try:
        first = queue_page.next("queue")
        assert queue_page.mimetype == "text/event-stream"
        assert [e["conversation_id"] for e in first["queue"]] == ["ev-1"]
        assert first["queue"][0]["context"]["device"] == "Pixel 8"
        live.request_agent("ev-2", "telegram")
        second = queue_page.next("queue")
        assert [(e["conversation_id"], e["place"]) for e in second["queue"]] == [("ev-1", 1), ("ev-2", 2)]

        assert chat_page.next("state")["state"] == "waiting"
        live.claim("ev-1", _id(accounts, ADMIN_EMAIL))
        joined = chat_page.next("message")
        assert joined["sender"] == "system" and joined["_id"] == "1"
        state = chat_page.next("state")
        assert state["state"] == "active" and state["claimed_by"] == ADMIN_EMAIL and state["mine"] is False
        live.customer_says("ev-1", XSS_TEXT)
        said = chat_page.next("message")
        assert said["text"] == XSS_TEXT and said["sender"] == "customer" and said["_id"] == "2"  # JSON, shown as text
        assert [e["conversation_id"] for e in queue_page.next("queue")["queue"]] == ["ev-2"]  # the claim left the queue
    finally:
        queue_page.close()
        chat_page.close()


def test_events_keep_alive_and_end_so_the_browser_reconnects(app: Flask, agent_client: FlaskClient,
                                                             fast_events: None) -> None:
    app.config.update(LIVE_EVENTS_MAX_SECONDS=0.5)
    live = _live(app)
    live.request_agent("ka-1", "socketio")
    live.customer_says("ka-1", "zero")
    live.customer_says("ka-1", "one")
    reader = EventReader(agent_client, "/live/events?conversation=ka-1", headers={"Last-Event-ID": "1"})
    said = reader.next("message")
    assert said["text"] == "one" and said["_id"] == "2"  # message 1 (before Last-Event-ID) is not sent again
    assert reader.next("end", timeout=5) is None  # the stream ended by itself
    assert ": keep-alive" in reader.comments
