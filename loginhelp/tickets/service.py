"""Async facade over the ticket store for the Rasa action server.

Database work runs on a small dedicated thread pool so a slow or dead database
never blocks other conversations on the event loop. If the database is
unreachable when a ticket is filed, the ticket goes to an on-disk spool under
the reference the customer is shown, and is written later by ``flush_spool``
(called opportunistically before every service call, and periodically).
"""
from __future__ import annotations

import asyncio
import builtins
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from .. import settings
from ..db.engine import database_url as default_database_url
from ..db.engine import make_engine, redact
from ..db.migrate import SchemaBehind, check_schema
from ..db.paths import spool_dir as default_spool_dir
from ..db.timeutil import utcnow
from .draft import TicketDraft
from .errors import ReferenceTaken
from .references import new_reference
from .repository import ASSISTANT, MAX_REFERENCE_ATTEMPTS, TicketRepository
from .spool import TicketSpool
from .views import TicketView

log = logging.getLogger(__name__)

T = TypeVar("T")


def is_database_unavailable(exc: BaseException) -> bool:
    """True for failures that mean "database unreachable/unusable right now", not "bad data".

    A schema behind the code counts: the ticket is spooled (the customer keeps
    the reference) and stored by the first flush after ``loginhelp db upgrade``.
    """
    if isinstance(exc, (SchemaBehind, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


@dataclass(frozen=True)
class CreateResult:
    """The reference to give the customer, and whether the ticket is already in the database."""

    reference: str
    stored: bool


def _same_submission(existing: TicketView, draft: TicketDraft) -> bool:
    """Whether a stored ticket is this draft (stored before, e.g. by a flush that crashed before unlinking)."""
    return (
        existing.conversation_id == draft.conversation_id
        and existing.contact_email == draft.email
        and existing.contact_phone == draft.phone
        and existing.description.startswith(draft.description)
    )


class TicketService:
    """Async ticket operations with a database-outage spool.

    ``database_url`` defaults to :func:`loginhelp.db.engine.database_url`
    (resolved on first use); the engine is created lazily. The service never
    migrates: on first use it checks that the schema is at head and raises
    SchemaBehind ("run `loginhelp db upgrade`") until it is, unless
    ``check_schema=False``.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        check_schema: bool = True,
        spool_dir: Path | str | None = None,
        max_workers: int | None = None,
        retry_seconds: float | None = None,
    ) -> None:
        self._url = database_url
        self._check_schema = check_schema
        self.spool = TicketSpool(spool_dir if spool_dir is not None else default_spool_dir())
        workers = max_workers or int(settings.get("LOGINHELP_DB_THREADS"))
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loginhelp-db")
        #: After a failed opportunistic flush, wait this long before trying again.
        self._retry_seconds = (
            retry_seconds if retry_seconds is not None else float(settings.get("LOGINHELP_SPOOL_RETRY_SECONDS"))
        )
        self._ready_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._engine: Engine | None = None
        self._repository: TicketRepository | None = None
        self._schema_checked = False
        self._flush_not_before = 0.0

    # ------------------------------------------------------------ plumbing

    @property
    def database_url(self) -> str:
        if self._url is None:
            self._url = default_database_url()
        return self._url

    def _repo(self) -> TicketRepository:
        """Engine and schema check on first use; retried on the next call if the database was down or behind."""
        with self._ready_lock:
            if self._repository is None:
                self._engine = make_engine(self.database_url)
                self._repository = TicketRepository(self._engine)
            if self._check_schema and not self._schema_checked:
                try:
                    check_schema(self._engine)
                except SchemaBehind as exc:
                    log.error("Tickets cannot be stored: %s", exc)
                    raise
                self._schema_checked = True
            return self._repository

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the database pool, after giving the spool a chance to drain."""
        loop = asyncio.get_running_loop()
        job = functools.partial(self._after_flush, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, job)

    def _after_flush(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._flush_opportunistically()
        return fn(*args, **kwargs)

    def _flush_opportunistically(self) -> None:
        """Drain the spool if it has anything; never fails the caller's operation."""
        if time.monotonic() < self._flush_not_before or not self.spool.pending():
            return
        try:
            self._flush_sync()
        except Exception as exc:  # noqa: BLE001 - the caller's own operation must still run
            self._flush_not_before = time.monotonic() + self._retry_seconds
            if is_database_unavailable(exc):
                log.warning("Ticket spool not flushed, database still unavailable: %s", exc.__class__.__name__)
            else:
                log.exception("Ticket spool flush failed")

    def _store(
        self, repo: TicketRepository, draft: TicketDraft, created_at: datetime | None = None, note: str = "ticket created"
    ) -> TicketView:
        """Insert ``draft`` under its reference; an identical earlier insert counts as success."""
        told_reference = draft.reference
        for _ in range(MAX_REFERENCE_ATTEMPTS):
            try:
                return repo.create(draft, created_at=created_at, note=note)
            except ReferenceTaken:
                existing = repo.get(draft.reference or "")
                if existing is not None and _same_submission(existing, draft):
                    return existing
                log.error(
                    "Reference %s already belongs to another ticket; filing under a new reference",
                    draft.reference,
                )
                draft = replace(draft, reference=new_reference())
                note = f"{note}; reference {told_reference} was already taken"
        raise RuntimeError("could not store ticket under a unique reference")

    # ----------------------------------------------------------- the spool

    def _flush_sync(self) -> int:
        """Write spooled tickets oldest first; stop at the first database failure (order is kept)."""
        with self._flush_lock:
            paths = self.spool.pending()
            if not paths:
                return 0
            repo = self._repo()
            written = 0
            for path in paths:
                if not path.exists():  # another worker flushed it meanwhile
                    continue
                try:
                    item = self.spool.load(path)
                except (OSError, ValueError) as exc:
                    self.spool.quarantine(path, str(exc))
                    continue
                self._store(
                    repo,
                    item.draft,
                    created_at=item.spooled_at,
                    note="ticket created (delayed: database was unavailable)",
                )
                self.spool.remove(path)  # only after the insert committed
                written += 1
            self._flush_not_before = 0.0
            return written

    async def flush_spool(self) -> int:
        """Store every spooled ticket now; returns how many were processed.

        Raises the database error if the database is still unavailable (the
        files stay in the spool). Safe to run concurrently from several
        processes: a reference already stored is not inserted twice.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._flush_sync)

    async def flush_periodically(self, interval: float | None = None) -> None:
        """Run forever, flushing the spool every ``interval`` seconds (start it as a background task)."""
        delay = interval if interval is not None else self._retry_seconds
        while True:
            await asyncio.sleep(delay)
            try:
                count = await self.flush_spool()
                if count:
                    log.info("Stored %d spooled ticket(s)", count)
            except Exception as exc:  # noqa: BLE001 - keep the loop alive through outages
                if is_database_unavailable(exc):
                    log.warning("Spooled tickets still waiting: database unavailable")
                else:
                    log.exception("Ticket spool flush failed")

    # ------------------------------------------------------------- the API

    async def create(self, draft: TicketDraft) -> CreateResult:
        """File a ticket; if the database is down it is spooled and ``stored`` is False.

        Either way the returned reference is final: tell it to the customer.
        Invalid drafts raise ValueError (they are not spooled).
        """
        draft = draft.cleaned()
        if draft.reference is None:
            draft = replace(draft, reference=new_reference())
        return await self._call(self._create_sync, draft)

    def _create_sync(self, draft: TicketDraft) -> CreateResult:
        submitted_at = utcnow()
        try:
            view = self._store(self._repo(), draft)
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            path = self.spool.put(draft, submitted_at)
            self._flush_not_before = time.monotonic() + self._retry_seconds
            log.warning(
                "Database %s unavailable (%s); ticket %s spooled to %s",
                redact(self.database_url),
                exc.__class__.__name__,
                draft.reference,
                path,
            )
            return CreateResult(reference=draft.reference or "", stored=False)
        return CreateResult(reference=view.reference, stored=True)

    async def get(self, reference: str) -> TicketView | None:
        return await self._call(lambda: self._repo().get(reference))

    async def list(self, status: str | None = None, limit: int = 50, offset: int = 0) -> builtins.list[TicketView]:
        return await self._call(lambda: self._repo().list(status=status, limit=limit, offset=offset))

    async def set_status(
        self, reference: str, status: str, note: str | None = None, changed_by: str = ASSISTANT
    ) -> TicketView:
        return await self._call(lambda: self._repo().set_status(reference, status, note=note, changed_by=changed_by))

    async def find_open_for_contact(
        self, email: str | None = None, phone: str | None = None
    ) -> builtins.list[TicketView]:
        return await self._call(lambda: self._repo().find_open_for_contact(email=email, phone=phone))

    async def append_details(
        self, reference: str, draft: TicketDraft, changed_by: str = ASSISTANT
    ) -> TicketView:
        return await self._call(lambda: self._repo().append_details(reference, draft, changed_by=changed_by))

    async def status_for(
        self, reference: str, conversation_id: str | None = None, contact: str | None = None
    ) -> TicketView | None:
        return await self._call(
            lambda: self._repo().status_for(reference, conversation_id=conversation_id, contact=contact)
        )

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Wait for running database jobs, then release connections."""
        self._executor.shutdown(wait=True)
        if self._engine is not None:
            self._engine.dispose()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> "TicketService":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
