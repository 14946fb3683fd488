"""Tables for agent accounts and the sign-in attempt log (created by migration 0002, never create_all)."""
from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Index, Integer, String, Table

from ..db.base import metadata
from ..db.timeutil import UTCDateTime

AGENT = "agent"
ADMIN = "admin"
#: Agents work conversations and tickets; admins also manage agent accounts.
ROLES: tuple[str, ...] = (AGENT, ADMIN)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    # Stored lower-cased so sign-in is case-insensitive and unique per person.
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(10), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_sign_in_at", UTCDateTime(), nullable=True),
    CheckConstraint("role IN ('agent', 'admin')", name="role"),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    # ok | bad_password | unknown_email | disabled | rate_limited
    Column("reason", String(32), nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=False),
)
# The rate limiter counts recent failures per address and per IP.
Index("ix_sign_in_attempts_email_attempted_at", sign_in_attempts.c.email, sign_in_attempts.c.attempted_at)
Index("ix_sign_in_attempts_ip_attempted_at", sign_in_attempts.c.ip, sign_in_attempts.c.attempted_at)
