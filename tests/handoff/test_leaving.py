"""Leaving the queue: which waiting messages mean it (leaving.yml), and the storage side (customer_left, expire)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from loginhelp import settings
from loginhelp.agents.repository import AgentView
from loginhelp.handoff.errors import LiveConflict, LiveNotFound
from loginhelp.handoff.leaving import LeavingWords, leaving_to
from loginhelp.handoff.repository import (
    CUSTOMER_LEFT_LINES,
    EXPIRED_TO_TICKET,
    WAIT_FROM_QUEUED,
    WAIT_FROM_SEEN,
    LiveRepository,
)
from loginhelp.handoff.service import LiveHandoff, wait_limit_from_env

from .conftest import Clock


@pytest.mark.parametrize("text, target", [
    ("cancel", "assistant"), ("Cancel!", "assistant"), ("never mind", "assistant"), ("Nevermind.", "assistant"),
    ("forget it", "assistant"), ("ok cancel then", "assistant"), ("please stop waiting", "assistant"),
    ("ticket please", "ticket"), ("i'll file a ticket instead", "ticket"), ("I\u2019ll file a TICKET instead", "ticket"),
    ("ticket", "ticket"), ("cancel, ticket please", "ticket"),
])
def test_a_few_phrases_leave_the_queue(text: str, target: str) -> None:
    assert leaving_to(text) == target


@pytest.mark.parametrize("text", [
    "I can't cancel my withdrawal", "can you stop the withdrawal", "my ticket number is lh-7kq2mx",
    "i don't want a ticket", "no ticket please, a person", "hello?", "", "cancellation", "tickets",
])
def test_anything_else_is_for_the_agent(text: str) -> None:
    assert leaving_to(text) is None


def test_the_words_file_rejects_unknown_targets() -> None:
    with pytest.raises(ValueError):
        LeavingWords.from_mapping({"alone": {"agent": ["hi"]}})


@pytest.fixture
def repo(engine: Engine, clock: Clock) -> LiveRepository:
    return LiveRepository(engine, clock=clock, wait_limit=timedelta(minutes=5))


def test_customer_left_releases_a_waiting_chat_and_says_who_ended_it(repo: LiveRepository) -> None:
    repo.enqueue("c-1", "socketio")
    view = repo.customer_left("c-1", "ticket")
    assert (view.state, view.released_to, view.released_by, view.claimed_by) == ("released", "ticket", "customer", None)
    assert view.to_dict()["released_by"] == "customer"
    assert [(m.sender, m.text) for m in repo.messages_after("c-1")] == [("system", CUSTOMER_LEFT_LINES["ticket"])]
    with pytest.raises(LiveConflict):
        repo.customer_left("c-1", "assistant")  # once
    with pytest.raises(LiveNotFound):
        repo.customer_left("nobody", "assistant")
    with pytest.raises(ValueError):
        repo.customer_left("c-1", "closed")


def test_customer_cannot_leave_a_chat_an_agent_has(repo: LiveRepository, agents: list[AgentView]) -> None:
    repo.enqueue("c-1")
    repo.claim("c-1", agents[0].id)
    with pytest.raises(LiveConflict):
        repo.customer_left("c-1", "assistant")
    repo.release("c-1", agents[0].id, "assistant")
    released = repo.get("c-1")
    assert released is not None and released.released_by == "agent"


def test_expire_counts_from_the_queue_or_the_last_message_and_only_one_caller_wins(
        engine: Engine, repo: LiveRepository, clock: Clock) -> None:
    other_replica = LiveRepository(engine, clock=clock, wait_limit=timedelta(minutes=5))
    repo.enqueue("widget", "socketio")
    repo.enqueue("telegram", "telegram")
    clock.advance(minutes=4)
    repo.customer_seen("widget")  # the open widget's sign of life does not extend the wait
    repo.append("telegram", "customer", "still there?")  # a Telegram message does
    clock.advance(minutes=1, seconds=1)
    assert repo.expire("telegram", WAIT_FROM_SEEN) is None
    won = repo.expire("widget", WAIT_FROM_QUEUED)
    assert won is not None and (won.released_to, won.released_by) == ("expired", "queue")
    assert other_replica.expire("widget", WAIT_FROM_QUEUED) is None  # the conditional UPDATE decided
    assert repo.messages_after("widget")[-1].text == EXPIRED_TO_TICKET
    clock.advance(minutes=4)
    assert repo.expire("telegram", WAIT_FROM_SEEN) is not None
    with pytest.raises(ValueError):
        repo.expire("widget", "claimed_at")


def test_the_wait_limit_is_a_setting(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGINHELP_LIVE_WAIT_SECONDS", raising=False)
    assert wait_limit_from_env() == timedelta(minutes=5)
    monkeypatch.setenv("LOGINHELP_LIVE_WAIT_SECONDS", "90")
    assert LiveHandoff.on(engine).conversations.wait_limit == timedelta(seconds=90)
    monkeypatch.setenv("LOGINHELP_LIVE_WAIT_SECONDS", "1")
    with pytest.raises(settings.SettingsError):
        wait_limit_from_env()
