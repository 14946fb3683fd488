"""The live-handoff JSON API: bearer tokens (and the session with its CSRF token), the six endpoints, JSON errors."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.db.timeutil import utcnow
from loginhelp.handoff.models import live_conversations
from loginhelp.handoff.relay import RedisRelay
from loginhelp.handoff.repository import JOINED, MAX_TEXT_LENGTH, REQUEUED
from loginhelp.handoff.service import LiveHandoff
from loginhelp.handoff.tokens import ApiTokens
from tests.console.helpers import csrf_token, sign_in

from .conftest import PASSWORD, RedisTarget

CONTEXT = {"branch": "twofa_code", "steps_tried": ["synced clock"], "device": "Pixel 8", "language": "en"}


class Agent:
    """A signed-in API caller: the account, its token and a test client."""

    def __init__(self, app: Flask, view: AgentView, token: str) -> None:
        self.view = view
        self.token = token
        self.client = app.test_client()

    def call(self, method: str, path: str, body: Any = None, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token if token is not None else self.token}"}
        return self.client.open(path, method=method, json=body, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, body, **kwargs)


def _live(app: Flask) -> LiveHandoff:
    return app.extensions["loginhelp_console"].live


@pytest.fixture
def team(app: Flask) -> tuple[Agent, Agent]:
    repo: AgentRepository = app.extensions["loginhelp_console"].agents
    tokens = ApiTokens(app.extensions["loginhelp_console"].transcripts.console_engine)
    out = []
    for email in ("alice@coinex.test", "bob@coinex.test"):
        view = repo.add(email, PASSWORD, "agent")
        out.append(Agent(app, view, tokens.issue(view.id)))
    return out[0], out[1]


ENDPOINTS = [
    ("GET", "/api/live", None),
    ("POST", "/api/live/conv-1/claim", None),
    ("GET", "/api/live/conv-1/messages?after=0", None),
    ("POST", "/api/live/conv-1/messages", {"text": "hi"}),
    ("POST", "/api/live/conv-1/release", {"to": "closed"}),
    ("POST", "/api/live/availability", {"available": True}),
    ("POST", "/api/live/heartbeat", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_valid_token_or_session(app: Flask, team: tuple[Agent, Agent], method: str, path: str,
                                                       body: Any) -> None:
    alice, _ = team
    _live(app).request_agent("conv-1")
    anonymous = app.test_client().open(path, method=method, json=body)
    assert anonymous.status_code == 401 and anonymous.get_json() == {"error": "sign in required"}
    for bad in ("", "lhk_not-a-real-token", alice.token + "x", alice.token[:-2]):
        refused = alice.call(method, path, body, token=bad)
        assert refused.status_code == 401, bad
        assert refused.get_json() == {"error": "invalid API token"}
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    basic = app.test_client().open(path, method=method, json=body, headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert basic.status_code == 401
    assert _live(app).state_of("conv-1").state == "waiting"  # nothing was done by any of them


def test_a_new_token_or_a_disabled_account_ends_the_old_token(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, bob = team
    assert alice.get("/api/live").status_code == 200
    assert alice.get("/api/me").get_json()["email"] == alice.view.email  # the token opens the rest of /api too
    tokens = ApiTokens(app.extensions["loginhelp_console"].transcripts.console_engine)
    fresh = tokens.issue(alice.view.id)
    assert alice.get("/api/live").status_code == 401
    assert alice.get("/api/live", token=fresh).status_code == 200
    app.extensions["loginhelp_console"].agents.set_active(bob.view.email, False)
    assert bob.get("/api/live").status_code == 401


def test_a_token_does_not_open_the_pages(app: Flask, team: tuple[Agent, Agent]) -> None:
    response = team[0].get("/conversations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_queue_claim_chat_and_hand_back(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, bob = team
    live = _live(app)
    live.request_agent("first", "telegram", CONTEXT)
    live.request_agent("second", "socketio")
    live.customer_says("first", "hello? anyone?")

    listing = alice.get("/api/live")
    assert listing.status_code == 200 and listing.is_json
    body = listing.get_json()
    assert [(c["conversation_id"], c["place"], c["state"]) for c in body["queue"]] == [
        ("first", 1, "waiting"), ("second", 2, "waiting")]
    first = body["queue"][0]
    assert first["channel"] == "telegram" and first["context"] == CONTEXT and first["waiting_seconds"] >= 0
    assert body["yours"] == [] and body["available_agents"] == 0

    claimed = alice.post("/api/live/first/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["conversation"]["state"] == "active"
    assert claimed.get_json()["conversation"]["claimed_by"] == alice.view.email
    assert alice.post("/api/live/first/claim").status_code == 200  # a second click is harmless
    taken = bob.post("/api/live/first/claim")
    assert taken.status_code == 409 and "another agent" in taken.get_json()["error"]

    after_claim = alice.get("/api/live").get_json()
    assert [c["conversation_id"] for c in after_claim["queue"]] == ["second"]
    assert [c["conversation_id"] for c in after_claim["yours"]] == ["first"]

    transcript = bob.get("/api/live/first/messages").get_json()  # any agent may read along
    assert [(m["n"], m["sender"], m["text"]) for m in transcript["messages"]] == [
        (1, "customer", "hello? anyone?"), (2, "system", JOINED)]
    assert transcript["conversation"]["last_n"] == 2

    sent = alice.post("/api/live/first/messages", {"text": "  Hi, I'm Alice from CoinEx support.  "})
    assert sent.status_code == 201
    assert sent.get_json()["message"] == {**sent.get_json()["message"], "n": 3, "sender": "agent",
                                          "agent": alice.view.email, "text": "Hi, I'm Alice from CoinEx support."}
    assert bob.post("/api/live/first/messages", {"text": "me too"}).status_code == 409
    live.customer_says("first", "my 2fa code is rejected")
    newer = alice.get("/api/live/first/messages?after=3").get_json()["messages"]
    assert [(m["n"], m["sender"]) for m in newer] == [(4, "customer")]
    assert alice.get("/api/live/first/messages?after=4").get_json()["messages"] == []

    assert bob.post("/api/live/first/release", {"to": "assistant"}).status_code == 409
    released = alice.post("/api/live/first/release", {"to": "assistant"})
    assert released.status_code == 200
    assert released.get_json()["conversation"]["state"] == "released"
    assert released.get_json()["conversation"]["released_to"] == "assistant"
    assert live.state_of("first").state == "released"
    assert alice.post("/api/live/first/messages", {"text": "one more thing"}).status_code == 409
    assert alice.post("/api/live/first/release", {"to": "closed"}).status_code == 409
    assert alice.post("/api/live/first/claim").status_code == 409


@pytest.mark.parametrize("to", ["ticket", "closed"])
def test_release_to_a_ticket_or_closed(app: Flask, team: tuple[Agent, Agent], to: str) -> None:
    alice, _ = team
    _live(app).request_agent("conv-1")
    alice.post("/api/live/conv-1/claim")
    response = alice.post("/api/live/conv-1/release", {"to": to})
    assert response.status_code == 200 and response.get_json()["conversation"]["released_to"] == to


def test_agent_text_is_plain_text(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, _ = team
    _live(app).request_agent("conv-1")
    alice.post("/api/live/conv-1/claim")
    markup = "<img src=x onerror=alert(1)> &lt;b&gt; <b>bold</b>"
    sent = alice.post("/api/live/conv-1/messages", {"text": markup})
    assert sent.status_code == 201 and sent.mimetype == "application/json"
    assert sent.get_json()["message"]["text"] == markup
    assert _live(app).conversations.messages_after("conv-1", 1)[0].text == markup  # stored as typed, not escaped
    assert alice.get("/api/live/conv-1/messages?after=1").get_json()["messages"][0]["text"] == markup


@pytest.mark.parametrize(("path", "body"), [
    ("/api/live/conv-1/messages", None),
    ("/api/live/conv-1/messages", {}),
    ("/api/live/conv-1/messages", {"text": ""}),
    ("/api/live/conv-1/messages", {"text": " \n\t "}),
    ("/api/live/conv-1/messages", {"text": "x" * (MAX_TEXT_LENGTH + 1)}),
    ("/api/live/conv-1/messages", {"text": 42}),
    ("/api/live/conv-1/messages", {"text": ["hi"]}),
    ("/api/live/conv-1/messages", {"text": "nul\x00byte"}),
    ("/api/live/conv-1/messages", ["text", "hi"]),
    ("/api/live/conv-1/release", None),
    ("/api/live/conv-1/release", {}),
    ("/api/live/conv-1/release", {"to": "expired"}),
    ("/api/live/conv-1/release", {"to": "the bin"}),
    ("/api/live/conv-1/release", {"to": None}),
    ("/api/live/availability", None),
    ("/api/live/availability", {"available": "yes"}),
    ("/api/live/availability", {"available": 1}),
    ("/api/live/availability", {}),
])
def test_bad_bodies_get_400(app: Flask, team: tuple[Agent, Agent], path: str, body: Any) -> None:
    alice, _ = team
    _live(app).request_agent("conv-1")
    alice.post("/api/live/conv-1/claim")
    response = alice.post(path, body)
    assert response.status_code == 400, response.get_json()
    assert isinstance(response.get_json()["error"], str) and response.get_json()["error"]
    view = _live(app).state_of("conv-1")
    assert (view.state, view.last_n) == ("active", 1)  # nothing changed


def test_a_body_that_is_not_json_gets_400(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, _ = team
    _live(app).request_agent("conv-1")
    alice.post("/api/live/conv-1/claim")
    for data, content_type in (("{not json", "application/json"), ("text=hi", "application/x-www-form-urlencoded")):
        response = alice.call("POST", "/api/live/conv-1/messages", data=data, content_type=content_type)
        assert response.status_code == 400 and "error" in response.get_json()


@pytest.mark.parametrize("query", ["after=-1", "after=abc", "after=1.5", "limit=x", "after=" + "9" * 20])
def test_bad_query_gets_400(app: Flask, team: tuple[Agent, Agent], query: str) -> None:
    _live(app).request_agent("conv-1")
    response = team[0].get(f"/api/live/conv-1/messages?{query}")
    assert response.status_code == 400 and "error" in response.get_json()


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/live/{id}/claim", None),
    ("GET", "/api/live/{id}/messages", None),
    ("POST", "/api/live/{id}/messages", {"text": "hello"}),
    ("POST", "/api/live/{id}/release", {"to": "closed"}),
])
@pytest.mark.parametrize("unknown", ["nobody", "x" * 300, "with/slash", "ünï-😀", "1; DROP TABLE live_messages"])
def test_unknown_conversations_get_404(app: Flask, team: tuple[Agent, Agent], method: str, path: str, body: Any,
                                       unknown: str) -> None:
    response = team[0].call(method, path.format(id=unknown), body)
    assert response.status_code == 404
    assert response.get_json() == {"error": "No live conversation with this id."}


def test_posting_to_a_conversation_you_do_not_hold_gets_409(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, bob = team
    _live(app).request_agent("conv-1")
    waiting = alice.post("/api/live/conv-1/messages", {"text": "hi"})
    assert waiting.status_code == 409 and "claim it first" in waiting.get_json()["error"]
    assert alice.post("/api/live/conv-1/release", {"to": "closed"}).status_code == 409
    bob.post("/api/live/conv-1/claim")
    assert alice.post("/api/live/conv-1/messages", {"text": "hi"}).status_code == 409
    assert _live(app).conversations.messages_after("conv-1")[-1].text == JOINED


def test_availability_and_heartbeat(app: Flask, team: tuple[Agent, Agent]) -> None:
    alice, bob = team
    live = _live(app)
    assert live.agents_available() == 0
    on = alice.post("/api/live/availability", {"available": True})
    assert on.status_code == 200
    assert on.get_json()["availability"]["available"] is True and on.get_json()["available_agents"] == 1
    beat = bob.post("/api/live/heartbeat")
    assert beat.status_code == 200 and beat.get_json()["available_agents"] == 2
    assert live.agents_available() == 2
    off = alice.post("/api/live/availability", {"available": False})
    assert off.get_json()["availability"] == {**off.get_json()["availability"], "available": False, "chosen": False}
    assert off.get_json()["available_agents"] == 1
    assert alice.get("/api/live").get_json()["you"]["available"] is False


def test_the_queue_drops_customers_who_left(app: Flask, team: tuple[Agent, Agent]) -> None:
    live = _live(app)
    live.request_agent("gone")
    live.request_agent("here")
    engine = app.extensions["loginhelp_console"].transcripts.console_engine
    with engine.begin() as conn:  # the customer's last sign of life was longer ago than the wait limit
        conn.execute(update(live_conversations).where(live_conversations.c.conversation_id == "gone")
                     .values(customer_seen_at=utcnow() - live.conversations.wait_limit - timedelta(seconds=1)))
    body = team[0].get("/api/live").get_json()
    assert [c["conversation_id"] for c in body["queue"]] == ["here"]
    assert (live.state_of("gone").state, live.state_of("gone").released_to) == ("released", "expired")
    assert team[0].post("/api/live/gone/claim").status_code == 409


# ----------------------------------------------------------------- session


@pytest.fixture
def session_client(app: Flask, team: tuple[Agent, Agent]) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, team[0].view.email).status_code == 302
    return client


def test_the_console_session_works_with_its_csrf_token(app: Flask, team: tuple[Agent, Agent],
                                                       session_client: FlaskClient) -> None:
    _live(app).request_agent("conv-1")
    assert session_client.get("/api/live").status_code == 200
    refused = session_client.post("/api/live/conv-1/claim")
    assert refused.status_code == 400 and "error" in refused.get_json()  # a cookie alone could be a forged request
    forged = session_client.post("/api/live/conv-1/claim", headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert _live(app).state_of("conv-1").state == "waiting"
    token = csrf_token(session_client, "/conversations")
    claimed = session_client.post("/api/live/conv-1/claim", headers={"X-CSRFToken": token})
    assert claimed.status_code == 200 and claimed.get_json()["conversation"]["claimed_by"] == team[0].view.email
    sent = session_client.post("/api/live/conv-1/messages", json={"text": "hello"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 201


def test_a_bad_token_is_refused_even_with_a_valid_session(session_client: FlaskClient) -> None:
    response = session_client.get("/api/live", headers={"Authorization": "Bearer lhk_wrong"})
    assert response.status_code == 401


def test_signing_out_returns_the_agents_chats_to_the_queue(app: Flask, team: tuple[Agent, Agent],
                                                           session_client: FlaskClient) -> None:
    alice, bob = team
    live = _live(app)
    live.request_agent("a")
    live.request_agent("b")
    token = csrf_token(session_client, "/conversations")
    assert session_client.post("/api/live/a/claim", headers={"X-CSRFToken": token}).status_code == 200
    assert bob.post("/api/live/b/claim").status_code == 200
    assert session_client.post("/api/live/availability", json={"available": True},
                               headers={"X-CSRFToken": token}).status_code == 200
    assert live.agents_available() == 1

    out = session_client.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 302
    a = live.state_of("a")
    assert (a.state, a.claimed_by) == ("waiting", None)
    assert live.conversations.messages_after("a")[-1].text == REQUEUED
    assert live.state_of("b").claimed_by == bob.view.id  # bob's chat is untouched
    assert live.agents_available() == 0
    assert [c["conversation_id"] for c in bob.get("/api/live").get_json()["queue"]] == ["a"]
    assert bob.post("/api/live/a/claim").status_code == 200


# ------------------------------------------------------------------- relay


@pytest.fixture
def redis_app(redis_target: RedisTarget, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The console app built with REDIS_HOST and friends set, as in production."""
    for name, value in redis_target.environ().items():
        monkeypatch.setenv(name, value)
    yield request.getfixturevalue("app")


def test_the_console_relays_what_the_agent_writes(redis_app: Flask, redis_target: RedisTarget,
                                                  team: tuple[Agent, Agent]) -> None:
    alice, _ = team
    relay = _live(redis_app).relay
    assert isinstance(relay, RedisRelay) and relay.key_prefix == redis_target.prefix
    other_process = RedisRelay(redis_target.client(), redis_target.prefix)
    try:
        _live(redis_app).request_agent("conv-1")
        with other_process.subscribe(["conv-1"], queue=True) as customer_side:
            assert alice.post("/api/live/conv-1/claim").status_code == 200
            assert alice.post("/api/live/conv-1/messages", {"text": "Hello from the console"}).status_code == 201
            events = []
            while (event := customer_side.get(timeout=0.5)) is not None:
                events.append(event)
        assert [(e.kind, e.data.get("event") or e.data.get("sender") or e.data.get("state")) for e in events] == [
            ("message", "system"), ("state", "active"), ("queue", "claimed"), ("message", "agent")]
        assert events[-1].data["text"] == "Hello from the console" and events[-1].data["n"] == 2
    finally:
        other_process.close()
