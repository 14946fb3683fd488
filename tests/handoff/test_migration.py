"""Migration 0004 creates exactly the handoff models' tables and rolls back cleanly (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import make_url

from loginhelp.db.base import metadata
from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import downgrade, upgrade
from loginhelp.handoff import models as handoff_models

from .conftest import HANDOFF_TABLES

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _handoff_metadata() -> MetaData:
    assert handoff_models.live_conversations.metadata is metadata  # on the one shared MetaData Alembic compares
    combined = MetaData()
    for name in (*HANDOFF_TABLES, "agents"):
        metadata.tables[name].to_metadata(combined)
    return combined


def _check(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
            assert set(HANDOFF_TABLES) <= set(inspect(conn).get_table_names())
            model = _handoff_metadata()
            context = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "include_name": lambda name, kind, _p: kind != "table" or name in model.tables},
            )
            assert compare_metadata(context, model) == []
        downgrade(url, "0003")
        names = set(inspect(engine).get_table_names())
        assert not names & set(HANDOFF_TABLES) and "agents" in names
        upgrade(url)
        assert set(HANDOFF_TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_0004_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A new database of its own (the shared test database stays at head); fails when PostgreSQL is unreachable."""
    admin_url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    name = f"loginhelp_handoff_{secrets.token_hex(4)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - a failure, never a skip
        admin.dispose()
        pytest.fail(f"PostgreSQL is not usable at {make_url(admin_url).render_as_string(hide_password=True)} ({exc})",
                    pytrace=False)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_0004_on_postgresql(empty_postgres_url: str) -> None:
    _check(empty_postgres_url)
