"""Support tickets: storage (SQLAlchemy + alembic), references, and the async service for Rasa actions."""
from __future__ import annotations

from .draft import ScreenshotDraft, TicketDraft
from .errors import ReferenceTaken, TicketNotFound
from .references import is_valid_reference, new_reference, normalise_reference
from .repository import TicketRepository
from .service import CreateResult, TicketService
from .statuses import ACTIVE_STATUSES, STATUSES
from .views import ScreenshotView, StatusChangeView, TicketView

__all__ = [
    "ACTIVE_STATUSES",
    "STATUSES",
    "CreateResult",
    "ReferenceTaken",
    "ScreenshotDraft",
    "ScreenshotView",
    "StatusChangeView",
    "TicketDraft",
    "TicketNotFound",
    "TicketRepository",
    "TicketService",
    "TicketView",
    "is_valid_reference",
    "new_reference",
    "normalise_reference",
]
