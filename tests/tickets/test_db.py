from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect, text

from loginhelp.db import migrate as db
from loginhelp.db.engine import database_url, make_engine
from loginhelp.db.migrate import downgrade, upgrade
from loginhelp.db.schema import autogenerate_diff

TABLES = {"tickets", "ticket_screenshots", "ticket_status_changes"}


def test_database_url_prefers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db.example:5432/lh")
    assert database_url() == "postgresql+psycopg2://u@db.example:5432/lh"


def test_database_url_accepts_heroku_style_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/lh")
    assert database_url() == "postgresql+psycopg2://u:p@db.example/lh"


def test_default_database_is_sqlite_in_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "state" / "var"
    monkeypatch.setenv("LOGINHELP_VAR_DIR", str(var))
    assert database_url() == f"sqlite:///{var / 'loginhelp.db'}"
    assert var.is_dir()  # created on demand


def test_default_var_dir_is_repo_var(monkeypatch: pytest.MonkeyPatch) -> None:
    from loginhelp.db import paths

    monkeypatch.delenv("LOGINHELP_VAR_DIR")
    assert paths.var_dir(create=False) == Path(db.__file__).resolve().parents[2] / "var"
    assert (paths.REPO_ROOT / "pyproject.toml").is_file()


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            with pytest.raises(sa_exc.IntegrityError, match="FOREIGN KEY"):
                conn.execute(
                    text(
                        "INSERT INTO ticket_screenshots (ticket_id, source, location, created_at) "
                        "VALUES (999, 'upload', '/x.png', '2024-01-01 00:00:00')"
                    )
                )
    finally:
        engine.dispose()


def test_postgres_engine_pings_connections() -> None:
    engine = make_engine("postgresql+psycopg2://u@127.0.0.1:1/x")
    assert engine.pool._pre_ping is True
    sqlite = make_engine("sqlite://")
    assert sqlite.pool._pre_ping is False


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_create_the_model_schema(engine, database_url: str) -> None:
    upgrade(database_url)  # second run is a no-op
    with engine.connect() as conn:
        assert TABLES <= set(inspect(conn).get_table_names())
        head = ScriptDirectory.from_config(db.alembic_config(database_url)).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    # The models of every package (tickets, agents, transcripts) against the migrated database.
    assert autogenerate_diff(database_url) == []
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("tickets")}
    assert indexes["ix_tickets_reference"]["unique"]
    assert {"ix_tickets_status", "ix_tickets_conversation_id", "ix_tickets_contact_phone_status"} <= set(indexes)


def test_downgrade_removes_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(url)
    downgrade(url, "base")
    engine = make_engine(url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_works_from_any_working_directory(tmp_path: Path) -> None:
    """The alembic config is built in code from the package path, not from ./alembic.ini."""
    url = f"sqlite:///{tmp_path / 'cwd.db'}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Only the package under test on the path (the checkout it lives in), nothing from the working directory.
    env = {**os.environ, "PYTHONPATH": str(Path(db.__file__).resolve().parents[2])}
    subprocess.run(
        [sys.executable, "-c", f"from loginhelp.db.migrate import upgrade; upgrade({url!r})"],
        cwd=elsewhere,
        env=env,
        check=True,
    )
    engine = make_engine(url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_no_create_all_in_production_code() -> None:
    package = Path(db.__file__).resolve().parents[1]
    offenders = [p for p in package.rglob("*.py") if "create_all(" in p.read_text(encoding="utf-8")]
    assert offenders == []
