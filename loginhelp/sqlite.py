"""SQLite connection settings, shared by every engine the project opens on a SQLite file."""
from __future__ import annotations

from typing import Any, Callable


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
