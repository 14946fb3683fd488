"""Sign-in and sign-out. Failures get one generic message; the limiter answers 429."""
from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from ..agents.signin import RATE_LIMITED
from .access import current_agent, safe_next, sign_in_session
from .context import console

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    target = safe_next(request.values.get("next"))
    if request.method != "POST":  # GET, and HEAD (which Flask routes here too)
        return render_template("sign_in.html", next=target, error=None, email="")

    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")[:1024]
    result = console().sign_in.attempt(email, password, request.remote_addr)
    if result.ok and result.agent is not None:
        sign_in_session(result.agent)
        return redirect(target or url_for("conversations.index"))
    if result.reason == RATE_LIMITED:
        minutes = max(1, math.ceil((result.retry_after or 60) / 60))
        message = f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        response = render_template("sign_in.html", next=target, error=message, email=email)
        return response, 429, {"Retry-After": str(result.retry_after or 60)}
    return render_template("sign_in.html", next=target, error="Email or password is incorrect.", email=email), 401


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    agent = current_agent()
    if agent is not None:
        # Their live chats go back to the queue; they no longer count as available.
        console().live.agent_signed_out(agent.id)
    session.clear()
    return redirect(url_for("auth.sign_in"))
