"""Migration 0002 matches the console's table definitions and rolls back cleanly (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from loginhelp.agents.models import metadata as agent_metadata
from loginhelp.tickets.db import downgrade, make_engine, upgrade
from loginhelp.transcripts.models import CONSOLE_TABLES
from loginhelp.transcripts.models import metadata as transcript_metadata

from .conftest import Backend, PostgresServer


def _console_metadata() -> MetaData:
    combined = MetaData()
    for source in (agent_metadata, transcript_metadata):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


def _check(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
            names = set(inspect(conn).get_table_names())
            assert set(CONSOLE_TABLES) | {"agents", "sign_in_attempts"} <= names
            model = _console_metadata()
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, parent: kind != "table" or name in model.tables,
                },
            )
            assert compare_metadata(context, model) == []
        downgrade(url, "0001")
        names = set(inspect(engine).get_table_names())
        assert {"tickets", "ticket_status_changes"} <= names
        assert not names & (set(CONSOLE_TABLES) | {"agents", "sign_in_attempts"})
        upgrade(url)
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migration_on_sqlite(tmp_path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migration_on_postgresql(postgres: PostgresServer) -> None:
    _check(postgres.create_database())


def test_console_start_migrates_an_empty_database(tmp_path) -> None:
    from loginhelp.console import create_app
    from loginhelp.console.settings import ConsoleSettings

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(ConsoleSettings(url, f"sqlite:///{tmp_path / 'tracker.db'}", "k"))
    try:
        assert "agents" in inspect(make_engine(url)).get_table_names()
    finally:
        app.extensions["loginhelp_console"].dispose()


def test_backend_fixture_has_the_events_table(backend: Backend) -> None:
    engine = make_engine(backend.tracker_url)
    try:
        assert "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
