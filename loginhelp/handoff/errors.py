"""What can go wrong in a live handoff, as exceptions the console turns into 404 and 409 (bad input is ValueError)."""
from __future__ import annotations


class LiveNotFound(LookupError):
    """No live conversation with this id (the customer never asked for a person)."""


class LiveConflict(RuntimeError):
    """The conversation is not in the state the action needs: claimed by someone else, not yours, no longer live."""
