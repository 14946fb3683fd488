"""The migrations give the console's table definitions and roll back cleanly (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import downgrade, head_revisions, upgrade
from loginhelp.db.schema import all_metadata
from loginhelp.transcripts.models import CONSOLE_TABLES

from .conftest import Backend, PostgresServer


def _console_metadata() -> MetaData:
    """The console's tables (agents and transcripts) out of the one shared MetaData."""
    combined = MetaData()
    shared = all_metadata()
    for name in (*CONSOLE_TABLES, "agents", "sign_in_attempts"):
        if name in shared.tables:  # conversation_search differs per backend: not a model
            shared.tables[name].to_metadata(combined)
    return combined


def _check(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004" == head_revisions()[0]
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


def test_console_refuses_an_unmigrated_database_until_db_upgrade(tmp_path) -> None:
    """The console never migrates: it refuses to start, with the fix, until `loginhelp db upgrade`."""
    from loginhelp.cli import main
    from loginhelp.console import create_app
    from loginhelp.console.settings import ConsoleSettings
    from loginhelp.db.migrate import SchemaBehind

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    settings = ConsoleSettings(url, f"sqlite:///{tmp_path / 'tracker.db'}", "k")
    with pytest.raises(SchemaBehind, match=r"the database schema is behind: run `loginhelp db upgrade`"):
        create_app(settings)
    assert "agents" not in inspect(make_engine(url)).get_table_names()
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    app = create_app(settings)
    try:
        assert "agents" in inspect(make_engine(url)).get_table_names()
    finally:
        app.extensions["loginhelp_console"].dispose()


def test_console_server_exits_with_the_message(tmp_path) -> None:
    """``python -m loginhelp.console`` on a database that is behind: exit 1, the fix on stderr, no traceback."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "LOGINHELP_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "loginhelp.console", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "the database schema is behind: run `loginhelp db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr


def test_backend_fixture_has_the_events_table(backend: Backend) -> None:
    engine = make_engine(backend.tracker_url)
    try:
        assert "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_0003_adds_the_verdict_and_makes_the_index_summarise_again(tmp_path) -> None:
    """An index built before 0003 is summarised again after it, so old conversations get their verdict column."""
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url, "0002")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO transcript_index_state (id, stable_id, hole_id, hole_since, updated_at) "
                              "VALUES (1, 500, 501, 1.0, 1.0)"))
        upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT stable_id, hole_id FROM transcript_index_state")).one() == (0, None)
            columns = {c["name"] for c in inspect(conn).get_columns("conversation_summaries")}
            assert "address_verdict" in columns
    finally:
        engine.dispose()
