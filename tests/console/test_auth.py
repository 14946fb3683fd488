"""Sign-in, the route table, CSRF, cookies, roles and the sign-in rate limit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentRepository
from loginhelp.agents.signin import SignInGuard
from loginhelp.console.access import PUBLIC_ENDPOINTS

from .helpers import ADMIN_EMAIL, AGENT_EMAIL, PASSWORD, csrf_token, post_form, sign_in

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
SAMPLE_ARGS = {"conversation_id": "conv-1", "reference": "LH-7KQ2MX", "agent_id": 1, "fmt": "csv", "filename": "console.css"}


def _routes(app: Flask):
    """(endpoint, url, method) for every rule and method of the app."""
    for rule in app.url_map.iter_rules():
        url = rule.build({a: SAMPLE_ARGS[a] for a in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, url, method


@SQLITE_ONLY
def test_every_route_needs_a_signed_in_agent(app: Flask) -> None:
    """Walk the route table: only the sign-in form and its stylesheet answer a stranger."""
    assert PUBLIC_ENDPOINTS == {"auth.sign_in", "static"}
    client = app.test_client()
    token = csrf_token(client)  # so POSTs reach the sign-in check, not just the CSRF check
    checked = 0
    for endpoint, url, method in _routes(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
            assert response.get_json() == {"error": "sign in required"}
        else:
            assert response.status_code == 302, (endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/sign-in"), (endpoint, method)
        checked += 1
    assert checked >= 20
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/sign-in").status_code == 200
    # Unknown paths do not tell a stranger what exists.
    assert client.get("/no/such/page").status_code == 302


@SQLITE_ONLY
def test_every_state_change_needs_a_csrf_token(app: Flask, admin_client: FlaskClient) -> None:
    posts = [(endpoint, url) for endpoint, url, method in _routes(app) if method == "POST"]
    assert {"auth.sign_in", "auth.sign_out", "conversations.transcript", "tickets.set_status", "admin.add_agent",
            "admin.change_agent"} <= {e for e, _ in posts}
    for endpoint, url in posts:
        for data in ({}, {"csrf_token": "forged"}):
            response = admin_client.post(url, data=data)
            assert response.status_code == 400, (endpoint, data)
    # Only GET/HEAD/OPTIONS are ever served without a token.
    assert all(m in ("GET", "POST") for _, _, m in _routes(app))
    assert admin_client.get("/api/me").status_code == 200  # still signed in: nothing was changed


@SQLITE_ONLY
def test_sign_in_sets_a_hardened_session_cookie(app: Flask, accounts: AgentRepository) -> None:
    client = app.test_client()
    response = sign_in(client, AGENT_EMAIL)
    assert response.status_code == 302 and response.headers["Location"] == "/conversations"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("loginhelp_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/conversations")
    assert page.status_code == 200 and AGENT_EMAIL in page.get_data(as_text=True)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    out = post_form(client, "/sign-out", {})
    assert out.status_code == 302
    assert client.get("/conversations").status_code == 302


@SQLITE_ONLY
def test_wrong_password_and_unknown_email_look_the_same(app: Flask, accounts: AgentRepository) -> None:
    client = app.test_client()
    wrong = sign_in(client, AGENT_EMAIL, "not the password!")
    unknown = sign_in(client, "nobody@coinex.test", "not the password!")
    assert wrong.status_code == unknown.status_code == 401
    assert "Email or password is incorrect." in wrong.get_data(as_text=True)
    assert "Email or password is incorrect." in unknown.get_data(as_text=True)
    reasons = [a.reason for a in app.extensions["loginhelp_console"].sign_in.recent()]
    assert reasons[:2] == ["unknown_email", "bad_password"]


@SQLITE_ONLY
def test_next_parameter_cannot_redirect_off_site(app: Flask, accounts: AgentRepository) -> None:
    for target, expected in (("/tickets?status=open", "/tickets?status=open"), ("//evil.example", "/conversations"),
                             ("https://evil.example/x", "/conversations"), ("/\\evil.example", "/conversations")):
        client = app.test_client()
        token = csrf_token(client)
        response = client.post("/sign-in", data={"csrf_token": token, "email": AGENT_EMAIL, "password": PASSWORD, "next": target})
        assert response.headers["Location"] == expected


@SQLITE_ONLY
def test_anonymous_page_redirect_remembers_where_to_go(app: Flask) -> None:
    response = app.test_client().get("/tickets?status=open")
    assert response.headers["Location"] == "/sign-in?next=/tickets?status%3Dopen"


@SQLITE_ONLY
def test_admins_manage_agents_and_agents_cannot(app: Flask, agent_client: FlaskClient, admin_client: FlaskClient) -> None:
    admin_routes = [(e, u, m) for e, u, m in _routes(app) if e.startswith("admin.")]
    assert len(admin_routes) >= 4
    for endpoint, url, method in admin_routes:
        data = {"csrf_token": csrf_token(agent_client, "/conversations"), "email": "x@coinex.test",
                "password": "long enough password", "role": "admin", "action": "role"}
        response = agent_client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, endpoint
    assert "Agents" not in agent_client.get("/conversations").get_data(as_text=True).split("<main>")[0]
    repo: AgentRepository = app.extensions["loginhelp_console"].agents
    assert repo.find("x@coinex.test") is None

    assert admin_client.get("/admin/agents").status_code == 200
    added = post_form(admin_client, "/admin/agents",
                      {"email": "new@coinex.test", "password": "a long new password", "role": "agent"})
    assert added.status_code == 302
    new = repo.find("new@coinex.test")
    assert new is not None and new.role == "agent"
    post_form(admin_client, f"/admin/agents/{new.id}", {"action": "role", "role": "admin"})
    assert repo.find("new@coinex.test").role == "admin"
    short = post_form(admin_client, "/admin/agents", {"email": "weak@coinex.test", "password": "short", "role": "agent"})
    assert short.status_code == 302 and repo.find("weak@coinex.test") is None
    assert admin_client.get("/admin/sign-ins").status_code == 200


@SQLITE_ONLY
def test_disabling_or_resetting_an_agent_ends_their_sessions(app: Flask, agent_client: FlaskClient,
                                                              admin_client: FlaskClient) -> None:
    repo: AgentRepository = app.extensions["loginhelp_console"].agents
    agent = repo.find(AGENT_EMAIL)
    assert agent_client.get("/conversations").status_code == 200
    post_form(admin_client, f"/admin/agents/{agent.id}", {"action": "disable"})
    assert agent_client.get("/conversations").status_code == 302
    assert sign_in(app.test_client(), AGENT_EMAIL).status_code == 401  # disabled accounts cannot sign in
    post_form(admin_client, f"/admin/agents/{agent.id}", {"action": "enable"})
    fresh = app.test_client()
    assert sign_in(fresh, AGENT_EMAIL).status_code == 302
    post_form(admin_client, f"/admin/agents/{agent.id}", {"action": "password", "password": "a brand new password"})
    assert fresh.get("/conversations").status_code == 302
    assert sign_in(app.test_client(), AGENT_EMAIL, "a brand new password").status_code == 302


@SQLITE_ONLY
def test_last_admin_cannot_be_demoted_or_disabled(app: Flask, admin_client: FlaskClient) -> None:
    repo: AgentRepository = app.extensions["loginhelp_console"].agents
    admin = repo.find(ADMIN_EMAIL)
    post_form(admin_client, f"/admin/agents/{admin.id}", {"action": "role", "role": "agent"})
    post_form(admin_client, f"/admin/agents/{admin.id}", {"action": "disable"})
    admin = repo.find(ADMIN_EMAIL)
    assert admin.role == "admin" and admin.active


@SQLITE_ONLY
def test_rate_limit_over_http(app: Flask, accounts: AgentRepository) -> None:
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, AGENT_EMAIL, "wrong password!!").status_code == 401
    blocked = sign_in(client, AGENT_EMAIL)  # even the right password
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 800
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # Another address from the same client is not locked by this one.
    assert sign_in(app.test_client(), ADMIN_EMAIL).status_code == 302


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 11, 26, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_rate_limit_is_shared_by_replicas_and_lifts(console_engine: Engine) -> None:
    """Two guards on one database stand for two console replicas (SQLite and PostgreSQL)."""
    AgentRepository(console_engine).add(AGENT_EMAIL, PASSWORD, "agent")
    clock = _Clock()
    one = SignInGuard(console_engine, clock=clock)
    two = SignInGuard(console_engine, clock=clock)
    for i in range(5):
        clock.now += timedelta(seconds=10)
        assert (one if i % 2 else two).attempt(AGENT_EMAIL, "wrong", "10.0.0.9").reason == "bad_password"
    clock.now += timedelta(seconds=10)
    limited = one.attempt(AGENT_EMAIL, PASSWORD, "10.9.9.9")  # another IP: the address is locked
    assert limited.reason == "rate_limited" and 0 < limited.retry_after <= 900
    assert two.attempt(AGENT_EMAIL, PASSWORD, "10.0.0.9").reason == "rate_limited"
    clock.now += timedelta(minutes=15)
    assert two.attempt(AGENT_EMAIL, PASSWORD, "10.0.0.9").ok
    # A success resets the per-address count.
    assert one.attempt(AGENT_EMAIL, "wrong", "10.0.0.9").reason == "bad_password"
    assert one.attempt(AGENT_EMAIL, PASSWORD, "10.0.0.9").ok
    log = one.recent()
    assert [a.reason for a in log][:3] == ["ok", "bad_password", "ok"]
    assert sum(1 for a in log if a.reason == "rate_limited") == 2


def test_rate_limit_per_ip_across_addresses(console_engine: Engine) -> None:
    clock = _Clock()
    guard = SignInGuard(console_engine, clock=clock, max_failures_per_ip=6)
    AgentRepository(console_engine).add(ADMIN_EMAIL, PASSWORD, "admin")
    for i in range(6):
        assert guard.attempt(f"guess{i}@coinex.test", "pw", "203.0.113.7").reason == "unknown_email"
    assert guard.attempt(ADMIN_EMAIL, PASSWORD, "203.0.113.7").reason == "rate_limited"
    assert guard.attempt(ADMIN_EMAIL, PASSWORD, "198.51.100.1").ok


def test_passwords_are_argon2_hashed(console_engine: Engine) -> None:
    repo = AgentRepository(console_engine)
    agent = repo.add("Someone@CoinEx.test ", PASSWORD, "agent")
    assert agent.email == "someone@coinex.test"
    stored = repo.password_hash(agent.id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(ValueError):
        repo.add("other@coinex.test", "short", "agent")
    with pytest.raises(ValueError):
        repo.add("other@coinex.test", PASSWORD, "superuser")


@SQLITE_ONLY
def test_head_request_is_not_a_sign_in_attempt(app: Flask) -> None:
    client = app.test_client()
    assert client.head("/sign-in").status_code == 200
    assert app.extensions["loginhelp_console"].sign_in.recent() == []
