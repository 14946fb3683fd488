"""``loginhelp agents ...`` and ``loginhelp transcripts list|show|export``."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable

import pytest
import yaml

from loginhelp.cli import main
from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.synthetic import ConversationWriter

from .conftest import Backend
from .helpers import PASSWORD, T0, ticket_for


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_agents_commands(backend: Backend, capsys, monkeypatch) -> None:
    db = ("--database-url", backend.console_url)
    code, out, _ = run(capsys, monkeypatch, *db, "agents", "add", "Boss@CoinEx.test", "--role", "admin", "--password-stdin",
                       stdin=PASSWORD + "\n")
    assert code == 0 and "Added admin boss@coinex.test" in out
    assert run(capsys, monkeypatch, *db, "agents", "add", "boss@coinex.test", "--password-stdin", stdin=PASSWORD)[0] == 1
    code, _, err = run(capsys, monkeypatch, *db, "agents", "add", "weak@coinex.test", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 12" in err and "Traceback" not in err
    run(capsys, monkeypatch, *db, "agents", "add", "helper@coinex.test", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    listed = json.loads(run(capsys, monkeypatch, *db, "agents", "list", "--json")[1])
    assert [(a["email"], a["role"], a["active"]) for a in listed] == [("boss@coinex.test", "admin", True),
                                                                      ("helper@coinex.test", "agent", True)]
    assert "never" in run(capsys, monkeypatch, *db, "agents", "list")[1]
    assert run(capsys, monkeypatch, *db, "agents", "set-role", "helper@coinex.test", "admin")[0] == 0
    assert run(capsys, monkeypatch, *db, "agents", "disable", "helper@coinex.test")[0] == 0
    code, _, err = run(capsys, monkeypatch, *db, "agents", "disable", "boss@coinex.test")
    assert code == 1 and "last active admin" in err
    assert run(capsys, monkeypatch, *db, "agents", "set-password", "helper@coinex.test", "--password-stdin",
               stdin="another long password")[0] == 0
    assert run(capsys, monkeypatch, *db, "agents", "disable", "ghost@coinex.test")[0] == 1
    assert "No sign-in attempts." in run(capsys, monkeypatch, *db, "agents", "sign-ins")[1]
    # Without a terminal and without --password-stdin the command explains itself.
    code, _, err = run(capsys, monkeypatch, *db, "agents", "add", "x@coinex.test")
    assert code == 2 and "--password-stdin" in err


def test_transcripts_commands(backend: Backend, write: Callable, tickets: TicketRepository, capsys, monkeypatch,
                              tmp_path: Path) -> None:
    a = ConversationWriter("cli-a", T0, "telegram").session_start()
    a.user("my 2fa code is rejected", "twofa_code_rejected", 0.88).action("action_start_branch").bot("Sync your clock.")
    a.slot("branch", "twofa_code").listen().user("yes it worked", "problem_solved", 0.99).action("action_close_case").listen()
    b = ConversationWriter("cli-b", T0 + 100, "socketio").session_start()
    b.user("blah", "nlu_fallback", 0.55).action("action_help_menu").bot("Sorry?").listen()
    write(a, b)
    ticket_for(tickets, "cli-b")
    db = ("--database-url", backend.console_url)
    tr = ("transcripts", "--tracker-url", backend.tracker_url)

    code, out, _ = run(capsys, monkeypatch, *db, *tr, "list")
    assert code == 0 and out.index("cli-b") < out.index("cli-a") and "of 2" in out
    listed = json.loads(run(capsys, monkeypatch, *db, *tr, "list", "--json", "--low-confidence", "yes")[1])
    assert [c["conversation_id"] for c in listed["conversations"]] == ["cli-b"]
    assert listed["conversations"][0]["outcome"] == "ticket"
    assert "cli-a" in run(capsys, monkeypatch, *db, *tr, "list", "-q", "rejected", "--outcome", "solved")[1]
    code, _, err = run(capsys, monkeypatch, *db, *tr, "list", "--from", "yesterday")
    assert code == 2 and "date_from" in err

    code, out, _ = run(capsys, monkeypatch, *db, *tr, "show", "cli-a")
    assert code == 0 and "customer: my 2fa code is rejected" in out and "intent twofa_code_rejected 0.88" in out
    assert "Outcome: solved" in out and "slot branch = \"twofa_code\"" in out
    shown = json.loads(run(capsys, monkeypatch, *db, *tr, "show", "cli-a", "--json")[1])
    assert shown["summary"]["branch"] == "twofa_code" and len(shown["sessions"]) == 1
    assert run(capsys, monkeypatch, *db, *tr, "show", "nobody")[0] == 1

    code, out, _ = run(capsys, monkeypatch, *db, *tr, "export", "--format", "csv", "--channel", "telegram")
    assert [r["conversation_id"] for r in csv.DictReader(io.StringIO(out))] == ["cli-a"]
    target = tmp_path / "all.json"
    assert run(capsys, monkeypatch, *db, *tr, "export", "--format", "json", "--transcripts", "-o", str(target))[0] == 0
    exported = json.loads(target.read_text())
    assert [c["conversation_id"] for c in exported] == ["cli-b", "cli-a"] and exported[1]["transcript"]

    tickets_csv = run(capsys, monkeypatch, *db, *tr, "export-tickets", "--format", "csv")[1]
    assert list(csv.DictReader(io.StringIO(tickets_csv)))[0]["conversation_id"] == "cli-b"
    assert json.loads(run(capsys, monkeypatch, *db, *tr, "export-tickets", "--format", "json", "--status", "closed")[1]) == []
    assert run(capsys, monkeypatch, *db, *tr, "export-tickets", "--status", "bogus")[0] == 2

    assert yaml.safe_load(run(capsys, monkeypatch, *db, *tr, "corrections")[1])["nlu"] == []
    assert "Rebuilt 2 conversation(s)" in run(capsys, monkeypatch, *db, *tr, "index", "--rebuild")[1]
