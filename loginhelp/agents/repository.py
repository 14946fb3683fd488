"""Agent accounts: create, look up, change role/password, disable. Returns frozen views, never rows."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from ..db.timeutil import utcnow
from .models import ADMIN, ROLES, agents
from .passwords import check_password_policy, hash_password

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost")


class AgentExists(ValueError):
    """An account with this email already exists."""


class AgentNotFound(LookupError):
    """No account with this email or id."""


class LastAdminError(ValueError):
    """The change would leave the console without an active admin."""


@dataclass(frozen=True)
class AgentView:
    id: int
    email: str
    role: str
    active: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    #: Changes whenever the password changes; sessions remember it so a reset signs out old sessions.
    session_epoch: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "role": self.role,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "last_sign_in_at": self.last_sign_in_at.isoformat() if self.last_sign_in_at else None,
        }


def normalise_email(email: str) -> str:
    """Lower-cased address; a sign-in name, so internal domains (coinex.local) are fine."""
    address = email.strip().lower()
    if len(address) > 320 or not _EMAIL_RE.fullmatch(address):
        raise ValueError(f"{email!r} is not an email address (name@domain).")
    return address


def validate_role(role: str) -> str:
    canonical = role.strip().lower()
    if canonical not in ROLES:
        raise ValueError(f"Unknown role {role!r}; expected one of: {', '.join(ROLES)}")
    return canonical


def _epoch(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _view(row: Row) -> AgentView:
    return AgentView(
        id=row.id,
        email=row.email,
        role=row.role,
        active=bool(row.active),
        created_at=row.created_at,
        last_sign_in_at=row.last_sign_in_at,
        session_epoch=_epoch(row.password_hash),
    )


class AgentRepository:
    """Agent accounts on the console database (the ticket database)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ reads

    def get(self, agent_id: int) -> AgentView | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(agents).where(agents.c.id == agent_id)).first()
        return _view(row) if row else None

    def find(self, email: str) -> AgentView | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(agents).where(agents.c.email == email.strip().lower())).first()
        return _view(row) if row else None

    def password_hash(self, agent_id: int) -> str | None:
        with self._engine.connect() as conn:
            return conn.execute(select(agents.c.password_hash).where(agents.c.id == agent_id)).scalar()

    def list(self) -> list[AgentView]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(agents).order_by(agents.c.email)).all()
        return [_view(r) for r in rows]

    # ----------------------------------------------------------------- writes

    def add(self, email: str, password: str, role: str) -> AgentView:
        address = normalise_email(email)
        role = validate_role(role)
        check_password_policy(password)
        now = utcnow()
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(agents).values(
                        email=address,
                        password_hash=hash_password(password),
                        role=role,
                        active=True,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise AgentExists(f"An agent with the email {address} already exists.") from None
        view = self.find(address)
        assert view is not None
        return view

    def set_password(self, email: str, password: str) -> AgentView:
        check_password_policy(password)
        return self._update(email, password_hash=hash_password(password))

    def store_rehash(self, agent_id: int, password_hash: str) -> None:
        """Replace a hash made with older parameters (same password, so sessions stay valid)."""
        with self._engine.begin() as conn:
            conn.execute(update(agents).where(agents.c.id == agent_id).values(password_hash=password_hash))

    def set_role(self, email: str, role: str) -> AgentView:
        role = validate_role(role)
        return self._update(email, role=role, _check_admins=role != ADMIN)

    def set_active(self, email: str, active: bool) -> AgentView:
        return self._update(email, active=active, _check_admins=not active)

    def record_sign_in(self, agent_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(agents).where(agents.c.id == agent_id).values(last_sign_in_at=utcnow()))

    def _update(self, email: str, _check_admins: bool = False, **values: Any) -> AgentView:
        address = email.strip().lower()
        with self._engine.begin() as conn:
            stmt = select(agents).where(agents.c.email == address)
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            row = conn.execute(stmt).first()
            if row is None:
                raise AgentNotFound(f"No agent with the email {address}.")
            if _check_admins and row.role == ADMIN and row.active:
                admins = conn.execute(
                    select(func.count()).select_from(agents).where(agents.c.role == ADMIN, agents.c.active.is_(True))
                ).scalar_one()
                if admins <= 1:
                    raise LastAdminError("This is the last active admin; make another admin first.")
            conn.execute(update(agents).where(agents.c.id == row.id).values(updated_at=utcnow(), **values))
        view = self.find(address)
        assert view is not None
        return view
