"""The live handoff on the channels: the customer's messages reach the agent instead of Rasa, the agent's reach
the customer (socket.io in the session's room, Telegram by the bot, exactly once across replicas).

In-process servers (tests/channels/inprocess.py: Rasa is an echo stand-in, so "the assistant answered" is an
``echo:`` reply), a migrated SQLite database, the real Redis at 127.0.0.1:6379 under a key prefix of the test
alone (the tests FAIL when Redis is unreachable), and the fake Telegram Bot API. The console's side is a
second ``LiveHandoff`` on its own engine and Redis connection, as the console process has.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import redis

from loginhelp.agents import passwords
from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.channels.live import Claims, LiveBridge, RedisClaims, secret_warnings
from loginhelp.channels.socketio import SocketIOInput
from loginhelp.channels.telegram import TelegramInput, TelegramSettings
from loginhelp.db.engine import make_engine
from loginhelp.handoff import LiveHandoff, RedisRelay, Relay, RelaySettings
from loginhelp.handoff.customer_lines import BACK_WITH_ASSISTANT, CLOSED, still_waiting
from loginhelp.handoff.repository import JOINED

from . import telegram_updates as tg
from .fake_telegram import FakeTelegramAPI
from .inprocess import Served, serve
from .test_socketio_rest import WidgetClient

REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))
TOKEN = "987654321:LIVE-test_token"
SECRET = "live-test-secret_0123456789"
WIDGET = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
          "session_persistence": True, "metadata_key": "customData"}
HTML = '<b>Try this</b> <script>alert("x")</script> & <a href="https://evil.test">link</a>'


@pytest.fixture(scope="module", autouse=True)
def _fast_hashing() -> None:
    passwords.use_fast_hashing_for_tests()


@pytest.fixture
def relay_settings() -> Iterator[RelaySettings]:
    """The real Redis with a key prefix of this test alone; fails (never skips) when Redis is down."""
    found = RelaySettings(host="127.0.0.1", port=6379, db=REDIS_DB, key_prefix=f"lhtest{secrets.token_hex(4)}")
    client = redis.Redis(host=found.host, port=found.port, db=found.db, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({error})", pytrace=False)
    yield found
    keys = list(client.scan_iter(f"{found.key_prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@dataclass
class World:
    """The database and Redis a deployment shares; bridges are Rasa replicas, ``console`` the agent's process."""

    url: str
    relay: Optional[RelaySettings]
    console: LiveHandoff
    agent: AgentView
    bridges: List[LiveBridge]

    def bridge(self, sweep_seconds: float = 60.0, presence_seconds: float = 30.0) -> LiveBridge:
        """A replica: its own engine, Redis connections and listener."""
        engine = make_engine(self.url)
        if self.relay is None:
            made = LiveBridge(LiveHandoff.on(engine, Relay()), Claims(), sweep_seconds=sweep_seconds,
                              presence_seconds=presence_seconds)
        else:
            made = LiveBridge(LiveHandoff.on(engine, RedisRelay.connect(self.relay)), RedisClaims.connect(self.relay),
                              sweep_seconds=sweep_seconds, presence_seconds=presence_seconds)
        self.bridges.append(made)
        return made

    def stored(self, conversation_id: str) -> List[tuple]:
        return [(m.sender, m.text) for m in self.console.conversations.messages_after(conversation_id)]

    def customer_lines(self, conversation_id: str) -> List[str]:
        return [text for sender, text in self.stored(conversation_id) if sender == "customer"]


def _world(url: str, relay: Optional[RelaySettings]) -> World:
    engine = make_engine(url)
    agent = AgentRepository(engine).add("alice@coinex.test", "correct horse battery", "agent")
    console = LiveHandoff.on(engine, RedisRelay.connect(relay) if relay else Relay())
    return World(url, relay, console, agent, [])


@pytest.fixture
async def world(sqlite_url: str, relay_settings: RelaySettings) -> Any:
    made = _world(sqlite_url, relay_settings)
    yield made
    for bridge in made.bridges:
        await bridge.close()


