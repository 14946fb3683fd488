"""The Redis relay against the real Redis at 127.0.0.1:6379: what one process stores, another hears.

Each "process" here has its own database engine and its own Redis connection;
keys and channels carry a prefix unique to the test.
"""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentView
from loginhelp.db.engine import make_engine
from loginhelp.handoff.relay import (
    RedisRelay,
    Relay,
    RelayEvent,
    RelayListener,
    RelaySettings,
    Subscription,
    relay_from_env,
)
from loginhelp.handoff.service import LiveHandoff
from loginhelp.servers import free_port

from .conftest import RedisTarget

Relays = tuple[RedisRelay, RedisRelay]


@pytest.fixture
def relays(redis_target: RedisTarget) -> Iterator[Relays]:
    """Two relays on two connections: one per process."""
    settings = RelaySettings(host=redis_target.host, port=redis_target.port, db=redis_target.db,
                             key_prefix=redis_target.prefix)
    one, two = RedisRelay.connect(settings), RedisRelay.connect(settings)
    yield one, two
    one.close()
    two.close()


def _drain(subscription: Subscription, timeout: float = 0.3) -> list[RelayEvent]:
    events = []
    while (event := subscription.get(timeout=timeout)) is not None:
        events.append(event)
    return events


def test_a_message_published_on_one_connection_reaches_a_subscriber_on_another(relays: Relays) -> None:
    publisher, listener = relays
    with listener.subscribe(["conv-1"]) as subscription:
        message = {"conversation_id": "conv-1", "n": 7, "sender": "agent", "agent": "a@coinex.test",
                   "text": "<b>hi</b> ünï", "created_at": "2026-12-01T12:00:00+00:00"}
        assert publisher.publish_message(message) == 1  # one subscriber heard it
        event = subscription.get(timeout=5)
        assert event is not None
        assert (event.kind, event.conversation_id) == ("message", "conv-1")
        assert event.data == {"type": "message", **message}
        assert subscription.get(timeout=0.2) is None


def test_subscribers_hear_only_what_they_follow(relays: Relays) -> None:
    publisher, listener = relays
    with listener.subscribe(["mine"], queue=True) as mine, listener.subscribe(every_conversation=True) as everything:
        publisher.publish_message({"conversation_id": "other", "n": 1, "text": "not for you"})
        publisher.publish_message({"conversation_id": "mine", "n": 1, "text": "for you"})
        publisher.publish_queue("waiting", "third", place=1)
        heard = _drain(mine)
        assert [(e.kind, e.conversation_id) for e in heard] == [("message", "mine"), ("queue", "third")]
        assert heard[1].data == {"type": "queue", "event": "waiting", "conversation_id": "third", "place": 1}
        assert [e.conversation_id for e in _drain(everything)] == ["other", "mine"]


def test_the_prefix_keeps_deployments_apart(redis_target: RedisTarget, relays: Relays) -> None:
    publisher, _ = relays
    stranger = RedisRelay.connect(RelaySettings(host=redis_target.host, port=redis_target.port, db=redis_target.db,
                                                key_prefix=redis_target.prefix + "other"))
    try:
        with stranger.subscribe(["conv-1"], queue=True) as subscription:
            assert publisher.publish_message({"conversation_id": "conv-1", "n": 1}) == 0
            assert subscription.get(timeout=0.3) is None
    finally:
        stranger.close()


def test_garbage_on_the_channel_is_skipped(redis_target: RedisTarget, relays: Relays) -> None:
    publisher, listener = relays
    raw = redis_target.client()
    try:
        with listener.subscribe(["conv-1"]) as subscription:
            raw.publish(publisher.conversation_channel("conv-1"), b"\xff not json")
            raw.publish(publisher.conversation_channel("conv-1"), b"[1, 2]")
            publisher.publish_message({"conversation_id": "conv-1", "n": 2})
            assert [e.data.get("n") for e in _drain(subscription)] == [2]
    finally:
        raw.close()


def test_subscribing_to_nothing_is_refused(relays: Relays) -> None:
    with pytest.raises(ValueError):
        relays[0].subscribe([])


