"""Input for filing a ticket: plain data the dialogue fills in, serialisable for the spool."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..contract import ATTACHMENT_KEYS
from .categories import GENERAL
from .references import normalise_reference

#: Column widths the database enforces; checked up front so a long value gives
#: a clear ValueError instead of a backend-specific DataError.
MAX_LENGTHS = {
    "email": 320,
    "phone": 32,
    "category": 40,
    "channel": 40,
    "conversation_id": 255,
}


def _clean(value: str | None) -> str | None:
    """Strip whitespace; empty strings become None so "not given" has one spelling."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def merge_steps(existing: list[str] | tuple[str, ...], new: list[str] | tuple[str, ...]) -> list[str]:
    """Keep order, drop blanks and case-insensitive duplicates."""
    merged: list[str] = []
    seen: set[str] = set()
    for step in [*existing, *new]:
        text = str(step).strip()
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            merged.append(text)
    return merged


@dataclass
class ScreenshotDraft:
    """A screenshot to attach: where it lives (Telegram file id, upload path or URL)."""

    source: str
    location: str
    file_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None

    def cleaned(self) -> "ScreenshotDraft":
        """Validated copy; raises ValueError on unusable input."""
        source = _clean(self.source)
        location = _clean(self.location)
        if not source or len(source) > 40:
            raise ValueError("screenshot source must be a short non-empty label")
        if not location:
            raise ValueError("screenshot location must not be empty")
        size = self.size_bytes
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError("screenshot size_bytes must be a non-negative integer")
        file_name = _clean(self.file_name)
        mime_type = _clean(self.mime_type)
        return ScreenshotDraft(
            source=source,
            location=location,
            # Informational only: trim rather than refuse the whole ticket.
            file_name=file_name[:255] if file_name else None,
            mime_type=mime_type[:100] if mime_type else None,
            size_bytes=size,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScreenshotDraft":
        values: dict[str, Any] = {k: data.get(k) for k in ATTACHMENT_KEYS}
        return cls(**values)


@dataclass
class TicketDraft:
    """What the assistant collected from the customer before filing a ticket.

    ``email``/``phone`` should already be normalised with
    :func:`loginhelp.contact.normalise_contact` (E.164 phones): duplicate
    detection compares phones exactly.

    ``reference`` is set when the reference was allocated before storing (the
    service does this so a spooled ticket keeps the reference the customer saw).
    """

    email: str | None = None
    phone: str | None = None
    description: str = ""
    error_message: str | None = None
    steps_tried: list[str] = field(default_factory=list)
    device: str | None = None
    browser_version: str | None = None
    screenshots: list[ScreenshotDraft] = field(default_factory=list)
    category: str = GENERAL
    channel: str | None = None
    conversation_id: str | None = None
    reference: str | None = None

    def cleaned(self) -> "TicketDraft":
        """Validated, whitespace-normalised copy; raises ValueError on unusable input."""
        reference = None
        if self.reference is not None:
            reference = normalise_reference(self.reference)
            if reference is None:
                raise ValueError(f"invalid ticket reference {self.reference!r}")
        if isinstance(self.steps_tried, str):
            raise ValueError("steps_tried must be a list of strings, not a string")
        draft = replace(
            self,
            email=_clean(self.email),
            phone=_clean(self.phone),
            description=(self.description or "").strip(),
            error_message=_clean(self.error_message),
            steps_tried=merge_steps([], list(self.steps_tried or [])),
            device=_clean(self.device),
            browser_version=_clean(self.browser_version),
            screenshots=[s.cleaned() for s in self.screenshots or []],
            category=(_clean(self.category) or GENERAL).lower(),
            channel=_clean(self.channel),
            conversation_id=_clean(self.conversation_id),
            reference=reference,
        )
        for name, limit in MAX_LENGTHS.items():
            value = getattr(draft, name)
            if value is not None and len(value) > limit:
                raise ValueError(f"{name} is longer than {limit} characters")
        return draft

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by the spool)."""
        data = asdict(self)
        data["steps_tried"] = list(self.steps_tried)
        data["screenshots"] = [s.to_dict() for s in self.screenshots]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TicketDraft":
        """Inverse of to_dict; unknown keys are ignored so old spool files stay readable."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["steps_tried"] = list(values.get("steps_tried") or [])
        values["screenshots"] = [ScreenshotDraft.from_dict(s) for s in values.get("screenshots") or []]
        return cls(**values)
