"""The complete schema: imports every package's models so ``metadata`` holds every table.

Kept apart from ``loginhelp.db.base`` because the models import the base: the
domain packages depend on ``loginhelp.db``, and only this module (used by
Alembic's env.py and by tests) looks back at them.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from ..agents import models as _agents  # noqa: F401 - registers agents, sign_in_attempts
from ..handoff import models as _handoff  # noqa: F401 - registers live_conversations, live_messages, ...
from ..tickets import models as _tickets  # noqa: F401 - registers tickets, ticket_screenshots, ...
from ..transcripts import models as _transcripts  # noqa: F401 - registers the console's conversation tables
from .base import metadata
from .engine import make_engine

#: Tables in the database that the models do not describe, so autogenerate leaves them alone:
#: the full-text table differs per backend (FTS5 virtual table and its shadow tables on
#: SQLite, a generated tsvector on PostgreSQL; migration 0002 creates it), and Rasa's
#: tracker store ``events`` table may share the database (Rasa creates it).
UNMANAGED_TABLE_PREFIXES: tuple[str, ...] = ("conversation_search",)
UNMANAGED_TABLES: frozenset[str] = frozenset({"events"})


def is_managed_table(name: str) -> bool:
    """Whether Alembic should compare the table ``name`` against the models."""
    return name not in UNMANAGED_TABLES and not name.startswith(UNMANAGED_TABLE_PREFIXES)


def all_metadata() -> MetaData:
    """The MetaData with every model's table registered."""
    return metadata


def autogenerate_diff(url: str) -> list[object]:
    """What ``alembic revision --autogenerate`` would emit for the database at ``url`` (empty: in step)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, _parents: type_ != "table" or is_managed_table(name),
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()
