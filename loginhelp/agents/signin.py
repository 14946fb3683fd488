"""Sign-in with rate limiting and an attempt log, both in the database so every console replica agrees.

Limits: at most ``max_failures_per_email`` failed attempts per address (counted
since its last successful sign-in) and ``max_failures_per_ip`` per client
address within ``window``. Attempts refused by the limiter are logged but do
not extend the lock, so it lifts ``window`` after the last counted failure.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import Connection, Engine

from ..db.timeutil import utcnow
from .models import agents, sign_in_attempts
from .passwords import burn_time, hash_password, needs_rehash, verify_password
from .repository import AgentRepository, AgentView, _view

log = logging.getLogger(__name__)

OK = "ok"
BAD_PASSWORD = "bad_password"
UNKNOWN_EMAIL = "unknown_email"
DISABLED = "disabled"
RATE_LIMITED = "rate_limited"
#: Reasons that count towards the limits.
COUNTED_FAILURES = (BAD_PASSWORD, UNKNOWN_EMAIL, DISABLED)


@dataclass(frozen=True)
class SignInResult:
    agent: AgentView | None
    reason: str
    #: Seconds until the limiter lets this address/IP try again (rate_limited only).
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.agent is not None and self.reason == OK


@dataclass(frozen=True)
class AttemptView:
    email: str
    ip: str
    succeeded: bool
    reason: str
    attempted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "ip": self.ip,
            "succeeded": self.succeeded,
            "reason": self.reason,
            "attempted_at": self.attempted_at.isoformat(),
        }


class SignInGuard:
    """Checks credentials, enforces the limits and records every attempt."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_failures_per_email: int = 5,
        max_failures_per_ip: int = 20,
        window: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._repo = AgentRepository(engine)
        self.max_failures_per_email = max_failures_per_email
        self.max_failures_per_ip = max_failures_per_ip
        self.window = window
        self._clock = clock

    def attempt(self, email: str, password: str, ip: str | None) -> SignInResult:
        address = (email or "").strip().lower()[:320]
        client = (ip or "unknown")[:64]
        now = self._clock()
        retry = self._retry_after(address, client, now)
        if retry is not None:
            self._record(address, client, RATE_LIMITED, now)
            return SignInResult(None, RATE_LIMITED, retry)

        with self._engine.connect() as conn:
            row = conn.execute(select(agents).where(agents.c.email == address)).first()
        if row is None:
            burn_time(password)
            return self._fail(address, client, UNKNOWN_EMAIL, now)
        if not verify_password(row.password_hash, password):
            return self._fail(address, client, BAD_PASSWORD, now)
        if not row.active:
            return self._fail(address, client, DISABLED, now)
        if needs_rehash(row.password_hash):
            self._repo.store_rehash(row.id, hash_password(password))
        self._record(address, client, OK, now)
        self._repo.record_sign_in(row.id)
        agent = self._repo.get(row.id)
        return SignInResult(agent or _view(row), OK)

    def recent(self, limit: int = 100, email: str | None = None) -> list[AttemptView]:
        stmt = select(sign_in_attempts).order_by(sign_in_attempts.c.attempted_at.desc(), sign_in_attempts.c.id.desc())
        if email:
            stmt = stmt.where(sign_in_attempts.c.email == email.strip().lower())
        with self._engine.connect() as conn:
            rows = conn.execute(stmt.limit(limit)).all()
        return [AttemptView(r.email, r.ip, bool(r.succeeded), r.reason, r.attempted_at) for r in rows]

    # ---------------------------------------------------------------- helpers

    def _fail(self, address: str, client: str, reason: str, now: datetime) -> SignInResult:
        self._record(address, client, reason, now)
        log.warning("console sign-in failed for %r from %s: %s", address, client, reason)
        return SignInResult(None, reason)

    def _record(self, address: str, client: str, reason: str, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(sign_in_attempts).values(
                    email=address, ip=client, succeeded=reason == OK, reason=reason, attempted_at=now
                )
            )

    def _retry_after(self, address: str, client: str, now: datetime) -> int | None:
        since = now - self.window
        failed = and_(sign_in_attempts.c.succeeded.is_(False), sign_in_attempts.c.reason.in_(COUNTED_FAILURES))
        with self._engine.connect() as conn:
            last_ok = conn.execute(
                select(func.max(sign_in_attempts.c.attempted_at)).where(
                    sign_in_attempts.c.email == address, sign_in_attempts.c.succeeded.is_(True)
                )
            ).scalar()
            email_since = max(since, last_ok) if last_ok else since
            locks = [
                self._locked_until(conn, failed, sign_in_attempts.c.email == address, email_since,
                                   self.max_failures_per_email),
                self._locked_until(conn, failed, sign_in_attempts.c.ip == client, since, self.max_failures_per_ip),
            ]
        waits = [int((until - now).total_seconds()) + 1 for until in locks if until is not None]
        return max(waits) if waits else None

    def _locked_until(self, conn: Connection, failed: Any, who: Any, since: datetime, limit: int) -> datetime | None:
        """When the limit-th most recent failure leaves the window, if there are that many; else None."""
        rows = conn.execute(
            select(sign_in_attempts.c.attempted_at)
            .where(who, failed, sign_in_attempts.c.attempted_at > since)
            .order_by(sign_in_attempts.c.attempted_at.desc())
            .limit(limit)
        ).scalars().all()
        if len(rows) < limit:
            return None
        return rows[limit - 1] + self.window
