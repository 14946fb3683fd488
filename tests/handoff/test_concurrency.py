"""Races between processes: each thread has its own engine, as each console or Rasa replica would.

Two agents clicking "claim" at once: exactly one wins. Many writers appending to
one chat: every message stored once, numbered 1..N without a gap, each writer's
messages in the order it sent them.
"""
from __future__ import annotations

import threading
from collections import Counter
from typing import Callable, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.db.engine import make_engine
from loginhelp.handoff.errors import LiveConflict
from loginhelp.handoff.models import live_messages
from loginhelp.handoff.repository import LiveRepository

from .conftest import PASSWORD

T = TypeVar("T")


def _race(db_url: str, workers: int, work: Callable[[int, LiveRepository], T]) -> list[T | BaseException]:
    """Run ``work(i, repo)`` in ``workers`` threads, released together by a barrier; results or exceptions by index."""
    engines = [make_engine(db_url) for _ in range(workers)]
    repos = [LiveRepository(e) for e in engines]
    for repo in repos:  # connect before the start line, so the race is about the statements
        repo.get("warm-up")
    barrier = threading.Barrier(workers)
    results: list[T | BaseException] = [RuntimeError("did not run")] * workers

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i, repos[i])
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "a worker hung"
    finally:
        for e in engines:
            e.dispose()
    return results


@pytest.fixture
def many_agents(engine: Engine) -> list[AgentView]:
    repo = AgentRepository(engine)
    return [repo.add(f"agent{i}@coinex.test", PASSWORD, "agent") for i in range(6)]


@pytest.mark.parametrize("round_", range(5))
def test_two_agents_claiming_at_once_one_wins(db_url: str, engine: Engine, agents: list[AgentView], round_: int) -> None:
    LiveRepository(engine).enqueue(f"race-{round_}")
    results = _race(db_url, 2, lambda i, repo: repo.claim(f"race-{round_}", agents[i].id))
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == 1 and isinstance(losers[0], LiveConflict), results
    stored = LiveRepository(engine).get(f"race-{round_}")
    assert stored.state == "active" and stored.claimed_by == winners[0].claimed_by
    assert [(m.n, m.sender) for m in LiveRepository(engine).messages_after(f"race-{round_}")] == [(1, "system")]


def test_six_agents_claiming_three_chats_at_once(db_url: str, engine: Engine, many_agents: list[AgentView]) -> None:
    repo = LiveRepository(engine)
    for c in ("x", "y", "z"):
        repo.enqueue(c)

    def claim_all(i: int, r: LiveRepository) -> list[str]:
        won = []
        for c in ("x", "y", "z"):
            try:
                r.claim(c, many_agents[i].id)
                won.append(c)
            except LiveConflict:
                pass
        return won

    results = _race(db_url, 6, claim_all)
    assert not [r for r in results if isinstance(r, BaseException)], results
    wins = Counter(c for r in results for c in r)  # type: ignore[union-attr]
    assert wins == {"x": 1, "y": 1, "z": 1}
    for i, won in enumerate(results):
        for c in won:  # type: ignore[union-attr]
            assert repo.get(c).claimed_by == many_agents[i].id


def test_concurrent_appends_are_stored_once_and_in_order(db_url: str, engine: Engine, agents: list[AgentView]) -> None:
    repo = LiveRepository(engine)
    repo.enqueue("busy")
    repo.claim("busy", agents[0].id)
    per_writer = 15

    def write(i: int, r: LiveRepository) -> list[int]:
        numbers = []
        for k in range(per_writer):
            if i % 2:
                numbers.append(r.append("busy", "agent", f"w{i}-{k}", agent_id=agents[0].id).n)
            else:
                numbers.append(r.append("busy", "customer", f"w{i}-{k}").n)
        return numbers

    results = _race(db_url, 6, write)
    assert not [r for r in results if isinstance(r, BaseException)], results
    stored = repo.messages_after("busy", 1)
    assert [m.n for m in stored] == list(range(2, 2 + 6 * per_writer))  # no gap, no duplicate
    for i, numbers in enumerate(results):
        assert numbers == sorted(numbers)  # type: ignore[type-var]
        mine = [m.text for m in stored if m.text.startswith(f"w{i}-")]
        assert mine == [f"w{i}-{k}" for k in range(per_writer)]  # each writer's order kept
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(live_messages)).scalar_one() == 1 + 6 * per_writer
    assert repo.get("busy").last_n == 1 + 6 * per_writer


def test_concurrent_enqueues_make_one_conversation(db_url: str, engine: Engine) -> None:
    results = _race(db_url, 4, lambda i, r: r.enqueue("same", "socketio").queued)
    assert sorted(results) == [False, False, False, True], results  # type: ignore[type-var]
    assert [e.conversation.conversation_id for e in LiveRepository(engine).queue()] == ["same"]
