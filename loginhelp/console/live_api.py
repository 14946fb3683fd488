"""JSON API of live handoff: the queue, claiming, chatting, releasing, availability.

Signed in like the rest of ``/api`` (access.py): a personal token
(``Authorization: Bearer ...``) or the console session; with the session a POST
also needs the CSRF token (``X-CSRFToken`` header), since a browser sends the
cookie on its own. Errors are JSON: 400 bad body, 404 unknown conversation,
409 the conversation is not in a state that allows it (someone else holds it,
you do not hold it, it was released).

Message text is returned exactly as stored, as a JSON string: plain text,
never HTML; whoever shows it must insert it as text.
"""
from __future__ import annotations

from typing import Any, Callable, NoReturn, TypeVar

from flask import Blueprint, abort, current_app, jsonify, request

from ..agents.repository import AgentView
from ..handoff.errors import LiveConflict, LiveNotFound
from ..handoff.repository import validate_release_target
from .access import current_agent, signed_in_with_token
from .context import console

bp = Blueprint("live_api", __name__, url_prefix="/api/live")

T = TypeVar("T")


@bp.before_request
def _csrf_for_sessions() -> None:
    """The app-wide CSRF check skips this blueprint; a cookie-signed-in request still gets it here."""
    if not signed_in_with_token():
        current_app.extensions["csrf"].protect()


def _agent() -> AgentView:
    agent = current_agent()
    assert agent is not None  # access.require_agent let the request in
    return agent


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "Send a JSON object (Content-Type: application/json).")
    return data


def _fail(exc: Exception) -> NoReturn:
    if isinstance(exc, LiveNotFound):
        abort(404, "No live conversation with this id.")
    if isinstance(exc, LiveConflict):
        abort(409, str(exc))
    abort(400, str(exc))


def _run(action: Callable[[], T]) -> T:
    """The action's result, or the JSON error its exception stands for."""
    try:
        return action()
    except (LiveNotFound, LiveConflict, ValueError) as exc:
        _fail(exc)


@bp.route("")
def queue() -> Any:
    """Waiting customers (first is next), your chats, and how many agents are available."""
    live = console().live
    agent = _agent()
    return jsonify(
        queue=[entry.to_dict() for entry in live.queue()],
        yours=[c.to_dict() for c in live.conversations.held_by(agent.id)],
        available_agents=live.agents_available(),
        you=live.availability.status(agent.id).to_dict(),
    )


@bp.route("/<path:conversation_id>/claim", methods=["POST"])
def claim(conversation_id: str) -> Any:
    agent = _agent()
    view = _run(lambda: console().live.claim(conversation_id, agent.id))
    return jsonify(conversation=view.to_dict())


@bp.route("/<path:conversation_id>/messages", methods=["GET"])
def messages(conversation_id: str) -> Any:
    """Messages numbered above ``after`` (default 0: the whole live chat), at most ``limit`` (default 500)."""
    after = _count_arg("after", 0)
    limit = min(_count_arg("limit", 500), 500) or 500
    live = console().live
    found = _run(lambda: live.conversations.messages_after(conversation_id, after, limit))
    conversation = live.state_of(conversation_id)
    assert conversation is not None
    return jsonify(conversation=conversation.to_dict(), messages=[m.to_dict() for m in found])


@bp.route("/<path:conversation_id>/messages", methods=["POST"])
def send(conversation_id: str) -> Any:
    """Write to the customer in a chat you hold; the text is stored and relayed as plain text."""
    text = _body().get("text")
    if text is None:
        abort(400, "text is required")
    agent = _agent()
    message = _run(lambda: console().live.agent_says(conversation_id, agent.id, text))
    return jsonify(message=message.to_dict()), 201


@bp.route("/<path:conversation_id>/release", methods=["POST"])
def release(conversation_id: str) -> Any:
    """Hand the chat back to the assistant, on to a ticket, or close it: ``{"to": "assistant" | "ticket" | "closed"}``."""
    to = _run(lambda: validate_release_target(_body().get("to")))
    agent = _agent()
    view = _run(lambda: console().live.release(conversation_id, agent.id, to))
    return jsonify(conversation=view.to_dict())


@bp.route("/availability", methods=["POST"])
def availability() -> Any:
    """``{"available": true}``: available even without the live page open; false: away even with it open."""
    body = _body()
    if not isinstance(body.get("available"), bool):
        abort(400, "available must be true or false")
    agent = _agent()
    status = console().live.set_available(agent.id, body["available"])
    return jsonify(availability=status.to_dict(), available_agents=console().live.agents_available())


@bp.route("/heartbeat", methods=["POST"])
def heartbeat() -> Any:
    """The live page is open: the agent counts as available for the heartbeat window."""
    status = console().live.heartbeat(_agent().id)
    return jsonify(availability=status.to_dict(), available_agents=console().live.agents_available())


def _count_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 12:
        abort(400, f"{name} must be a whole number, 0 or more")
    return int(raw)
