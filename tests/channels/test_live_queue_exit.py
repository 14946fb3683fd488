"""Leaving the live queue: "cancel" / "ticket please" while waiting, and the wait limit offering the ticket.

Same setting as test_live_handoff.py (in-process channels with the echo stand-in for Rasa, so what the bridge
hands to Rasa is an ``echo:`` reply; migrated SQLite; the real Redis under a private prefix, failing when
it is down; the fake Telegram Bot API).
"""
from __future__ import annotations

import asyncio
from datetime import timedelta

from rasa.core.channels.socketio import SocketIOOutput

from loginhelp.channels.live import CONTACT_SUPPORT, LiveBridge, RedisClaims
from loginhelp.channels.socketio import SocketIOInput
from loginhelp.db.engine import make_engine
from loginhelp.handoff import LiveHandoff, RedisRelay
from loginhelp.handoff.customer_lines import EXPIRED_TICKET_OFFERED, JOINED, LEFT_FOR_TICKET, LEFT_QUEUE
from loginhelp.handoff.repository import CUSTOMER_LEFT_LINES

from . import telegram_updates as tg
from . import test_live_handoff as live
from .fake_telegram import FakeTelegramAPI
from .inprocess import serve
from .test_live_handoff import WIDGET, World, next_text, nothing_more, off_thread, post, sent, telegram, until
from .test_socketio_rest import WidgetClient

# The fixtures of test_live_handoff.py: the shared database, Redis under a private prefix, the fake Bot API.
world, relay_settings, fake = live.world, live.relay_settings, live.fake


def replica(world: World, wait: timedelta, sweep_seconds: float = 0.1) -> LiveBridge:
    """A Rasa replica whose wait limit is ``wait`` (the setting's 5 minutes are too long for a test)."""
    assert world.relay is not None
    engine = make_engine(world.url)
    made = LiveBridge(LiveHandoff.on(engine, RedisRelay.connect(world.relay), wait_limit=wait),
                      RedisClaims.connect(world.relay), sweep_seconds=sweep_seconds)
    world.bridges.append(made)
    return made


async def test_socketio_cancel_while_waiting_leaves_the_queue_and_the_assistant_answers_again(world: World):
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = world.bridge()
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await off_thread(world.console.request_agent, session, "socketio")
            await client.send("Cancel!")
            assert await next_text(client) == LEFT_QUEUE
            await nothing_more(client)
            view = world.console.state_of(session)
            assert view is not None
            assert (view.state, view.released_to, view.released_by) == ("released", "assistant", "customer")
            # The agent's transcript says who ended it; Rasa saw nothing of it.
            assert world.stored(session) == [("customer", "Cancel!"), ("system", CUSTOMER_LEFT_LINES["assistant"])]
            assert served.messages == []
            await client.send("hello again")
            assert await next_text(client) == "echo: hello again"
            assert [m.text for m in served.messages] == ["hello again"]
        finally:
            await client.close()


async def test_socketio_ticket_please_while_waiting_hands_contact_support_to_rasa_for_that_conversation(world: World):
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = world.bridge()
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await off_thread(world.console.request_agent, session, "socketio")
            await client.send("ticket please")
            assert await next_text(client) == LEFT_FOR_TICKET
            assert await next_text(client) == f"echo: {CONTACT_SUPPORT}"  # the assistant's answer, in this chat
            await nothing_more(client)
            [message] = served.messages
            assert (message.text, message.sender_id, message.input_channel) == (CONTACT_SUPPORT, session, "socketio")
            assert isinstance(message.output_channel, SocketIOOutput)
            view = world.console.state_of(session)
            assert view is not None and (view.released_to, view.released_by) == ("ticket", "customer")
        finally:
            await client.close()


async def test_cancel_with_an_agent_in_the_chat_is_a_message_for_the_agent(world: World):
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = world.bridge()
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await off_thread(world.console.request_agent, session, "socketio")
            await off_thread(world.console.claim, session, world.agent.id)
            assert await next_text(client) == JOINED
            await client.send("cancel")
            await nothing_more(client)
            view = world.console.state_of(session)
            assert view is not None and view.state == "active"
            assert world.customer_lines(session) == ["cancel"]
            assert served.messages == []
        finally:
            await client.close()


async def test_a_waiting_message_that_merely_mentions_cancelling_stays_with_the_agent(world: World):
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = world.bridge()
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await off_thread(world.console.request_agent, session, "socketio")
            await client.send("I can't cancel my withdrawal either")
            assert (await next_text(client)).startswith("You're still in the queue")
            view = world.console.state_of(session)
            assert view is not None and view.state == "waiting"
            assert served.messages == []
        finally:
            await client.close()


async def test_telegram_ticket_instead_while_waiting(world: World, fake: FakeTelegramAPI):
    chat = 9401
    async with serve(telegram(fake, world.bridge())) as served:
        await off_thread(world.console.request_agent, str(chat), "telegram")
        assert await post(served, tg.text(chat, "I'll file a ticket instead")) == "live chat"
        await until(lambda: f"echo: {CONTACT_SUPPORT}" in sent(fake, chat), what="the assistant's answer")
        assert sent(fake, chat) == [LEFT_FOR_TICKET, f"echo: {CONTACT_SUPPORT}"]
        assert [(m.text, m.sender_id, m.input_channel) for m in served.messages] == [
            (CONTACT_SUPPORT, str(chat), "telegram")]


async def test_wait_limit_offers_the_ticket_once_across_two_telegram_replicas(world: World, fake: FakeTelegramAPI):
    chat = 9402
    first_bridge, second_bridge = replica(world, timedelta(seconds=1)), replica(world, timedelta(seconds=1))
    async with serve(telegram(fake, first_bridge)) as first, serve(telegram(fake, second_bridge)) as second:
        await off_thread(world.console.request_agent, str(chat), "telegram")
        await until(lambda: f"echo: {CONTACT_SUPPORT}" in sent(fake, chat), what="the ticket offered")
        await asyncio.sleep(1.5)  # time for a second offer to show up
        # Either replica may deliver the line; each is sent once, and Rasa got /contact_support once.
        assert sorted(sent(fake, chat)) == sorted([EXPIRED_TICKET_OFFERED, f"echo: {CONTACT_SUPPORT}"])
        handed = [(m.text, m.sender_id, m.input_channel) for m in first.messages + second.messages]
        assert handed == [(CONTACT_SUPPORT, str(chat), "telegram")]
        view = world.console.state_of(str(chat))
        assert view is not None and (view.state, view.released_to, view.released_by) == ("released", "expired", "queue")


async def test_wait_limit_on_the_widget_counts_from_joining_the_queue(world: World):
    # An open widget writes a sign of life every few seconds; the wait still ends at the limit.
    channel = SocketIOInput.from_credentials(WIDGET)
    channel.live = replica(world, timedelta(seconds=1))
    async with serve(channel) as served:
        client = WidgetClient(served.url)
        try:
            session = await client.connect()
            await off_thread(world.console.request_agent, session, "socketio")
            assert await next_text(client, timeout=10) == EXPIRED_TICKET_OFFERED
            assert await next_text(client) == f"echo: {CONTACT_SUPPORT}"
            await nothing_more(client)
            assert [(m.text, m.sender_id) for m in served.messages] == [(CONTACT_SUPPORT, session)]
        finally:
            await client.close()
