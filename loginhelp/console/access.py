"""Deny by default: every endpoint needs a signed-in agent unless listed in PUBLIC_ENDPOINTS.

Pages know the agent from the session cookie; the JSON API (``/api/...``) also
from a personal token (``Authorization: Bearer <token>``, made with
``loginhelp agents token EMAIL``) for integrations and scripts.

The check runs in ``before_request`` rather than as a decorator, so a route
someone adds later is protected without anyone remembering to. Admin-only
endpoints use ``admin_required`` (the admin blueprint applies it to all of its
routes). Responses get a strict Content-Security-Policy as a second line of
defence behind Jinja's escaping.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, jsonify, redirect, request, session, url_for

from ..agents.repository import AgentView
from .context import console

#: Endpoints reachable without signing in: the sign-in form and its stylesheet.
PUBLIC_ENDPOINTS = frozenset({"auth.sign_in", "static"})

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def current_agent() -> AgentView | None:
    return getattr(g, "agent", None)


def sign_in_session(agent: AgentView) -> None:
    """A fresh session (no fixation) remembering who and which password epoch."""
    session.clear()
    session.permanent = True
    session["agent_id"] = agent.id
    session["epoch"] = agent.session_epoch


def _load_agent() -> AgentView | None:
    agent_id = session.get("agent_id")
    if not isinstance(agent_id, int):
        return None
    agent = console().agents.get(agent_id)
    # Disabled accounts and changed passwords end existing sessions.
    if agent is None or not agent.active or session.get("epoch") != agent.session_epoch:
        session.clear()
        return None
    return agent


def wants_json() -> bool:
    return request.path.startswith("/api/")


def signed_in_with_token() -> bool:
    """True when the request came with a personal API token (no cookie, so no CSRF token needed)."""
    return bool(getattr(g, "via_token", False))


def _agent_from_token() -> AgentView | None:
    """The agent of ``Authorization: Bearer <token>``; None for any other scheme or a bad token."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    agent_id = console().tokens.agent_id_for(token.strip())
    agent = console().agents.get(agent_id) if agent_id is not None else None
    return agent if agent is not None and agent.active else None


def _unauthorized(message: str, **headers: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 401
    response.headers.update(headers)
    return response


def require_agent() -> Response | None:
    g.agent = None
    g.via_token = False
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if wants_json() and "Authorization" in request.headers:
        # A token decides alone: a bad one is refused even next to a valid session cookie.
        g.agent = _agent_from_token()
        if g.agent is None:
            return _unauthorized("invalid API token", **{"WWW-Authenticate": 'Bearer realm="loginhelp console"'})
        g.via_token = True
        return None
    g.agent = _load_agent()
    if g.agent is not None:
        return None
    if wants_json():
        return _unauthorized("sign in required")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=target))  # type: ignore[return-value]  # werkzeug's Response, which Flask accepts


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        agent = current_agent()
        if agent is None or not agent.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str | None:
    """Only same-site paths ("/tickets?status=open"), never "//evil" or "https://evil"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages show customer conversations: never keep them in shared caches or history.
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask) -> None:
    app.before_request(require_agent)
    app.after_request(add_security_headers)
