"""Schema migrations (Alembic) and the check every other entry point makes instead of migrating.

One migration path: ``loginhelp db upgrade`` (scripts/run.sh, scripts/prod_migrate.sh,
the tests' fixtures). Commands, the ticket service and the console call
:func:`check_schema` and refuse to work on a database whose schema is behind.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .engine import database_url, redact

#: The alembic environment ships inside the package so migrations work from an
#: installed wheel and from any working directory.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

UPGRADE_HINT = "run `loginhelp db upgrade`"


class SchemaBehind(RuntimeError):
    """The database is not at the migrations' head: someone must run ``loginhelp db upgrade``."""

    def __init__(self, url: str, current: tuple[str, ...], heads: tuple[str, ...]) -> None:
        self.url = url
        self.current = current
        self.heads = heads
        unknown = [rev for rev in current if rev not in _known_revisions()]
        if unknown:
            message = (
                f"the database schema of {url} is at revision {', '.join(unknown)}, which this code does not "
                f"know (newer code migrated it?); expected {', '.join(heads)}"
            )
        else:
            message = (
                f"the database schema is behind: {UPGRADE_HINT} (database {url} is at revision "
                f"{', '.join(current) or 'none'}, this code needs {', '.join(heads)})"
            )
        super().__init__(message)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration built in code (no alembic.ini needed at run time)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: ConfigParser would choke on
    # the '%' of URL-encoded passwords.
    config.attributes["database_url"] = url or database_url()
    return config


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


@lru_cache(maxsize=1)
def head_revisions() -> tuple[str, ...]:
    """The revisions a fully migrated database is at."""
    return tuple(sorted(_script().get_heads()))


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script().walk_revisions())


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions recorded in the database's ``alembic_version`` table (empty when never migrated)."""
    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def check_schema(engine: Engine) -> None:
    """Raise SchemaBehind unless the database is at head (one cheap query; nothing is changed)."""
    current = current_revisions(engine)
    heads = head_revisions()
    if current != heads:
        raise SchemaBehind(redact(engine.url), current, heads)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` (idempotent); only ``loginhelp db upgrade`` and tests call it."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None, revision: str) -> None:
    """Run ``alembic downgrade <revision>`` (used by tests and for manual rollbacks)."""
    command.downgrade(alembic_config(url), revision)

