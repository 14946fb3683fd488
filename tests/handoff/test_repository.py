"""The queue, the claim, the chat and the release on one database (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentView
from loginhelp.handoff.errors import LiveConflict, LiveNotFound
from loginhelp.handoff.models import live_messages
from loginhelp.handoff.repository import JOINED, MAX_TEXT_LENGTH, RELEASE_LINES, REQUEUED, LiveRepository

from .conftest import Clock

CONTEXT = {"branch": "twofa_code", "steps_tried": ["synced clock"], "device": "iPhone 13", "browser": None,
           "language": "en", "contact": "alice@gmail.com", "secret_sauce": "dropped"}


@pytest.fixture
def repo(engine: Engine, clock: Clock) -> LiveRepository:
    return LiveRepository(engine, clock=clock)


def _texts(repo: LiveRepository, conversation_id: str) -> list[tuple[int, str, str]]:
    return [(m.n, m.sender, m.text) for m in repo.messages_after(conversation_id)]


def test_enqueue_is_idempotent_and_keeps_what_the_assistant_learned(repo: LiveRepository, clock: Clock) -> None:
    first = repo.enqueue("c-1", "socketio", CONTEXT)
    assert first.queued and first.conversation.state == "waiting" and first.conversation.channel == "socketio"
    assert first.conversation.context == {"branch": "twofa_code", "steps_tried": ["synced clock"],
                                          "device": "iPhone 13", "language": "en", "contact": "alice@gmail.com"}
    assert first.conversation.queued_at == clock.now and first.conversation.last_n == 0
    clock.advance(seconds=30)
    again = repo.enqueue("c-1", "socketio", {"branch": "other"})
    assert not again.queued
    assert again.conversation.queued_at == first.conversation.queued_at  # keeps its place
    assert again.conversation.context["branch"] == "twofa_code"
    assert again.conversation.customer_seen_at == clock.now  # asking again is a sign of life
    assert [e.conversation.conversation_id for e in repo.queue()] == ["c-1"]


def test_enqueue_rejects_bad_ids(repo: LiveRepository) -> None:
    for bad in ("", "   ", "x" * 256):
        with pytest.raises(ValueError):
            repo.enqueue(bad)
    with pytest.raises(ValueError):
        repo.enqueue("c-1", context=["not", "a", "mapping"])  # type: ignore[arg-type]


def test_queue_lists_places_and_waiting_time(repo: LiveRepository, clock: Clock, agents: list[AgentView]) -> None:
    for name in ("first", "second", "third"):
        repo.enqueue(name)
        clock.advance(seconds=10)
    queue = repo.queue()
    assert [(e.conversation.conversation_id, e.place, e.waiting_seconds) for e in queue] == [
        ("first", 1, 30.0), ("second", 2, 20.0), ("third", 3, 10.0)]
    assert queue[0].to_dict()["place"] == 1 and queue[0].to_dict()["waiting_seconds"] == 30.0
    assert [repo.place(c) for c in ("first", "second", "third", "unknown")] == [1, 2, 3, None]
    repo.claim("first", agents[0].id)
    assert [(e.conversation.conversation_id, e.place) for e in repo.queue()] == [("second", 1), ("third", 2)]
    assert repo.place("first") is None and repo.place("third") == 2


def test_claim_is_won_once_and_is_idempotent_for_the_winner(repo: LiveRepository, agents: list[AgentView],
                                                             clock: Clock) -> None:
    alice, bob = agents
    repo.enqueue("c-1", "telegram")
    won = repo.claim("c-1", alice.id)
    assert (won.state, won.claimed_by, won.claimed_by_email, won.claimed_at) == ("active", alice.id, alice.email, clock.now)
    assert repo.claim("c-1", alice.id) == won  # clicking twice changes nothing
    with pytest.raises(LiveConflict, match="another agent holds it"):
        repo.claim("c-1", bob.id)
    assert repo.get("c-1").claimed_by == alice.id
    with pytest.raises(LiveNotFound):
        repo.claim("nobody", alice.id)
    assert _texts(repo, "c-1") == [(1, "system", JOINED)]


def test_messages_are_numbered_in_order_and_read_after_n(repo: LiveRepository, agents: list[AgentView]) -> None:
    alice, _ = agents
    repo.enqueue("c-1")
    assert repo.append("c-1", "customer", "  is anyone there?  ").n == 1  # waiting customers may write
    repo.claim("c-1", alice.id)
    reply = repo.append("c-1", "agent", "Hi, I'm Alice.", agent_id=alice.id)
    assert (reply.n, reply.sender, reply.agent_email) == (3, "agent", alice.email)
    repo.append("c-1", "customer", "hi")
    assert _texts(repo, "c-1") == [(1, "customer", "is anyone there?"), (2, "system", JOINED),
                                   (3, "agent", "Hi, I'm Alice."), (4, "customer", "hi")]
    assert [m.n for m in repo.messages_after("c-1", 2)] == [3, 4]
    assert [m.n for m in repo.messages_after("c-1", 1, limit=2)] == [2, 3]
    assert repo.messages_after("c-1", 4) == []
    assert repo.get("c-1").last_n == 4
    with pytest.raises(LiveNotFound):
        repo.messages_after("nobody")
    with pytest.raises(ValueError):
        repo.messages_after("c-1", -1)


def test_only_the_holder_writes_as_agent(repo: LiveRepository, agents: list[AgentView], engine: Engine) -> None:
    alice, bob = agents
    repo.enqueue("c-1")
    with pytest.raises(LiveConflict, match="waiting in the queue"):
        repo.append("c-1", "agent", "hello", agent_id=alice.id)
    repo.claim("c-1", alice.id)
    with pytest.raises(LiveConflict, match="another agent holds it"):
        repo.append("c-1", "agent", "hello", agent_id=bob.id)
    with pytest.raises(LiveNotFound):
        repo.append("nobody", "agent", "hello", agent_id=alice.id)
    with pytest.raises(ValueError):
        repo.append("c-1", "agent", "hello")  # no agent given
    with pytest.raises(ValueError):
        repo.append("c-1", "robot", "hello")
    with engine.connect() as conn:  # nothing but the join line was stored, and no number was used up
        assert conn.execute(select(func.count()).select_from(live_messages)).scalar_one() == 1
    assert repo.get("c-1").last_n == 1


@pytest.mark.parametrize("bad", ["", "   \n ", "x" * (MAX_TEXT_LENGTH + 1), "a\x00b", None, 42])
def test_bad_text_is_refused(repo: LiveRepository, agents: list[AgentView], bad: object) -> None:
    repo.enqueue("c-1")
    repo.claim("c-1", agents[0].id)
    with pytest.raises(ValueError):
        repo.append("c-1", "agent", bad, agent_id=agents[0].id)  # type: ignore[arg-type]
    assert repo.append("c-1", "agent", "x" * MAX_TEXT_LENGTH, agent_id=agents[0].id).n == 2


def test_text_is_stored_exactly_as_plain_text(repo: LiveRepository, agents: list[AgentView]) -> None:
    repo.enqueue("c-1")
    repo.claim("c-1", agents[0].id)
    markup = "<script>alert('x')</script> &amp; <b>bold</b> 😀 ünïcode"
    repo.append("c-1", "agent", markup, agent_id=agents[0].id)
    assert repo.messages_after("c-1", 1)[0].text == markup


@pytest.mark.parametrize("to", ["assistant", "ticket", "closed"])
def test_release_by_the_holder(repo: LiveRepository, agents: list[AgentView], clock: Clock, to: str) -> None:
    alice, bob = agents
    repo.enqueue("c-1")
    repo.claim("c-1", alice.id)
    with pytest.raises(LiveConflict):
        repo.release("c-1", bob.id, to)
    clock.advance(minutes=3)
    done = repo.release("c-1", alice.id, to)
    assert (done.state, done.released_to, done.released_at) == ("released", to, clock.now)
    assert _texts(repo, "c-1")[-1] == (2, "system", RELEASE_LINES[to])
    with pytest.raises(LiveConflict, match="released"):
        repo.release("c-1", alice.id, to)
    with pytest.raises(LiveConflict, match="released"):
        repo.append("c-1", "agent", "still there?", agent_id=alice.id)
    with pytest.raises(LiveConflict, match="released"):
        repo.append("c-1", "customer", "hello?")  # the assistant answers again
    with pytest.raises(LiveConflict):
        repo.claim("c-1", bob.id)


def test_release_rejects_unknown_targets_and_ids(repo: LiveRepository, agents: list[AgentView]) -> None:
    repo.enqueue("c-1")
    repo.claim("c-1", agents[0].id)
    for bad in ("expired", "bin", "", None):
        with pytest.raises(ValueError, match="assistant, ticket, closed"):
            repo.release("c-1", agents[0].id, bad)  # type: ignore[arg-type]
    with pytest.raises(LiveNotFound):
        repo.release("nobody", agents[0].id, "closed")
    assert repo.get("c-1").state == "active"


def test_asking_again_after_a_release_queues_again_and_keeps_the_chat(repo: LiveRepository, agents: list[AgentView],
                                                                       clock: Clock) -> None:
    alice, bob = agents
    repo.enqueue("c-1", "rest", {"branch": "browser"})
    repo.claim("c-1", alice.id)
    repo.append("c-1", "agent", "try another browser", agent_id=alice.id)
    repo.release("c-1", alice.id, "assistant")
    clock.advance(minutes=10)
    again = repo.enqueue("c-1", None, {"branch": "app"})
    assert again.queued
    view = again.conversation
    assert (view.state, view.claimed_by, view.released_to, view.queued_at, view.channel) == (
        "waiting", None, None, clock.now, "rest")
    assert view.context == {"branch": "app"}
    assert repo.claim("c-1", bob.id).claimed_by == bob.id
    assert [n for n, _, _ in _texts(repo, "c-1")] == [1, 2, 3, 4]


def test_waiting_customers_who_went_quiet_expire(engine: Engine, clock: Clock, agents: list[AgentView]) -> None:
    repo = LiveRepository(engine, clock=clock, wait_limit=timedelta(minutes=5))
    repo.enqueue("quiet")
    repo.enqueue("talking")
    repo.enqueue("claimed")
    repo.claim("claimed", agents[0].id)
    clock.advance(minutes=4)
    repo.append("talking", "customer", "still here")
    assert repo.expire_waiting() == []
    clock.advance(minutes=1, seconds=1)
    assert repo.expire_waiting() == ["quiet"]
    quiet = repo.get("quiet")
    assert (quiet.state, quiet.released_to, quiet.released_at) == ("released", "expired", clock.now)
    assert _texts(repo, "quiet") == [(1, "system", RELEASE_LINES["expired"])]
    assert [e.conversation.conversation_id for e in repo.queue()] == ["talking"]
    assert repo.get("claimed").state == "active"  # an agent is with them: never expires
    repo.customer_seen("talking")
    clock.advance(minutes=4, seconds=59)
    assert repo.expire_waiting() == []
    clock.advance(seconds=2)
    assert repo.expire_waiting() == ["talking"]
    assert repo.expire_waiting() == []


def test_wait_limit_is_configurable(engine: Engine, clock: Clock) -> None:
    repo = LiveRepository(engine, clock=clock, wait_limit=timedelta(seconds=30))
    repo.enqueue("c-1")
    clock.advance(seconds=31)
    assert repo.expire_waiting() == ["c-1"]
    with pytest.raises(ValueError):
        LiveRepository(engine, wait_limit=timedelta(0))


def test_an_agent_who_signs_out_puts_their_chats_back_in_the_queue(repo: LiveRepository, agents: list[AgentView],
                                                                   clock: Clock) -> None:
    alice, bob = agents
    for name in ("a", "b", "c"):
        repo.enqueue(name)
        clock.advance(seconds=1)
    repo.claim("a", alice.id)
    repo.claim("b", bob.id)
    repo.claim("c", alice.id)
    repo.release("c", alice.id, "closed")
    clock.advance(minutes=20)
    assert repo.requeue_agent(alice.id) == ["a"]
    a = repo.get("a")
    assert (a.state, a.claimed_by, a.claimed_at, a.customer_seen_at) == ("waiting", None, None, clock.now)
    assert _texts(repo, "a")[-1] == (2, "system", REQUEUED)
    assert [(e.conversation.conversation_id, e.place) for e in repo.queue()] == [("a", 1)]  # its old place
    assert repo.get("b").claimed_by == bob.id and repo.get("c").state == "released"
    assert repo.requeue_agent(alice.id) == []
    assert repo.held_by(bob.id)[0].conversation_id == "b" and repo.held_by(alice.id) == []
    assert repo.claim("a", bob.id).claimed_by == bob.id
