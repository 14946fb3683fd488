"""The assistant's tracker during a live handoff, with the real assistant: paused when the customer joins the
queue, resumed once at the release (by the agent, by the customer leaving), before anything reaches Rasa again.

A real Rasa ``Agent`` loaded in-process from models/loginhelp.tar.gz behind the socket.io channel (its SQLite
tracker store is what the tests read), the real action server on a free port, and one migrated SQLite database
shared by the actions, the channel's bridge and the console. No Redis here: the bridge reads storage often
(``make run``'s set-up), so the test sees the pause and the resume without the relay.
"""
from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any, Iterator, List

import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import EndpointConfig

from loginhelp.agents import passwords
from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.channels.live import Claims, LiveBridge
from loginhelp.channels.socketio import SocketIOInput
from loginhelp.db.engine import make_engine
from loginhelp.handoff import LiveHandoff, Relay
from loginhelp.handoff.customer_lines import BACK_WITH_ASSISTANT, LEFT_FOR_TICKET, LEFT_QUEUE
from loginhelp.servers import ACTION_SERVER, MODEL, ServerGroup, free_port

from ..fixtures_db import migrate
from .inprocess import serve
from .test_live_handoff import WIDGET, next_text, off_thread
from .test_socketio_rest import WidgetClient

ASK_FOR_A_PERSON = "can I talk to a human please"
QUEUED = "I've asked for a CoinEx support agent to join this chat."
TICKET_INTRO = "Let's put together a ticket for CoinEx support."


@dataclass
class RealAssistant:
    url: str
    agent: Agent


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAssistant]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    tmp = tmp_path_factory.mktemp("pause_resume")
    url = f"sqlite:///{tmp / 'loginhelp.db'}"
    migrate(url)
    servers = ServerGroup(tmp, {"DATABASE_URL": url, "LOGINHELP_VAR_DIR": str(tmp / "var")})
    servers.env = {k: v for k, v in servers.env.items() if not k.startswith("REDIS_")}  # no relay: storage only
    port = free_port()
    try:
        servers.spawn("actions", [*ACTION_SERVER, "--port", str(port)])
        servers.wait_http(f"http://127.0.0.1:{port}/health", 120)
        agent = Agent.load(str(MODEL), tracker_store=SQLTrackerStore(dialect="sqlite", db=str(tmp / "tracker.db")),
                           action_endpoint=EndpointConfig(url=f"http://127.0.0.1:{port}/webhook"))
        yield RealAssistant(url, agent)
    finally:
        servers.stop()


@dataclass
class Desk:
    console: LiveHandoff
    person: AgentView
    bridge: LiveBridge


@pytest.fixture
async def desk(real: RealAssistant) -> Any:
    """The console with one available agent, and the Rasa process's bridge (storage read every 0.2 s)."""
    passwords.use_fast_hashing_for_tests()
    console = LiveHandoff.on(make_engine(real.url), Relay())
    person = AgentRepository(console.conversations._engine).add(
        f"agent-{secrets.token_hex(3)}@coinex.test", "correct horse battery", "agent")
    console.set_available(person.id, True)
    bridge = LiveBridge(LiveHandoff.on(make_engine(real.url), Relay()), Claims(), sweep_seconds=0.2)
    yield Desk(console, person, bridge)
    console.set_available(person.id, False)
    await bridge.close()


async def tracker_events(agent: Agent, sender: str) -> List[Any]:
    tracker = await agent.tracker_store.retrieve_full_tracker(sender)
    assert tracker is not None
    return list(tracker.events)


def kinds(events: List[Any]) -> List[str]:
    return [getattr(e, "type_name", "") for e in events]


async def replies(client: WidgetClient) -> List[str]:
    return [r["text"] for r in await client.replies(timeout=60, quiet=2.0)]


async def queued(client: WidgetClient, real: RealAssistant, session: str) -> None:
    """The customer asks for a person: the assistant queues them and pauses its tracker."""
    await client.send(ASK_FOR_A_PERSON)
    said = await replies(client)
    assert any(QUEUED in text for text in said), said
    events = await tracker_events(real.agent, session)
    assert kinds(events).count("pause") == 1 and "resume" not in kinds(events)


def after(events: List[Any], index: int) -> List[str]:
    return kinds(events)[index + 1:]


async def test_cancel_while_waiting_resumes_the_tracker_once_and_the_next_message_is_answered(
        real: RealAssistant, desk: Desk) -> None:
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = desk.bridge
    async with serve(channel, agent=real.agent) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await queued(client, real, session)
            await client.send("is anyone there?")  # for the agent: the paused tracker never sees it
            await client.replies(timeout=10)
            await client.send("never mind")
            assert await next_text(client) == LEFT_QUEUE
            events = await tracker_events(real.agent, session)
            names = kinds(events)
            assert names.count("resume") == 1 and names.index("pause") < names.index("resume")
            assert not any(getattr(e, "text", None) in ("is anyone there?", "never mind") for e in events)

            await client.send("I forgot my password")
            answer = await replies(client)
            assert answer and not any(QUEUED in text for text in answer)
            events = await tracker_events(real.agent, session)
            resumed_at = kinds(events).index("resume")
            later = after(events, resumed_at)
            assert later[0] == "action" and events[resumed_at + 1].action_name == "action_listen"
            assert "user" in later and "bot" in later[later.index("user"):]  # processed, not ignored
            assert kinds(events).count("resume") == 1
        finally:
            await client.close()


async def test_ticket_please_while_waiting_gets_the_ticket_form_after_the_resume(
        real: RealAssistant, desk: Desk) -> None:
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = desk.bridge
    async with serve(channel, agent=real.agent) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await queued(client, real, session)
            await client.send("ticket please")
            said = await replies(client)
            assert said[0] == LEFT_FOR_TICKET and any(TICKET_INTRO in text for text in said[1:]), said
            events = await tracker_events(real.agent, session)
            resumed_at = kinds(events).index("resume")
            user = [e for e in events[resumed_at:] if getattr(e, "type_name", "") == "user"]
            assert user and user[0].text == "/contact_support"
            assert any(getattr(e, "action_name", None) == "action_ticket_start" for e in events[resumed_at:])
        finally:
            await client.close()


async def test_agent_hands_back_and_the_bridge_resumes_before_the_customer_writes(
        real: RealAssistant, desk: Desk) -> None:
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = desk.bridge
    async with serve(channel, agent=real.agent) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await queued(client, real, session)
            await off_thread(desk.console.claim, session, desk.person.id)
            await client.replies(timeout=10)
            await off_thread(desk.console.release, session, desk.person.id, "assistant")
            assert BACK_WITH_ASSISTANT in await replies(client)

            async def resumed() -> bool:
                return "resume" in kinds(await tracker_events(real.agent, session))

            for _ in range(100):
                if await resumed():
                    break
                await asyncio.sleep(0.1)
            assert await resumed(), "the bridge did not resume the tracker at the release"
            await client.send("thanks, what about my 2FA?")
            assert await replies(client)
            events = await tracker_events(real.agent, session)
            assert kinds(events).count("resume") == 1
            assert "bot" in after(events, kinds(events).index("resume"))
        finally:
            await client.close()


