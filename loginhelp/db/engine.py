"""The one engine factory: database URLs from the environment, SQLite pragmas, pools, URL redaction.

Every engine the project opens (tickets and console, the console's read-only
view of Rasa's tracker store, the redacting tracker store's SQLite pool) comes
from :func:`make_engine`, so backend-specific safety settings live in one place.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url

from .. import settings
from .paths import REPO_ROOT, var_dir

#: SQLite ignores foreign keys unless asked; WAL lets readers work while a ticket is written.
DEFAULT_SQLITE_PRAGMAS: tuple[str, ...] = ("foreign_keys=ON", "journal_mode=WAL")


def database_url() -> str:
    """``$DATABASE_URL``, or a SQLite file in the var directory for local runs."""
    return settings.get("DATABASE_URL") or f"sqlite:///{var_dir() / 'loginhelp.db'}"


def tracker_database_url() -> str:
    """``$TRACKER_DATABASE_URL``, else the SQLite file endpoints.yml points Rasa at (var/tracker.db)."""
    return settings.get("TRACKER_DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'tracker.db'}"


def redact(url: str | URL) -> str:
    """URL safe to print in logs and error messages (password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is still worth showing without crashing
        return "<unparseable database URL>"


def pragmas_on_connect(*pragmas: str) -> Callable[[Any, Any], None]:
    """A SQLAlchemy ``connect`` listener that runs ``PRAGMA <p>`` for each of ``pragmas``.

    Most PRAGMAs (foreign_keys, synchronous, busy_timeout, query_only) hold per
    connection, so they must run on every new connection of the pool.
    """

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    return on_connect


def make_engine(
    url: str | URL | None = None,
    *,
    sqlite_pragmas: Sequence[str] = DEFAULT_SQLITE_PRAGMAS,
    future: bool = True,
    **kwargs: Any,
) -> Engine:
    """An engine with the backend's safety settings; ``url`` defaults to :func:`database_url`.

    ``sqlite_pragmas`` run on every new SQLite connection (the tracker reader
    asks for ``query_only``, the tracker store for ``synchronous=NORMAL``).
    ``future=False`` only for Rasa's tracker store, whose ORM code is 1.x style.
    Other keyword arguments go to ``create_engine`` (pool class and sizes, connect_args).
    """
    url = url or database_url()
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, future=future, **kwargs)
    if backend == "sqlite" and sqlite_pragmas:
        event.listen(engine, "connect", pragmas_on_connect(*sqlite_pragmas))
    return engine
