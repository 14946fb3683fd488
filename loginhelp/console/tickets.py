"""Tickets: list by status, detail with the linked transcript, status changes with a note, exports."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..exports import json_array
from ..tickets.errors import TicketNotFound
from ..tickets.export import iter_tickets, tickets_csv
from ..tickets.statuses import STATUSES, validate_status
from .access import current_agent
from .context import console
from .conversations import _int_arg, _stamp, download

bp = Blueprint("tickets", __name__)


def _status_filter() -> str | None:
    raw = request.args.get("status", "").strip()
    if not raw:
        return None
    try:
        return validate_status(raw)
    except ValueError as exc:
        flash(str(exc), "error")
        return None


@bp.route("/tickets")
def index() -> Any:
    ctx = console()
    status = _status_filter()
    page = _int_arg("page", 1)
    per_page = ctx.settings.per_page
    found = ctx.tickets.list(status=status, limit=per_page + 1, offset=(page - 1) * per_page)
    return render_template(
        "tickets.html",
        tickets=found[:per_page],
        status=status,
        page=page,
        has_next=len(found) > per_page,
        statuses=STATUSES,
    )


@bp.route("/tickets/export.<fmt>")
def export(fmt: str) -> Any:
    items = iter_tickets(console().tickets, _status_filter())
    if fmt == "csv":
        return download(tickets_csv(items), "text/csv", f"tickets-{_stamp()}.csv")
    if fmt == "json":
        return download(json_array(t.to_dict() for t in items), "application/json", f"tickets-{_stamp()}.json")
    abort(404)


@bp.route("/tickets/<reference>")
def detail(reference: str) -> Any:
    ctx = console()
    ticket = ctx.tickets.get(reference)
    if ticket is None:
        abort(404, "No ticket with this reference.")
    has_transcript = bool(ticket.conversation_id and ctx.transcripts.reader.conversation(ticket.conversation_id))
    return render_template("ticket.html", ticket=ticket, statuses=STATUSES, has_transcript=has_transcript)


@bp.route("/tickets/<reference>/status", methods=["POST"])
def set_status(reference: str) -> Any:
    agent = current_agent()
    assert agent is not None
    note = request.form.get("note", "").strip()[:2000] or None
    try:
        ticket = console().tickets.set_status(
            reference, request.form.get("status", ""), note=note, changed_by=agent.email
        )
    except TicketNotFound:
        abort(404, "No ticket with this reference.")
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("tickets.detail", reference=reference))
    flash(f"{ticket.reference} is now {ticket.status.replace('_', ' ')}.")
    return redirect(url_for("tickets.detail", reference=ticket.reference))
