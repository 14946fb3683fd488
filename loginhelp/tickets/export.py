"""Ticket export: every ticket (optionally of one status) as CSV rows, paged through the repository."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..exports import csv_lines
from .repository import MAX_PAGE_SIZE, TicketRepository
from .views import TicketView

TICKET_COLUMNS = (
    "reference", "status", "category", "channel", "conversation_id", "contact_email", "contact_phone", "device",
    "browser_version", "description", "error_message", "steps_tried", "screenshots", "created_at", "updated_at",
    "last_note",
)


def iter_tickets(repo: TicketRepository, status: str | None = None) -> Iterator[TicketView]:
    """Every ticket newest first, loaded a page at a time (ValueError for an unknown status)."""
    offset = 0
    while True:
        batch = repo.list(status=status, limit=MAX_PAGE_SIZE, offset=offset)
        yield from batch
        if len(batch) < MAX_PAGE_SIZE:
            return
        offset += MAX_PAGE_SIZE


def tickets_csv(items: Iterable[TicketView]) -> Iterator[str]:
    """One row per ticket; lists flattened with "; ", the history reduced to its last note."""

    def flat(t: TicketView) -> list[Any]:
        d = t.to_dict()
        d["steps_tried"] = "; ".join(d["steps_tried"])
        d["screenshots"] = "; ".join(s["location"] for s in d["screenshots"])
        d["last_note"] = next((h["note"] for h in reversed(d["history"]) if h["note"]), None)
        return [d[c] for c in TICKET_COLUMNS]

    return csv_lines(TICKET_COLUMNS, (flat(t) for t in items))
