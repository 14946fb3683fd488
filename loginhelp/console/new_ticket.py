"""Filing a ticket from the console; from a live chat the form comes pre-filled, the agent edits, then saves.

The assistant files most tickets itself (actions/tickets.py through
TicketService); this form is the agent's way, for a live chat that needs
follow-up. Saving from a chat the agent holds tells the customer the reference
and releases the chat "to ticket", so the customer is not left waiting.
"""
from __future__ import annotations

from typing import Any, Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..contact import normalise_email, normalise_phone
from ..handoff.errors import LiveConflict, LiveNotFound
from ..handoff.models import ACTIVE, CUSTOMER, SYSTEM, TO_TICKET
from ..handoff.repository import LiveConversationView, LiveMessageView
from ..tickets.categories import CATEGORIES, GENERAL
from ..tickets.draft import TicketDraft
from .access import current_agent
from .context import console

bp = Blueprint("new_ticket", __name__)

#: Longest pre-filled description: the live chat is quoted, the agent shortens it.
MAX_DESCRIPTION = 8000
FIELDS = ("email", "phone", "category", "description", "error_message", "steps_tried", "device", "browser_version",
          "channel", "conversation_id")


def prefill(conversation: LiveConversationView, messages: Sequence[LiveMessageView]) -> dict[str, str]:
    """The form's values from what the assistant learned and what was said in the live chat."""
    learned = conversation.context
    contact = str(learned.get("contact") or "").strip()
    steps = learned.get("steps_tried") or []
    branch = str(learned.get("branch") or "").strip()
    said = [
        f"{'Customer' if m.sender == CUSTOMER else 'Agent ' + (m.agent_email or '')}: {m.text}"
        for m in messages if m.sender != SYSTEM
    ]
    description = "The customer asked for a support agent" + (f" (branch: {branch})" if branch else "") + "."
    if said:
        description += "\n\nLive chat:\n" + "\n".join(said)
    return {
        "email": contact if "@" in contact else "",
        "phone": contact if contact and "@" not in contact else "",
        "category": branch or GENERAL,
        "description": description[:MAX_DESCRIPTION],
        "error_message": "",
        "steps_tried": "\n".join(str(s) for s in (steps if isinstance(steps, list) else [steps])),
        "device": str(learned.get("device") or ""),
        "browser_version": str(learned.get("browser") or ""),
        "channel": conversation.channel or "",
        "conversation_id": conversation.conversation_id,
    }


def _draft(values: dict[str, str]) -> TicketDraft:
    """A validated draft from the form; ValueError says what to fix."""
    email = values["email"].strip()
    phone = values["phone"].strip()
    if not values["description"].strip():
        raise ValueError("Describe the problem.")
    draft = TicketDraft(
        email=normalise_email(email) if email else None,
        phone=normalise_phone(phone) if phone else None,
        description=values["description"],
        error_message=values["error_message"],
        steps_tried=[line for line in values["steps_tried"].splitlines() if line.strip()],
        device=values["device"],
        browser_version=values["browser_version"],
        category=values["category"],
        channel=values["channel"],
        conversation_id=values["conversation_id"],
    )
    return draft.cleaned()


def _live_or_404(conversation_id: str) -> LiveConversationView:
    found = console().live.state_of(conversation_id)
    if found is None:
        abort(404, "No live chat with this id: the customer never asked for an agent.")
    return found


@bp.route("/tickets/new", methods=["GET", "POST"])
def form() -> Any:
    agent = current_agent()
    assert agent is not None
    live_id = request.values.get("live") or None
    conversation = _live_or_404(live_id) if live_id else None
    if request.method != "POST":
        values = (prefill(conversation, console().live.conversations.messages_after(conversation.conversation_id, 0))
                  if conversation else {name: "" for name in FIELDS} | {"category": GENERAL})
        return _render(values, conversation, None)

    values = {name: request.form.get(name, "")[:MAX_DESCRIPTION] for name in FIELDS}
    try:
        draft = _draft(values)
    except ValueError as exc:
        return _render(values, conversation, str(exc), 400)
    ticket = console().tickets.create(draft, created_by=agent.email, note="ticket created by an agent")
    message = f"Ticket {ticket.reference} created."
    if conversation is not None and conversation.state == ACTIVE and conversation.claimed_by == agent.id:
        live = console().live
        try:
            live.agent_says(conversation.conversation_id, agent.id,
                            f"I have filed support ticket {ticket.reference} for you; the team will follow up there.")
            live.release(conversation.conversation_id, agent.id, TO_TICKET)
            message += " The customer was given the reference and the chat was turned into the ticket."
        except (LiveConflict, LiveNotFound):
            message += " The live chat had already ended."
    flash(message)
    return redirect(url_for("tickets.detail", reference=ticket.reference))


def _render(values: dict[str, str], conversation: LiveConversationView | None, error: str | None,
            status: int = 200) -> Any:
    categories = list(CATEGORIES)
    if values.get("category") and values["category"] not in categories:
        categories.insert(0, values["category"])
    return render_template("ticket_new.html", values=values, conversation=conversation, error=error,
                           categories=categories), status
