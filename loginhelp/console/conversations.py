"""Conversation list with filters and search, transcripts, reviews, corrections and exports."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for

from ..exports import json_array
from ..tickets.categories import CATEGORIES
from ..tickets.views import TicketView
from ..transcripts.export import conversations_csv, nlu_yaml
from ..transcripts.queries import ConversationFilters
from ..transcripts.review import validate_intent
from ..transcripts.summary import OUTCOME_LABELS, OUTCOMES
from .access import current_agent
from .context import console

bp = Blueprint("conversations", __name__)


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def download(chunks: Iterator[str], mimetype: str, filename: str) -> Response:
    return Response(
        stream_with_context(chunks),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/")
def home() -> Any:
    return redirect(url_for("conversations.index"))


@bp.route("/conversations")
def index() -> Any:
    ctx = console()
    filters, errors = ConversationFilters.from_mapping(request.args)
    page = ctx.transcripts.page(filters, _int_arg("page", 1), ctx.settings.per_page)
    facets = ctx.transcripts.query.facets()
    branches = sorted(set(CATEGORIES) | set(facets["branches"]))
    intents = sorted(set(ctx.known_intents) | {"nlu_fallback"} | set(facets["intents"]))
    return render_template(
        "conversations.html",
        page=page,
        filters=filters,
        query=filters.to_query(),
        errors=errors,
        facets=facets,
        branches=branches,
        intents=intents,
        outcomes=[(o, OUTCOME_LABELS[o]) for o in OUTCOMES],
        index_error=ctx.transcripts.last_error,
    )


@bp.route("/conversations/export.<fmt>")
def export(fmt: str) -> Any:
    ctx = console()
    filters, _ = ConversationFilters.from_mapping(request.args)
    rows = ctx.transcripts.iter_rows(filters)
    if fmt == "csv":
        return download(conversations_csv(rows), "text/csv", f"conversations-{_stamp()}.csv")
    if fmt == "json":
        with_transcripts = request.args.get("transcripts") in ("1", "yes", "true")

        def items() -> Iterator[dict[str, Any]]:
            for row in rows:
                item = row.to_dict()
                if with_transcripts:
                    transcript = ctx.transcripts.transcript(row.conversation_id)
                    item["transcript"] = transcript.to_dict()["sessions"] if transcript else []
                yield item

        return download(json_array(items()), "application/json", f"conversations-{_stamp()}.json")
    abort(404)


@bp.route("/transcripts/<path:conversation_id>", methods=["GET", "POST"])
def transcript(conversation_id: str) -> Any:
    ctx = console()
    found = ctx.transcripts.transcript(conversation_id)
    if found is None:
        abort(404, "No conversation with this id in the tracker store.")
    if request.method == "POST":
        anchor = _act(conversation_id, found)
        return redirect(url_for("conversations.transcript", conversation_id=conversation_id) + anchor)
    ctx.transcripts.refresh()
    return render_template(
        "transcript.html",
        conversation_id=conversation_id,
        transcript=found,
        summary=ctx.transcripts.summary(conversation_id),
        review=ctx.transcripts.reviews.review(conversation_id),
        tickets=_tickets_for(conversation_id),
        intents=ctx.known_intents,
        threshold=ctx.transcripts.threshold,
    )


def _tickets_for(conversation_id: str) -> list[TicketView]:
    """Tickets filed from this conversation (a ticket's conversation_id is Rasa's sender_id)."""
    return console().tickets.for_conversation(conversation_id)


def _act(conversation_id: str, found: Any) -> str:
    """Apply one review action from the transcript page; returns the anchor to come back to."""
    reviews = console().transcripts.reviews
    agent = current_agent()
    assert agent is not None
    action = request.form.get("action", "")
    try:
        if action in ("reviewed", "unreviewed"):
            reviews.set_reviewed(conversation_id, agent.email, action == "reviewed")
            flash("Marked as reviewed." if action == "reviewed" else "Review mark removed.")
            return "#review"
        if action == "add_tag":
            tag = reviews.add_tag(conversation_id, request.form.get("tag", ""), agent.email)
            console().transcripts.query.forget_facets()  # the tag filter should offer it now
            flash(f"Tagged {tag}.")
            return "#review"
        if action == "remove_tag":
            reviews.remove_tag(conversation_id, request.form.get("tag", ""))
            return "#review"
        if action == "add_note":
            reviews.add_note(conversation_id, request.form.get("note", ""), agent.email)
            flash("Note added.")
            return "#notes"
        if action in ("correct", "uncorrect"):
            event_id = int(request.form.get("event_id", ""))
            turn = next((t for t in found.turns if t.event_id == event_id), None)
            if turn is None:
                abort(400, "That message is not part of this conversation.")
            if action == "uncorrect":
                reviews.remove_correction(conversation_id, event_id)
            else:
                intent = validate_intent(request.form.get("intent", ""), console().known_intents)
                reviews.correct_intent(
                    conversation_id, event_id, turn.text or "", turn.intent, turn.confidence, intent, agent.email
                )
                flash(f"Recorded {intent} as the right intent for message {turn.number}.")
            return f"#turn-{turn.number}"
    except ValueError as exc:
        flash(str(exc), "error")
        return "#review"
    abort(400, "Unknown action.")


@bp.route("/corrections")
def corrections() -> Any:
    return render_template("corrections.html", corrections=console().transcripts.reviews.corrections())


@bp.route("/corrections/export.yml")
def corrections_export() -> Any:
    body = nlu_yaml(console().transcripts.reviews.corrections())
    return Response(
        body,
        mimetype="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="nlu-corrections-{_stamp()}.yml"'},
    )
