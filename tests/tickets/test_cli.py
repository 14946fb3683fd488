from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect

from loginhelp.cli import build_parser, main
from loginhelp.db.engine import make_engine
from loginhelp.tickets.draft import TicketDraft
from loginhelp.tickets.repository import TicketRepository
from loginhelp.tickets.service import TicketService
from loginhelp.tickets.views import TicketView

UNREACHABLE_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:1/loginhelp"

ALL_FIELDS = {
    "reference", "status", "contact_email", "contact_phone", "description", "error_message",
    "steps_tried", "device", "browser_version", "category", "channel", "conversation_id",
    "created_at", "updated_at", "screenshots", "history",
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def _spool_one(draft: TicketDraft, spool: Path) -> str:
    """File a ticket while the database is down, so it lands in ``spool``."""
    async with TicketService(UNREACHABLE_POSTGRES_URL, spool_dir=spool) as down:
        result = await down.create(draft)
    assert not result.stored
    return result.reference


def _seed(url: str, *drafts) -> list[TicketView]:
    engine = make_engine(url)
    try:
        repo = TicketRepository(engine)
        return [repo.create(d) for d in drafts]
    finally:
        engine.dispose()


def test_db_upgrade_creates_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, err = _run(capsys, "--database-url", url, "db", "upgrade")
    assert (code, err) == (0, "")
    assert "head" in out
    engine = make_engine(url)
    try:
        assert {"tickets", "ticket_screenshots", "ticket_status_changes"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_database_url_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_file = tmp_path / "env.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")
    assert _run(capsys, "db", "upgrade")[0] == 0
    assert db_file.exists()


def test_show_json_has_every_field(make_draft, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    [view] = _seed(database_url, make_draft())
    code, out, err = _run(capsys, "--database-url", database_url, "tickets", "show", view.reference.lower(), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == ALL_FIELDS
    assert data == view.to_dict()


def test_show_human_readable(make_draft, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    [view] = _seed(database_url, make_draft())
    code, out, _ = _run(capsys, "--database-url", database_url, "tickets", "show", view.reference)
    assert code == 0
    for expected in (
        view.reference, "alice@gmail.com", "+447911123456", "Invalid verification code (error 2003)",
        "- synced phone clock", "[telegram] AgACAgQAAxkBAAIBQ2V (error.png, image/png, 48213 bytes)",
        "open  by assistant: ticket created", "iPhone 13, iOS 17.1", "CoinEx app 3.24.1", "tg-123456789",
    ):
        assert expected in out


def test_list_table_json_status_and_limit(make_draft, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first, second, third = _seed(
        database_url,
        make_draft(description="first"),
        make_draft(description="second", email=None),
        make_draft(description="third"),
    )
    assert _run(capsys, "--database-url", database_url, "tickets", "set-status", first.reference, "resolved")[0] == 0

    code, out, _ = _run(capsys, "--database-url", database_url, "tickets", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["REFERENCE", "STATUS", "CATEGORY", "CHANNEL", "CONTACT", "CREATED", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == [third.reference, second.reference, first.reference]
    assert "+447911123456" in lines[2]  # contact falls back to the phone number

    code, out, _ = _run(capsys, "--database-url", database_url, "tickets", "list", "--status", "open", "--json")
    data = json.loads(out)
    assert [t["reference"] for t in data] == [third.reference, second.reference]
    assert all(set(t) == ALL_FIELDS for t in data)

    code, out, _ = _run(capsys, "--database-url", database_url, "tickets", "list", "--limit", "1", "--json")
    assert [t["reference"] for t in json.loads(out)] == [third.reference]


def test_list_empty(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "--database-url", sqlite_url, "tickets", "list") == (0, "No tickets.\n", "")
    assert _run(capsys, "--database-url", sqlite_url, "tickets", "list", "--json") == (0, "[]\n", "")


def test_set_status_records_note(make_draft, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    [view] = _seed(sqlite_url, make_draft())
    code, out, err = _run(
        capsys, "--database-url", sqlite_url, "tickets", "set-status", view.reference, "in-progress",
        "--note", "called the customer",
    )
    assert (code, out, err) == (0, f"{view.reference} is now in_progress.\n", "")
    code, out, _ = _run(capsys, "--database-url", sqlite_url, "tickets", "show", view.reference, "--json")
    last = json.loads(out)["history"][-1]
    assert (last["old_status"], last["new_status"], last["note"], last["changed_by"]) == (
        "open", "in_progress", "called the customer", "cli",
    )


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["tickets", "show", "LH-ZZZZZZ"], 1, "No ticket with reference LH-ZZZZZZ."),
        (["tickets", "show", "LH-0O0O0O"], 2, "is not a ticket reference"),
        (["tickets", "set-status", "LH-ZZZZZZ", "closed"], 1, "No ticket with reference LH-ZZZZZZ."),
        (["tickets", "list", "--status", "pending"], 2, "Unknown ticket status 'pending'"),
        (["tickets", "list", "--limit", "0"], 2, "limit must be between"),
    ],
)
def test_errors_are_one_clear_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    result, out, err = _run(capsys, "--database-url", sqlite_url, *argv)
    assert result == code
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("loginhelp: ") and err.count("\n") == 1


def test_bad_status_is_rejected(make_draft, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    [view] = _seed(sqlite_url, make_draft())
    code, _, err = _run(capsys, "--database-url", sqlite_url, "tickets", "set-status", view.reference, "done")
    assert code == 2
    assert "Unknown ticket status 'done'; expected one of: open, in_progress, resolved, closed" in err
    code, out, _ = _run(capsys, "--database-url", sqlite_url, "tickets", "show", view.reference, "--json")
    assert json.loads(out)["status"] == "open"


@pytest.mark.parametrize(
    "argv",
    [
        ["tickets", "list"],
        ["tickets", "show", "LH-ABCDEF"],
        ["tickets", "set-status", "LH-ABCDEF", "closed"],
        ["db", "upgrade"],
    ],
)
def test_unreachable_database(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = _run(capsys, "--database-url", UNREACHABLE_POSTGRES_URL, *argv)
    assert code == 1
    assert err.startswith("loginhelp: Cannot reach the database postgresql+psycopg2://postgres@127.0.0.1:1/loginhelp")
    assert "Traceback" not in err


def test_flush_spool_with_database_down_keeps_the_file(
    make_draft, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    asyncio.run(_spool_one(make_draft(), spool))
    monkeypatch.setenv("LOGINHELP_SPOOL_DIR", str(spool))
    code, out, err = _run(capsys, "--database-url", UNREACHABLE_POSTGRES_URL, "tickets", "flush-spool")
    assert (code, out) == (1, "")
    assert err.startswith("loginhelp: Cannot reach the database")
    assert len(list(spool.glob("*.json"))) == 1


def test_unmigrated_database_says_how_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = _run(capsys, "--database-url", url, "tickets", "list")
    assert code == 1
    assert "run `loginhelp db upgrade`" in err


def test_password_is_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--database-url", "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x", "tickets", "list")
    assert code == 1
    assert "s3cret" not in err and "***" in err


def test_flush_spool(
    make_draft, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    reference = asyncio.run(_spool_one(make_draft(), spool))
    monkeypatch.setenv("LOGINHELP_SPOOL_DIR", str(spool))
    assert _run(capsys, "--database-url", sqlite_url, "tickets", "flush-spool") == (0, "Stored 1 spooled ticket(s).\n", "")
    code, out, _ = _run(capsys, "--database-url", sqlite_url, "tickets", "show", reference, "--json")
    assert code == 0 and json.loads(out)["reference"] == reference
    assert _run(capsys, "--database-url", sqlite_url, "tickets", "flush-spool")[1] == "Stored 0 spooled ticket(s).\n"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["tickets", "show"])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_new_command_groups_plug_in(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Later issues add `loginhelp agents ...`; a group is just one more register function."""
    from loginhelp import cli

    def register_agents(commands) -> None:
        agents = commands.add_parser("agents", help="support agents")
        sub = agents.add_subparsers(dest="action", required=True)
        sub.add_parser("list").set_defaults(handler=lambda args, out: out.write("agents!\n") and 0)

    monkeypatch.setattr(cli, "COMMAND_GROUPS", (*cli.COMMAND_GROUPS, register_agents))
    assert "agents" in build_parser().format_help()
    assert _run(capsys, "agents", "list") == (0, "agents!\n", "")
