"""Live handoff in the conversation list and the transcript: outcome 'handed to an agent', wait and handling time,
agent lines marked with the agent's email among the assistant's turns."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loginhelp.agents.repository import AgentRepository
from loginhelp.handoff.figures import figures
from loginhelp.handoff.repository import LiveRepository
from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.queries import ConversationFilters
from loginhelp.transcripts.service import TranscriptService
from loginhelp.transcripts.synthetic import ConversationWriter

from .helpers import AGENT_EMAIL, ticket_for

START = time.time() - 3600  # the assistant's turns an hour ago; the live chat between them


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(START + offset, tz=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> datetime:
        return self.now


def two_turns(cid: str) -> ConversationWriter:
    w = ConversationWriter(cid, START, "socketio").session_start()
    w.user("i cant log in", "login_problem", 0.9).bot("Which device?").listen()
    w.user("talk to a human", "contact_support", 0.95).bot("Connecting you to an agent.").listen()
    return w


def live_chat(service: TranscriptService, cid: str, agent_id: int, *, release: bool = True) -> None:
    """Queued at +10 s, claimed at +40 s, one line each way, released at +340 s (handling 300 s)."""
    clock = Clock()
    repo = LiveRepository(service.console_engine, clock=clock, wait_limit=timedelta(days=1))
    clock.now = at(10)
    repo.enqueue(cid, "socketio", {"branch": "twofa_code"})
    clock.now = at(40)
    repo.claim(cid, agent_id)
    clock.now = at(50)
    repo.append(cid, "agent", "Hi, <b>I am</b> here", agent_id=agent_id)
    clock.now = at(60)
    repo.append(cid, "customer", "my password is hunter2secret and it fails")
    if release:
        clock.now = at(340)
        repo.release(cid, agent_id, "assistant")


def test_figures_definitions() -> None:
    queued, claimed, released, now = at(0), at(30), at(330), at(1000)
    assert figures(queued, claimed, released, now).wait_seconds == 30
    assert figures(queued, claimed, released, now).handling_seconds == 300
    assert figures(queued, claimed, None, now).handling_seconds == 970  # still with the agent
    assert figures(queued, None, released, now) == figures(queued, None, released, at(5000))  # expired: to the release
    assert figures(queued, None, None, now).wait_seconds == 1000 and figures(queued, None, None, now).handling_seconds is None


def test_outcome_and_figures_in_the_list(app: Flask, accounts: AgentRepository, service: TranscriptService,
                                         write: Callable, agent_client: FlaskClient, tickets: TicketRepository) -> None:
    write(two_turns("live-1"), two_turns("asked-1"), two_turns("ticketed-1"))
    agent = accounts.find(AGENT_EMAIL)
    assert agent is not None
    live_chat(service, "live-1", agent.id)
    live_chat(service, "ticketed-1", agent.id)
    ticket_for(tickets, "ticketed-1")
    LiveRepository(service.console_engine).enqueue("asked-1", "socketio")  # asked, nobody took it
    service.refresh(force=True)

    rows = {r.conversation_id: r for r in service.query.page(ConversationFilters()).rows}
    assert rows["live-1"].outcome == "agent" and rows["live-1"].outcome_label == "handed to an agent"
    assert rows["asked-1"].outcome == "handed"  # contact_support without an agent taking the chat
    assert rows["ticketed-1"].outcome == "ticket"  # a ticket wins over the live chat
    assert rows["live-1"].wait_seconds == pytest.approx(30, abs=1)
    assert rows["live-1"].handling_seconds == pytest.approx(300, abs=1)
    assert rows["asked-1"].handling_seconds is None and rows["asked-1"].wait_seconds is not None
    assert rows["live-1"].to_dict()["handling_seconds"] == pytest.approx(300, abs=1)

    only = service.query.page(ConversationFilters(outcome="agent")).rows
    assert [r.conversation_id for r in only] == ["live-1"]
    assert [r.conversation_id for r in service.query.page(ConversationFilters(outcome="handed")).rows] == ["asked-1"]

    page = agent_client.get("/conversations").get_data(as_text=True)
    assert "handed to an agent" in page and "waited 30s · handled 5m 00s" in page
    listed = agent_client.get("/conversations?outcome=agent").get_data(as_text=True)
    assert '<span data-testid="total">1</span>' in listed
    csv_text = agent_client.get("/conversations/export.csv").get_data(as_text=True)
    assert "wait_seconds,handling_seconds" in csv_text.splitlines()[0]


def test_transcript_marks_agent_lines_in_time_order(app: Flask, accounts: AgentRepository, service: TranscriptService,
                                                   write: Callable, agent_client: FlaskClient) -> None:
    write(two_turns("live-2"))
    agent = accounts.find(AGENT_EMAIL)
    assert agent is not None
    live_chat(service, "live-2", agent.id)
    found = service.transcript("live-2")
    assert found is not None
    by_turn = {t.number: [(line.sender, line.agent) for line in t.live] for t in found.turns}
    # The turns were at +9 s and +17 s (the writer's 8 s gaps); every live line came later, after turn 2.
    assert by_turn[2] == [("system", None), ("agent", AGENT_EMAIL), ("customer", None), ("system", None)]
    assert by_turn[1] == []
    customer_line = found.turns[-1].live[2]
    assert "hunter2secret" not in customer_line.text  # redacted on the way out, like the assistant's turns
    assert service.transcript("live-2", with_live=False).turns[-1].live == []  # type: ignore[union-attr]

    page = agent_client.get("/transcripts/live-2").get_data(as_text=True)
    assert f'Agent <span data-testid="live-agent">{AGENT_EMAIL}</span>' in page
    assert "Hi, &lt;b&gt;I am&lt;/b&gt; here" in page and "<b>I am</b>" not in page
    assert 'data-testid="outcome">handed to an agent<' in page
    exported = agent_client.get("/api/transcripts/live-2").get_json()
    lines = [line for s in exported["sessions"] for t in s["turns"] for line in t["live"]]
    assert [line["sender"] for line in lines] == ["system", "agent", "customer", "system"]
    assert lines[1]["agent"] == AGENT_EMAIL and lines[1]["time"].startswith(at(50).isoformat()[:19])


def test_live_lines_between_turns(app: Flask, accounts: AgentRepository, service: TranscriptService,
                                  write: Callable) -> None:
    """Lines written between two customer messages sit under the first; the later release under the second."""
    w = ConversationWriter("between-1", START, "socketio").session_start()
    w.user("hello", "greet", 0.9).bot("Hi!").listen()  # at +9 s
    w.user("still there?", "greet", 0.9, gap=200).bot("Yes.").listen()  # at about +209 s
    write(w)
    agent = accounts.find(AGENT_EMAIL)
    assert agent is not None
    live_chat(service, "between-1", agent.id)
    found = service.transcript("between-1")
    assert found is not None
    assert [line.sender for line in found.turns[1].live] == ["system", "agent", "customer"]
    assert [line.text for line in found.turns[2].live] == ["The support agent handed the chat back to the assistant."]


def test_live_only_conversation_has_a_transcript(app: Flask, accounts: AgentRepository, service: TranscriptService,
                                                 agent_client: FlaskClient) -> None:
    """No tracker events (pruned store) but a live chat: the transcript page shows the live lines instead of a 404."""
    agent = accounts.find(AGENT_EMAIL)
    assert agent is not None
    live_chat(service, "only-live", agent.id)
    page = agent_client.get("/transcripts/only-live")
    assert page.status_code == 200 and AGENT_EMAIL in page.get_data(as_text=True)
    assert agent_client.get("/transcripts/never-was").status_code == 404
