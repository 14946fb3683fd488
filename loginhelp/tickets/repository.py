"""Synchronous ticket store. Each method is one transaction and returns frozen views, never ORM objects."""
from __future__ import annotations

import builtins
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..contact import contact_matches
from ..db.timeutil import as_utc, utcnow
from .draft import ScreenshotDraft, TicketDraft, merge_steps
from .errors import ReferenceTaken, TicketNotFound
from .models import Ticket, TicketScreenshot, TicketStatusChange
from .references import new_reference, normalise_reference
from .statuses import ACTIVE_STATUSES, OPEN, validate_status
from .views import TicketView

#: Who the history says made a change when the caller does not say.
ASSISTANT = "assistant"

#: A collision needs 6 random characters to repeat; a handful of retries is plenty.
MAX_REFERENCE_ATTEMPTS = 5

#: Upper bound for one page of ``list`` so a typo cannot load the whole table.
MAX_PAGE_SIZE = 1000

_WITH_CHILDREN = (selectinload(Ticket.screenshots), selectinload(Ticket.history))


def _screenshot_row(shot: ScreenshotDraft, now: datetime) -> TicketScreenshot:
    return TicketScreenshot(
        source=shot.source,
        location=shot.location,
        file_name=shot.file_name,
        mime_type=shot.mime_type,
        size_bytes=shot.size_bytes,
        created_at=now,
    )


def _append_block(existing: str | None, addition: str, stamp: str) -> str:
    """Append ``addition`` under a dated separator so agents see what came later."""
    block = f"--- added {stamp} ---\n{addition}"
    return f"{existing}\n\n{block}" if existing else addition


