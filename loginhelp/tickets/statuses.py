"""Ticket lifecycle statuses, kept in one place so the CLI, the dialogue and the DB agree."""
from __future__ import annotations

OPEN = "open"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"

#: Every status a ticket may have, in lifecycle order.
STATUSES: tuple[str, ...] = (OPEN, IN_PROGRESS, RESOLVED, CLOSED)

#: Statuses that count as "still being worked on" for duplicate detection.
ACTIVE_STATUSES: tuple[str, ...] = (OPEN, IN_PROGRESS)


def validate_status(status: str) -> str:
    """Return the canonical spelling of ``status`` or raise ValueError.

    Accepts case and separator variants ("In progress", "in-progress") because
    agents type them by hand in the CLI.
    """
    canonical = status.strip().lower().replace("-", "_").replace(" ", "_")
    if canonical not in STATUSES:
        raise ValueError(
            f"Unknown ticket status {status!r}; expected one of: {', '.join(STATUSES)}"
        )
    return canonical
