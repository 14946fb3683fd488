"""``loginhelp agents token EMAIL``: prints a new personal token once; earlier tokens of that agent stop working."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.cli import main
from loginhelp.handoff.tokens import TOKEN_PREFIX, ApiTokens


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_token_prints_a_working_token_and_revokes_the_previous_one(
    db_url: str, engine: Engine, agents: list[AgentView], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = run(capsys, monkeypatch, "--database-url", db_url, "agents", "token", " Alice@CoinEx.test ")
    assert code == 0 and err == ""
    first = out.strip()
    assert out == first + "\n" and first.startswith(TOKEN_PREFIX)  # only the token: easy to capture in a script
    tokens = ApiTokens(engine)
    assert tokens.agent_id_for(first) == agents[0].id

    code, out, _ = run(capsys, monkeypatch, "--database-url", db_url, "agents", "token", "alice@coinex.test")
    second = out.strip()
    assert code == 0 and second != first
    assert tokens.agent_id_for(first) is None and tokens.agent_id_for(second) == agents[0].id


def test_token_for_an_unknown_or_disabled_agent_fails(
    db_url: str, engine: Engine, agents: list[AgentView], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = run(capsys, monkeypatch, "--database-url", db_url, "agents", "token", "ghost@coinex.test")
    assert code == 1 and out == "" and "No agent with the email ghost@coinex.test" in err and "Traceback" not in err
    AgentRepository(engine).set_active(agents[1].email, False)
    code, out, err = run(capsys, monkeypatch, "--database-url", db_url, "agents", "token", agents[1].email)
    assert code == 1 and out == "" and "disabled" in err


def test_token_needs_an_email(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["agents", "token"])
    assert exited.value.code == 2
    assert "EMAIL" in capsys.readouterr().err


def test_token_refuses_a_database_that_is_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, _, err = run(capsys, monkeypatch, "--database-url", url, "agents", "token", "alice@coinex.test")
    assert code == 1 and "run `loginhelp db upgrade`" in err
