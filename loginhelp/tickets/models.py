"""ORM models for support tickets. Schema changes go through alembic migrations, never create_all."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, relationship

from ..db.base import Base
from ..db.timeutil import UTCDateTime, utcnow
from .categories import GENERAL
from .statuses import OPEN, STATUSES

_STATUS_SQL_LIST = ", ".join(f"'{s}'" for s in STATUSES)


class Ticket(Base):
    """A customer's login problem, filed by the assistant for a human agent."""

    __tablename__ = "tickets"

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), nullable=False, unique=True, index=True)
    contact_email: Mapped[str | None] = Column(String(320), nullable=True)
    contact_phone: Mapped[str | None] = Column(String(32), nullable=True)
    description: Mapped[str] = Column(Text, nullable=False, default="")
    error_message: Mapped[str | None] = Column(Text, nullable=True)
    steps_tried: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    device: Mapped[str | None] = Column(Text, nullable=True)
    browser_version: Mapped[str | None] = Column(Text, nullable=True)
    category: Mapped[str] = Column(String(40), nullable=False, default=GENERAL)
    channel: Mapped[str | None] = Column(String(40), nullable=True)
    conversation_id: Mapped[str | None] = Column(String(255), nullable=True, index=True)
    status: Mapped[str] = Column(String(20), nullable=False, default=OPEN, index=True)
    created_at: Mapped[datetime] = Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    screenshots: Mapped[list["TicketScreenshot"]] = relationship(
        "TicketScreenshot",
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by="TicketScreenshot.id",
    )
    history: Mapped[list["TicketStatusChange"]] = relationship(
        "TicketStatusChange",
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by="(TicketStatusChange.changed_at, TicketStatusChange.id)",
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL_LIST})", name="status"),
    )


# Duplicate detection: "does this contact already have an open ticket?" Email is
# compared case-insensitively, hence the expression index.
Index("ix_tickets_contact_email_lower_status", func.lower(Ticket.contact_email), Ticket.status)
Index("ix_tickets_contact_phone_status", Ticket.contact_phone, Ticket.status)


class TicketScreenshot(Base):
    """A screenshot the customer shared; we keep where it is, not the image itself."""

    __tablename__ = "ticket_screenshots"

    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[str] = Column(String(40), nullable=False)
    location: Mapped[str] = Column(Text, nullable=False)
    file_name: Mapped[str | None] = Column(String(255), nullable=True)
    mime_type: Mapped[str | None] = Column(String(100), nullable=True)
    size_bytes: Mapped[int | None] = Column(Integer, nullable=True)
    created_at: Mapped[datetime] = Column(UTCDateTime(), nullable=False, default=utcnow)

    ticket: Mapped[Ticket] = relationship(Ticket, back_populates="screenshots")


class TicketStatusChange(Base):
    """Audit trail: who moved a ticket to which status, and why."""

    __tablename__ = "ticket_status_changes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    old_status: Mapped[str | None] = Column(String(20), nullable=True)
    new_status: Mapped[str] = Column(String(20), nullable=False)
    note: Mapped[str | None] = Column(Text, nullable=True)
    changed_by: Mapped[str] = Column(String(320), nullable=False)
    changed_at: Mapped[datetime] = Column(UTCDateTime(), nullable=False, default=utcnow)

    ticket: Mapped[Ticket] = relationship(Ticket, back_populates="history")
