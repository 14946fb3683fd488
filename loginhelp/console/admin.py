"""Agent management for admins only (agents get 403 on every route here)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..agents.models import ROLES
from ..agents.repository import AgentExists, AgentNotFound, LastAdminError
from .access import current_agent
from .context import console

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    agent = current_agent()
    if agent is None or not agent.is_admin:
        abort(403, "Only admins manage agent accounts.")


@bp.route("/agents")
def agents() -> Any:
    return render_template("admin_agents.html", agents=console().agents.list(), roles=ROLES)


@bp.route("/agents", methods=["POST"])
def add_agent() -> Any:
    form = request.form
    try:
        agent = console().agents.add(form.get("email", ""), form.get("password", ""), form.get("role", "agent"))
    except (AgentExists, ValueError) as exc:
        flash(str(exc), "error")
    else:
        flash(f"Added {agent.role} {agent.email}.")
    return redirect(url_for("admin.agents"))


@bp.route("/agents/<int:agent_id>", methods=["POST"])
def change_agent(agent_id: int) -> Any:
    repo = console().agents
    target = repo.get(agent_id)
    if target is None:
        abort(404, "No such agent.")
    action = request.form.get("action", "")
    try:
        if action == "role":
            repo.set_role(target.email, request.form.get("role", ""))
        elif action in ("disable", "enable"):
            repo.set_active(target.email, action == "enable")
        elif action == "password":
            repo.set_password(target.email, request.form.get("password", ""))
        else:
            abort(400, "Unknown action.")
    except (AgentNotFound, LastAdminError, ValueError) as exc:
        flash(str(exc), "error")
    else:
        flash(f"Updated {target.email}.")
    return redirect(url_for("admin.agents"))


@bp.route("/sign-ins")
def sign_ins() -> Any:
    email = request.args.get("email", "").strip() or None
    return render_template("admin_sign_ins.html", attempts=console().sign_in.recent(limit=200, email=email), email=email)
