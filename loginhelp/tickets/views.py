"""Read-only snapshots of stored tickets, so callers never hold an ORM object or a session."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Ticket, TicketScreenshot, TicketStatusChange


def _iso(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class ScreenshotView:
    source: str
    location: str
    file_name: str | None
    mime_type: str | None
    size_bytes: int | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: TicketScreenshot) -> "ScreenshotView":
        return cls(
            source=row.source,
            location=row.location,
            file_name=row.file_name,
            mime_type=row.mime_type,
            size_bytes=row.size_bytes,
            created_at=row.created_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "location": self.location,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True)
class StatusChangeView:
    old_status: str | None
    new_status: str
    note: str | None
    changed_by: str
    changed_at: datetime

    @classmethod
    def from_model(cls, row: TicketStatusChange) -> "StatusChangeView":
        return cls(
            old_status=row.old_status,
            new_status=row.new_status,
            note=row.note,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_status": self.old_status,
            "new_status": self.new_status,
            "note": self.note,
            "changed_by": self.changed_by,
            "changed_at": _iso(self.changed_at),
        }


@dataclass(frozen=True)
class TicketView:
    reference: str
    status: str
    contact_email: str | None
    contact_phone: str | None
    description: str
    error_message: str | None
    steps_tried: tuple[str, ...]
    device: str | None
    browser_version: str | None
    category: str
    channel: str | None
    conversation_id: str | None
    created_at: datetime
    updated_at: datetime
    screenshots: tuple[ScreenshotView, ...]
    history: tuple[StatusChangeView, ...]

    @classmethod
    def from_model(cls, row: Ticket) -> "TicketView":
        """Snapshot a loaded ticket (screenshots and history must be loaded)."""
        return cls(
            reference=row.reference,
            status=row.status,
            contact_email=row.contact_email,
            contact_phone=row.contact_phone,
            description=row.description,
            error_message=row.error_message,
            steps_tried=tuple(row.steps_tried or ()),
            device=row.device,
            browser_version=row.browser_version,
            category=row.category,
            channel=row.channel,
            conversation_id=row.conversation_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            screenshots=tuple(ScreenshotView.from_model(s) for s in row.screenshots),
            history=tuple(StatusChangeView.from_model(h) for h in row.history),
        )

    def to_dict(self) -> dict[str, Any]:
        """Every stored field under plain names, JSON-ready (timestamps in ISO 8601 UTC)."""
        return {
            "reference": self.reference,
            "status": self.status,
            "contact_email": self.contact_email,
            "contact_phone": self.contact_phone,
            "description": self.description,
            "error_message": self.error_message,
            "steps_tried": list(self.steps_tried),
            "device": self.device,
            "browser_version": self.browser_version,
            "category": self.category,
            "channel": self.channel,
            "conversation_id": self.conversation_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "screenshots": [s.to_dict() for s in self.screenshots],
            "history": [h.to_dict() for h in self.history],
        }
