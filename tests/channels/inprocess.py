"""Input channels served in-process by Sanic, with a recording stand-in for the Rasa agent.

No model, no action server: what a channel hands to Rasa is recorded, and the
stand-in answers ``echo: <text>`` on the message's output channel, so a test sees
both what reached the conversation logic and what the customer got back.
"""
from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List

from rasa.core.channels import channel as rasa_channel
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from .conftest import free_port


class _TestSanic(Sanic):
    # Sanic 21.12 rewrites some of its own methods when a server starts ("touch-up")
    # and fails on the second server of a process unless it runs in test mode,
    # which keeps the originals to rewrite.
    test_mode = True


class Served:
    def __init__(self, url: str) -> None:
        self.url = url
        self.messages: List[UserMessage] = []


class _EchoAgent:
    def __init__(self, served: Served) -> None:
        self.served = served

    async def handle_message(self, message: UserMessage) -> None:
        self.served.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


@asynccontextmanager
async def serve(*channels: InputChannel, agent: Any = None) -> AsyncIterator[Served]:
    """``channels`` registered under /webhooks/ as `rasa run` does, on a free loopback port.

    ``agent``: a real Rasa ``Agent`` instead of the echo stand-in (``messages`` then stays empty).
    """
    app = _TestSanic(f"channels_{uuid.uuid4().hex[:8]}")
    port = free_port()
    served = Served(f"http://127.0.0.1:{port}")
    app.ctx.agent = agent if agent is not None else _EchoAgent(served)
    rasa_channel.register(list(channels), app, "/webhooks/")
    server: Any = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.after_start()
    try:
        yield served
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