def test_a_listener_thread_delivers_and_stops_cleanly(relays: Relays) -> None:
    publisher, listener_relay = relays
    heard: list[RelayEvent] = []
    got_two = threading.Event()

    def handler(event: RelayEvent) -> None:
        if event.data.get("n") == 0:
            raise RuntimeError("a broken handler must not stop the listener")
        heard.append(event)
        if len(heard) == 2:
            got_two.set()

    listener = RelayListener(listener_relay.subscribe(["conv-1"], queue=True), handler, poll=0.05)
    try:
        publisher.publish_message({"conversation_id": "conv-1", "n": 0})
        publisher.publish_message({"conversation_id": "conv-1", "n": 1})
        publisher.publish_queue("claimed", "conv-1")
        assert got_two.wait(5)
        assert [(e.kind, e.data.get("n")) for e in heard] == [("message", 1), ("queue", None)]
    finally:
        started = time.monotonic()
        listener.stop()
    assert not listener.running and time.monotonic() - started < 2
    assert publisher.publish_message({"conversation_id": "conv-1", "n": 3}) == 0  # its connection is closed


def test_the_service_stores_then_notifies_the_other_process(db_url: str, engine: Engine, agents: list[AgentView],
                                                           relays: Relays) -> None:
    """Rasa replica (customer side) and console process (agent side), each with its own engine and connection."""
    rasa_relay, console_relay = relays
    console_engine = make_engine(db_url)
    rasa = LiveHandoff.on(engine, rasa_relay)
    desk = LiveHandoff.on(console_engine, console_relay)
    alice = agents[0]
    try:
        with console_relay.subscribe(queue=True) as queue_watch:
            rasa.request_agent("conv-9", "socketio", {"branch": "twofa_code"})
            [waiting] = _drain(queue_watch)
            assert waiting.data == {"type": "queue", "event": "waiting", "conversation_id": "conv-9", "place": 1}
            rasa.request_agent("conv-9", "socketio")  # asked twice: no second notice
            assert _drain(queue_watch) == []

        with console_relay.subscribe(["conv-9"]) as agent_page, rasa_relay.subscribe(["conv-9"]) as customer_socket:
            sent = rasa.customer_says("conv-9", "my password is Hunter2024! please help")
            assert sent.text == "my password is [redacted password] please help"
            [heard] = _drain(agent_page)
            assert heard.data["n"] == sent.n == 1 and heard.data["text"] == sent.text and heard.data["sender"] == "customer"
            _drain(customer_socket)

            desk.claim("conv-9", alice.id)
            kinds = [(e.kind, e.data.get("sender"), e.data.get("state")) for e in _drain(customer_socket)]
            assert kinds == [("message", "system", None), ("state", None, "active")]

            reply = desk.agent_says("conv-9", alice.id, "Hi, this is Alice <3")
            [pushed] = _drain(customer_socket)
            assert pushed.data["n"] == reply.n == 3 and pushed.data["text"] == "Hi, this is Alice <3"
            assert pushed.data["agent"] == alice.email

            desk.release("conv-9", alice.id, "assistant")
            last = _drain(customer_socket)
            assert [(e.kind, e.data.get("released_to")) for e in last] == [("message", None), ("state", "assistant")]
            assert rasa.state_of("conv-9").state == "released"
        # Storage is the truth: what was relayed is exactly what is stored.
        stored = [(m.n, m.sender, m.text) for m in desk.conversations.messages_after("conv-9")]
        assert [n for n, _, _ in stored] == [1, 2, 3, 4]
    finally:
        console_engine.dispose()


def test_an_unreachable_redis_loses_nothing_stored(engine: Engine, agents: list[AgentView]) -> None:
    dead = RedisRelay.connect(RelaySettings(host="127.0.0.1", port=free_port(), key_prefix="lhtestdown"),
                              socket_timeout=0.5)
    live = LiveHandoff.on(engine, dead)
    try:
        assert live.request_agent("conv-1").queued
        live.claim("conv-1", agents[0].id)
        assert live.agent_says("conv-1", agents[0].id, "still stored").n == 2
        assert [m.text for m in live.conversations.messages_after("conv-1")][-1] == "still stored"
    finally:
        dead.close()


def test_relay_settings_come_from_the_redis_variables(redis_target: RedisTarget) -> None:
    assert RelaySettings.from_env({}) is None
    assert type(relay_from_env({})) is Relay
    settings = RelaySettings.from_env(redis_target.environ())
    assert settings == RelaySettings(host="127.0.0.1", port=6379, db=redis_target.db, password=None,
                                     key_prefix=redis_target.prefix)
    relay = relay_from_env(redis_target.environ())
    try:
        assert isinstance(relay, RedisRelay) and relay.queue_channel == f"{redis_target.prefix}:live:queue"
    finally:
        relay.close()
