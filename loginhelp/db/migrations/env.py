"""Alembic environment: URL from the Config object (set in code) or ``$DATABASE_URL``."""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from loginhelp.db.engine import database_url, make_engine
from loginhelp.db.schema import all_metadata, is_managed_table

config = context.config

# Only configure logging when run from an .ini file (the alembic CLI); when the
# app migrates programmatically it keeps its own logging setup.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

#: Every table of every package (tickets, agents, the console's transcript index and reviews).
target_metadata = all_metadata()


def _include_name(name: str | None, type_: object, _parents: object) -> bool:
    """Leave alone the tables the models do not describe (full-text search, Rasa's events)."""
    return type_ != "table" or name is None or is_managed_table(name)

#: Arbitrary constant: serialises concurrent upgrades (several action-server workers starting at once).
_PG_MIGRATION_LOCK_ID = 0x4C48_7469  # "LHti"


def _url() -> str:
    return (
        config.attributes.get("database_url")
        or config.get_main_option("sqlalchemy.url")
        or database_url()
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``) without a database connection."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        include_name=_include_name,
        render_as_batch=make_url(url).get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a live connection."""
    engine = make_engine(_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                include_name=_include_name,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID})
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
