"""Exceptions callers of the ticket store are expected to handle."""
from __future__ import annotations


class TicketNotFound(LookupError):
    """No ticket has this reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"No ticket with reference {reference}")
        self.reference = reference


class ReferenceTaken(Exception):
    """A pre-allocated reference is already used by a stored ticket."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"Reference {reference} is already in use")
        self.reference = reference
