"""One migration path: only ``loginhelp db upgrade`` migrates; every other command refuses a database that is behind.

Also: Alembic sees every table (env.py's target metadata is the one shared
MetaData), and the models agree with the migrations on a fresh database.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import inspect

from loginhelp.cli import main
from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import SchemaBehind, check_schema, downgrade, head_revisions, upgrade
from loginhelp.db.schema import all_metadata, autogenerate_diff

BEHIND = "the database schema is behind: run `loginhelp db upgrade`"

#: One read-only command of each group that works on an empty, migrated database.
COMMANDS = [
    ["tickets", "list"],
    ["tickets", "show", "LH-ABCDEF"],
    ["tickets", "flush-spool"],
    ["agents", "list"],
    ["agents", "sign-ins"],
    ["transcripts", "list"],
    ["transcripts", "export-tickets"],
    ["transcripts", "corrections"],
]


def _run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--database-url", url, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tracker(argv: list[str], tmp_path: Path) -> list[str]:
    if argv[0] != "transcripts":
        return argv
    return [argv[0], "--tracker-url", f"sqlite:///{tmp_path / 'tracker.db'}", *argv[1:]]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_command_refuses_an_unmigrated_database_then_works_after_db_upgrade(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    argv = _tracker(argv, tmp_path)

    code, out, err = _run(capsys, url, *argv)
    assert code == 1, (out, err)
    assert BEHIND in err and "Traceback" not in err
    engine = make_engine(url)
    try:
        assert "tickets" not in inspect(engine).get_table_names()  # nothing migrated behind our back
    finally:
        engine.dispose()

    assert _run(capsys, url, "db", "upgrade")[0] == 0
    code, out, err = _run(capsys, url, *argv)
    expected = 1 if argv[:2] == ["tickets", "show"] else 0  # the one command that looks for a missing ticket
    assert code == expected, (out, err)
    assert BEHIND not in err


def test_a_database_one_migration_behind_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    downgrade(url, "-1")
    code, _, err = _run(capsys, url, "agents", "list")
    assert code == 1 and BEHIND in err and f"needs {', '.join(head_revisions())}" in err
    assert _run(capsys, url, "db", "upgrade")[0] == 0
    assert _run(capsys, url, "agents", "list")[0] == 0


def test_check_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    try:
        with pytest.raises(SchemaBehind, match="at revision none"):
            check_schema(engine)
        upgrade(url)
        check_schema(engine)
    finally:
        engine.dispose()


def test_alembic_sees_every_table() -> None:
    """env.py targets the shared MetaData: tickets', agents' and the console's tables alike."""
    names = set(all_metadata().tables)
    assert {"tickets", "ticket_screenshots", "ticket_status_changes", "agents", "sign_in_attempts",
            "conversation_summaries", "conversation_reviews", "intent_corrections"} <= names
    env = (Path(__file__).resolve().parents[1] / "loginhelp" / "db" / "migrations" / "env.py").read_text()
    assert "target_metadata = all_metadata()" in env


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_models_match_the_migrations(database_url: str) -> None:
    """What `alembic check` does: autogenerate finds nothing to add on a migrated database."""
    assert autogenerate_diff(database_url) == []