class TicketRepository:
    """Ticket persistence on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # ----------------------------------------------------------------- writes

    def create(
        self,
        draft: TicketDraft,
        *,
        created_by: str = ASSISTANT,
        created_at: datetime | None = None,
        note: str = "ticket created",
    ) -> TicketView:
        """Store a new open ticket.

        Without ``draft.reference`` a fresh reference is drawn, retrying on the
        (rare) unique-constraint collision. With a pre-allocated reference a
        collision raises ReferenceTaken so the caller decides what it means.
        """
        draft = draft.cleaned()
        for _ in range(MAX_REFERENCE_ATTEMPTS):
            reference = draft.reference or new_reference()
            try:
                return self._insert(draft, reference, created_by, created_at, note)
            except IntegrityError:
                if not self._reference_exists(reference):
                    raise
                if draft.reference is not None:
                    raise ReferenceTaken(reference) from None
        raise RuntimeError(
            f"could not allocate a unique ticket reference in {MAX_REFERENCE_ATTEMPTS} attempts"
        )

    def _insert(
        self,
        draft: TicketDraft,
        reference: str,
        created_by: str,
        created_at: datetime | None,
        note: str,
    ) -> TicketView:
        now = utcnow()
        created = as_utc(created_at) if created_at else now
        with self._transaction() as session:
            ticket = Ticket(
                reference=reference,
                contact_email=draft.email,
                contact_phone=draft.phone,
                description=draft.description,
                error_message=draft.error_message,
                steps_tried=list(draft.steps_tried),
                device=draft.device,
                browser_version=draft.browser_version,
                category=draft.category,
                channel=draft.channel,
                conversation_id=draft.conversation_id,
                status=OPEN,
                created_at=created,
                updated_at=now,
            )
            ticket.screenshots = [_screenshot_row(s, now) for s in draft.screenshots]
            ticket.history = [
                TicketStatusChange(
                    old_status=None, new_status=OPEN, note=note, changed_by=created_by, changed_at=created
                )
            ]
            session.add(ticket)
            session.flush()
            return TicketView.from_model(ticket)

    def _reference_exists(self, reference: str) -> bool:
        with self._sessions() as session:
            found = session.execute(select(Ticket.id).where(Ticket.reference == reference)).first()
            return found is not None

    def _load_for_update(self, session: Session, reference: str) -> Ticket:
        ref = normalise_reference(reference)
        ticket = None
        if ref is not None:
            stmt = select(Ticket).where(Ticket.reference == ref).options(*_WITH_CHILDREN).with_for_update()
            ticket = session.execute(stmt).scalar_one_or_none()
        if ticket is None:
            raise TicketNotFound(ref or reference)
        return ticket

    def set_status(
        self, reference: str, status: str, note: str | None = None, changed_by: str = ASSISTANT
    ) -> TicketView:
        """Move a ticket to ``status`` and record who did it; ValueError for unknown statuses."""
        new_status = validate_status(status)
        with self._transaction() as session:
            ticket = self._load_for_update(session, reference)
            now = utcnow()
            ticket.history.append(
                TicketStatusChange(
                    old_status=ticket.status,
                    new_status=new_status,
                    note=(note or "").strip() or None,
                    changed_by=changed_by,
                    changed_at=now,
                )
            )
            ticket.status = new_status
            ticket.updated_at = now
            session.flush()
            return TicketView.from_model(ticket)

    def append_details(
        self, reference: str, draft: TicketDraft, changed_by: str = ASSISTANT
    ) -> TicketView:
        """Add what the customer told us later to an existing ticket instead of filing a duplicate.

        Text is appended under a dated separator, steps are merged without
        duplicates, missing contact/device fields are filled in, screenshots
        are attached, and the history records "details added".
        """
        draft = draft.cleaned()
        with self._transaction() as session:
            ticket = self._load_for_update(session, reference)
            now = utcnow()
            stamp = now.strftime("%Y-%m-%d %H:%M UTC")
            changed = False

            notes: list[str] = []
            if draft.description:
                notes.append(draft.description)
            for label, field_name in (("Device", "device"), ("Browser/app version", "browser_version")):
                new_value = getattr(draft, field_name)
                old_value = getattr(ticket, field_name)
                if new_value and not old_value:
                    setattr(ticket, field_name, new_value)
                    changed = True
                elif new_value and new_value != old_value:
                    notes.append(f"{label}: {new_value}")
            if notes:
                ticket.description = _append_block(ticket.description, "\n".join(notes), stamp)
                changed = True

            if draft.error_message and draft.error_message != ticket.error_message:
                ticket.error_message = _append_block(ticket.error_message, draft.error_message, stamp)
                changed = True

            steps = merge_steps(ticket.steps_tried or [], draft.steps_tried)
            if steps != list(ticket.steps_tried or []):
                ticket.steps_tried = steps
                changed = True

            if draft.email and not ticket.contact_email:
                ticket.contact_email = draft.email
                changed = True
            if draft.phone and not ticket.contact_phone:
                ticket.contact_phone = draft.phone
                changed = True

            if draft.screenshots:
                ticket.screenshots.extend(_screenshot_row(s, now) for s in draft.screenshots)
                changed = True

            if changed:
                ticket.updated_at = now
                ticket.history.append(
                    TicketStatusChange(
                        old_status=ticket.status,
                        new_status=ticket.status,
                        note="details added",
                        changed_by=changed_by,
                        changed_at=now,
                    )
                )
            session.flush()
            return TicketView.from_model(ticket)

    # ------------------------------------------------------------------ reads

    def get(self, reference: str) -> TicketView | None:
        """The ticket with this reference (any case/spacing accepted), or None."""
        ref = normalise_reference(reference)
        if ref is None:
            return None
        with self._sessions() as session:
            stmt = select(Ticket).where(Ticket.reference == ref).options(*_WITH_CHILDREN)
            ticket = session.execute(stmt).scalar_one_or_none()
            return TicketView.from_model(ticket) if ticket else None

    def for_conversation(self, conversation_id: str) -> builtins.list[TicketView]:
        """Every ticket filed from this conversation (Rasa's sender_id), oldest first."""
        stmt = (
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(Ticket.created_at, Ticket.id)
            .options(*_WITH_CHILDREN)
        )
        with self._sessions() as session:
            return [TicketView.from_model(t) for t in session.execute(stmt).scalars()]

    def find_open_for_contact(
        self, email: str | None = None, phone: str | None = None
    ) -> builtins.list[TicketView]:
        """Open or in-progress tickets for this email (any case) or exact phone, newest first."""
        conditions = []
        if email and email.strip():
            conditions.append(func.lower(Ticket.contact_email) == email.strip().lower())
        if phone and phone.strip():
            conditions.append(Ticket.contact_phone == phone.strip())
        if not conditions:
            return []
        stmt = (
            select(Ticket)
            .where(Ticket.status.in_(ACTIVE_STATUSES), or_(*conditions))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .options(*_WITH_CHILDREN)
        )
        with self._sessions() as session:
            return [TicketView.from_model(t) for t in session.execute(stmt).scalars()]

    def status_for(
        self, reference: str, conversation_id: str | None = None, contact: str | None = None
    ) -> TicketView | None:
        """The ticket only if the asker owns it (same conversation or same contact), else None.

        "No such ticket" and "not yours" deliberately look the same, so a
        reference cannot be used to probe for other customers' tickets.
        """
        view = self.get(reference)
        if view is None:
            return None
        if conversation_id and view.conversation_id and conversation_id.strip() == view.conversation_id:
            return view
        if contact and contact_matches(contact, email=view.contact_email, phone=view.contact_phone):
            return view
        return None

    def list(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[TicketView]:
        """Tickets newest first, optionally only those with ``status`` (ValueError if unknown)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        stmt = select(Ticket).options(*_WITH_CHILDREN)
        if status is not None:
            stmt = stmt.where(Ticket.status == validate_status(status))
        stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
        with self._sessions() as session:
            return [TicketView.from_model(t) for t in session.execute(stmt).scalars()]
