"""Read-only JSON API (same sign-in as the pages: session cookie; 401 JSON when signed out)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from ..tickets.statuses import validate_status
from ..transcripts.queries import ConversationFilters
from .access import current_agent
from .context import console

bp = Blueprint("api", __name__, url_prefix="/api")


def _int(name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.args.get(name, default))))
    except (TypeError, ValueError):
        return default


@bp.route("/me")
def me() -> Any:
    agent = current_agent()
    assert agent is not None
    return jsonify(agent.to_dict())


@bp.route("/conversations")
def conversations() -> Any:
    filters, errors = ConversationFilters.from_mapping(request.args)
    if errors:
        abort(400, "; ".join(errors))
    page = console().transcripts.page(filters, _int("page", 1, 1, 10**6), _int("per_page", 50, 1, 200))
    return jsonify(
        total=page.total,
        page=page.page,
        per_page=page.per_page,
        pages=page.pages,
        conversations=[r.to_dict() for r in page.rows],
    )


@bp.route("/transcripts/<path:conversation_id>")
def transcript(conversation_id: str) -> Any:
    service = console().transcripts
    found = service.transcript(conversation_id)
    if found is None:
        abort(404, "No conversation with this id.")
    summary = service.summary(conversation_id)
    review = service.reviews.review(conversation_id)
    return jsonify(
        summary=summary.to_dict() if summary else None,
        reviewed_by=review.reviewed_by,
        tags=review.tags,
        notes=[n.to_dict() for n in review.notes],
        corrections=[c.to_dict() for c in review.corrections.values()],
        **found.to_dict(),
    )


@bp.route("/tickets")
def tickets() -> Any:
    status = request.args.get("status") or None
    try:
        status = validate_status(status) if status else None
    except ValueError as exc:
        abort(400, str(exc))
    found = console().tickets.list(status=status, limit=_int("limit", 50, 1, 1000), offset=_int("offset", 0, 0, 10**9))
    return jsonify(tickets=[t.to_dict() for t in found])


@bp.route("/tickets/<reference>")
def ticket(reference: str) -> Any:
    found = console().tickets.get(reference)
    if found is None:
        abort(404, "No ticket with this reference.")
    return jsonify(found.to_dict())
