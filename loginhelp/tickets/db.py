"""Database connection settings, engine construction and schema migration."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from ..sqlite import pragmas_on_connect
from .paths import var_dir

#: The alembic environment ships inside the package so migrations work from an
#: installed wheel and from any working directory.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def url_from_env(name: str) -> str | None:
    """A database URL from the environment variable ``name``, or None when unset."""
    url = os.environ.get(name, "").strip()
    if not url:
        return None
    # Hosting platforms hand out postgres:// which SQLAlchemy 1.4 rejects.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg2://" + url[len("postgres://"):]
    return url


def database_url() -> str:
    """``$DATABASE_URL``, or a SQLite file in the var directory for local runs."""
    return url_from_env("DATABASE_URL") or f"sqlite:///{var_dir() / 'loginhelp.db'}"


def redact(url: str) -> str:
    """URL safe to print in logs and error messages (password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is still worth showing without crashing
        return "<unparseable database URL>"


#: SQLite ignores foreign keys unless asked; WAL lets readers work while a ticket is written.
_enable_sqlite_pragmas = pragmas_on_connect("foreign_keys=ON", "journal_mode=WAL")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create a 2.0-style engine with backend-specific safety settings."""
    url = url or database_url()
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, future=True, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_pragmas)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration built in code (no alembic.ini needed at run time)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: ConfigParser would choke on
    # the '%' of URL-encoded passwords.
    config.attributes["database_url"] = url or database_url()
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` (idempotent; safe to call at every start-up)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None, revision: str) -> None:
    """Run ``alembic downgrade <revision>`` (used by tests and for manual rollbacks)."""
    command.downgrade(alembic_config(database_url), revision)