@pytest.fixture
async def world_without_redis(sqlite_url: str) -> Any:
    made = _world(sqlite_url, None)
    yield made
    for bridge in made.bridges:
        await bridge.close()


async def until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def listening(*bridges: LiveBridge) -> None:
    await until(lambda: all(b.listening for b in bridges), what="the relay listeners")


async def off_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """The console's calls block (database, Redis): off the event loop the servers run on."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


# --- socket.io ---------------------------------------------------------------------------------


async def next_text(client: WidgetClient, timeout: float = 10.0) -> str:
    return (await asyncio.wait_for(client.inbox.get(), timeout))["text"]


async def nothing_more(client: WidgetClient, quiet: float = 1.0) -> None:
    try:
        extra = await asyncio.wait_for(client.inbox.get(), quiet)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected message: {extra}")


async def test_socketio_customer_in_a_handoff_reaches_the_agent_and_the_assistant_stays_silent(world: World):
    bridge = world.bridge()
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = bridge
    async with serve(channel) as served:
        await listening(bridge)
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await client.send("hello")
            assert await next_text(client) == "echo: hello"  # no handoff: the assistant answers

            await off_thread(world.console.request_agent, session, "socketio")
            await client.send("is anyone there?")
            # One line back while waiting, with the place; nothing from the assistant.
            assert await next_text(client) == still_waiting(1)
            await client.send("hello??")
            await nothing_more(client)  # the queue line at most once a minute
            assert world.customer_lines(session) == ["is anyone there?", "hello??"]

            await off_thread(world.console.claim, session, world.agent.id)
            assert await next_text(client) == JOINED
            await off_thread(world.console.agent_says, session, world.agent.id, HTML)
            assert await next_text(client) == HTML  # the literal text: the widget shows it with textContent
            await client.send("my password is Hunter2024! and it still fails")
            [warning] = secret_warnings(["password"])
            assert await next_text(client) == warning
            assert "utter_secret" not in warning and "never share your password" in warning
            await nothing_more(client)
            stored = world.customer_lines(session)[-1]
            assert "Hunter2024" not in stored and "[redacted password]" in stored
            assert [m.text for m in served.messages] == ["hello"]  # Rasa saw none of the live chat

            await off_thread(world.console.release, session, world.agent.id, "assistant")
            assert await next_text(client) == BACK_WITH_ASSISTANT
            await nothing_more(client)
            await client.send("thanks, all good")
            assert await next_text(client) == "echo: thanks, all good"
            assert [m.text for m in served.messages] == ["hello", "thanks, all good"]
        finally:
            await client.close()


async def test_socketio_agent_messages_sent_while_away_arrive_on_reconnect_once(world: World):
    bridge = world.bridge()
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = bridge
    async with serve(channel) as served:
        await listening(bridge)
        first = WidgetClient(served.url)
        session = await first.connect()
        await off_thread(world.console.request_agent, session, "socketio")
        await off_thread(world.console.claim, session, world.agent.id)
        assert await next_text(first) == JOINED
        await first.close()  # the page is reloaded
        await until(lambda: not bridge._deliverers["socketio"].present(session), what="the room to empty")
        await off_thread(world.console.agent_says, session, world.agent.id, "Are you still there?")
        await asyncio.sleep(0.5)
        second = WidgetClient(served.url)
        try:
            assert await second.connect({"session_id": session}) == session
            assert await next_text(second) == "Are you still there?"
            await nothing_more(second)  # not JOINED again
            await off_thread(world.console.release, session, world.agent.id, "closed")
            assert await next_text(second) == CLOSED
        finally:
            await second.close()


async def test_socketio_a_connected_waiting_customer_keeps_their_place_and_a_gone_one_does_not(world: World):
    bridge = world.bridge(sweep_seconds=0.1, presence_seconds=0.0)
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = bridge
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        session = await client.connect()
        await off_thread(world.console.request_agent, session, "socketio")

        def seen_at() -> Any:
            view = world.console.state_of(session)
            assert view is not None
            return view.customer_seen_at

        queued = seen_at()
        await until(lambda: seen_at() > queued, what="a sign of life while connected")
        await client.close()
        await until(lambda: not any(True for _ in channel.sio.manager.get_participants("/", session)),
                    what="the room to empty")
        await asyncio.sleep(0.3)
        gone = seen_at()
        await asyncio.sleep(0.5)
        assert seen_at() == gone  # the wait limit runs: the console's queue drops them after it


# --- Telegram ----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeTelegramAPI]:
    api = FakeTelegramAPI(TOKEN).start()
    yield api
    api.stop()


def telegram(fake: FakeTelegramAPI, bridge: LiveBridge) -> TelegramInput:
    settings = TelegramSettings.load({}, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET,
                                          "TELEGRAM_API_BASE": fake.base_url})
    return TelegramInput(settings, live=bridge)


async def post(served: Served, update: Dict[str, Any]) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{served.url}/webhooks/telegram/webhook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as reply:
            assert reply.status == 200, await reply.text()
            return str((await reply.json())["status"])


def sent(fake: FakeTelegramAPI, chat: int) -> List[str]:
    return [c.text for c in fake.calls_to("sendMessage", chat)]


def document(chat: int, name: str) -> Dict[str, Any]:
    return tg.message(chat, document={"file_id": "BQACAgQAAxkBAAIBdoc", "file_unique_id": "AgADd",
                                      "file_name": name, "mime_type": "application/pdf", "file_size": 1234})


async def test_telegram_agent_reply_is_sent_once_and_a_photo_reaches_the_agent(world: World, fake: FakeTelegramAPI):
    chat = 9301
    bridge = world.bridge()
    async with serve(telegram(fake, bridge)) as served:
        await listening(bridge)
        await off_thread(world.console.request_agent, str(chat), "telegram")
        assert await post(served, tg.text(chat, "hello, I need a person")) == "live chat"
        assert await post(served, tg.text(chat, "/start")) == "live chat"
        await off_thread(world.console.claim, str(chat), world.agent.id)
        await off_thread(world.console.agent_says, str(chat), world.agent.id, HTML)
        await until(lambda: HTML in sent(fake, chat), what="the agent's reply")
        assert await post(served, tg.photo(chat, caption="this is the error")) == "live chat"
        assert await post(served, document(chat, "error.pdf")) == "live chat"
        await asyncio.sleep(1.0)
        assert sent(fake, chat) == [still_waiting(1), JOINED, HTML]  # each once, as plain text
        call = fake.calls_to("sendMessage", chat)[-1]
        assert "parse_mode" not in call.params
        assert world.customer_lines(str(chat)) == ["hello, I need a person", "/start",
                                                   "[photo] this is the error", "[document: error.pdf]"]
        assert served.messages == []  # the assistant stayed silent

        await off_thread(world.console.release, str(chat), world.agent.id, "assistant")
        await until(lambda: BACK_WITH_ASSISTANT in sent(fake, chat), what="the back line")
        assert await post(served, tg.text(chat, "thanks")) == "processed"
        assert [m.text for m in served.messages] == ["thanks"]
        await until(lambda: "echo: thanks" in sent(fake, chat), what="the assistant's answer")


async def test_telegram_secret_is_redacted_and_the_customer_warned(world: World, fake: FakeTelegramAPI):
    chat = 9302
    bridge = world.bridge()
    async with serve(telegram(fake, bridge)) as served:
        await off_thread(world.console.request_agent, str(chat), "telegram")
        await off_thread(world.console.claim, str(chat), world.agent.id)
        assert await post(served, tg.text(chat, "the code is 551 204 and it is rejected")) == "live chat"
        [warning] = secret_warnings(["2fa_code"])
        await until(lambda: warning in sent(fake, chat), what="the 2FA warning")
        [line] = world.customer_lines(str(chat))
        assert "551" not in line and "[redacted 2fa code]" in line
        assert served.messages == []


async def test_two_telegram_replicas_store_alternating_messages_once_in_order_and_send_each_reply_once(
        world: World, fake: FakeTelegramAPI):
    chat = 9303
    first_bridge, second_bridge = world.bridge(), world.bridge()
    async with serve(telegram(fake, first_bridge)) as first, serve(telegram(fake, second_bridge)) as second:
        await listening(first_bridge, second_bridge)
        await off_thread(world.console.request_agent, str(chat), "telegram")
        await off_thread(world.console.claim, str(chat), world.agent.id)
        said = [f"message {i}" for i in range(8)]
        for i, text in enumerate(said):  # the load balancer alternates
            assert await post(first if i % 2 == 0 else second, tg.text(chat, text)) == "live chat"
        replies = [f"agent reply {i}" for i in range(5)]
        for text in replies:
            await off_thread(world.console.agent_says, str(chat), world.agent.id, text)
        await until(lambda: replies[-1] in sent(fake, chat), what="the last reply")
        await asyncio.sleep(1.5)  # time for a duplicate to show up
        # A sweep of both replicas over storage must not send anything again either.
        for bridge in (first_bridge, second_bridge):
            handoff = bridge._ready()
            assert handoff is not None
            await bridge.sweep(handoff)
        assert sent(fake, chat) == [JOINED, *replies]
        assert world.customer_lines(str(chat)) == said
        numbers = [m.n for m in world.console.conversations.messages_after(str(chat))]
        assert numbers == list(range(1, len(numbers) + 1))
    assert first.messages == [] and second.messages == []


async def test_without_redis_the_agent_reply_is_read_from_storage(world_without_redis: World, fake: FakeTelegramAPI):
    # `make run`: no Redis, the console in another process; the replica reads storage every few seconds.
    world = world_without_redis
    chat = 9304
    bridge = world.bridge(sweep_seconds=0.2)
    async with serve(telegram(fake, bridge)) as served:
        await off_thread(world.console.request_agent, str(chat), "telegram")
        await off_thread(world.console.claim, str(chat), world.agent.id)
        await off_thread(world.console.agent_says, str(chat), world.agent.id, "Hi, I'm Alice from support.")
        await until(lambda: "Hi, I'm Alice from support." in sent(fake, chat), what="the reply")
        assert await post(served, tg.text(chat, "hi Alice")) == "live chat"
        await off_thread(world.console.release, str(chat), world.agent.id, "assistant")
        await until(lambda: BACK_WITH_ASSISTANT in sent(fake, chat), what="the back line")
        await asyncio.sleep(0.6)
        assert sent(fake, chat) == [JOINED, "Hi, I'm Alice from support.", BACK_WITH_ASSISTANT]
        assert world.customer_lines(str(chat)) == ["hi Alice"]
        assert not bridge.listening  # nothing to listen to


async def test_rest_is_never_routed_to_a_live_agent(world: World):
    # REST cannot push an agent's message: even a conversation in the queue is answered by the assistant.
    import aiohttp

    from loginhelp.channels.rest import RestInput

    await off_thread(world.console.request_agent, "rest-customer", "rest")
    async with serve(RestInput()) as served:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{served.url}/webhooks/rest/webhook",
                                 json={"sender": "rest-customer", "message": "hello?"}) as reply:
                assert await reply.json() == [{"recipient_id": "rest-customer", "text": "echo: hello?"}]
    assert world.customer_lines("rest-customer") == []


def test_secret_warnings_are_the_domains_each_once_with_a_fallback(tmp_path):
    import yaml

    from loginhelp.handoff.customer_lines import SECRET_FALLBACK

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "domain.yml"), encoding="utf-8") as handle:
        responses = yaml.safe_load(handle)["responses"]
    password = responses["utter_secret_password"][0]["text"]
    seed = responses["utter_secret_seed_phrase"][0]["text"]
    assert secret_warnings(["password", "seed_phrase", "password"]) == [password, seed]
    assert secret_warnings(["something_new"]) == [password]  # as the assistant's action does
    assert secret_warnings(["password"], tmp_path / "missing.yml") == [SECRET_FALLBACK]
