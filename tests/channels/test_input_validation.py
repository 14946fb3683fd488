"""Bad input on the REST and socket.io channels, in-process (no model): refused clearly or repaired.

What reached the conversation logic is recorded by the stand-in agent of
``inprocess.serve``; the end-to-end counterparts (the real Rasa server) are in
test_socketio_rest.py, and through the load balancer in tests/prod/test_3_fuzz.py.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, Iterator, Tuple

import aiohttp
import pytest

from loginhelp.channels.common import MAX_JSON_DEPTH, clean_json, clean_text
from loginhelp.channels.rest import RestInput
from loginhelp.channels.socketio import SocketIOInput

from .inprocess import Served, serve


def nested_object(depth: int) -> Dict[str, Any]:
    """``depth`` levels of objects, the outermost included."""
    value: Dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


def test_common_cleaning_replaces_lone_surrogates_and_keeps_pairs():
    assert clean_text("can\ud800t log in \U0001f510") == "can\ufffdt log in \U0001f510"
    assert clean_json({"k\udc00": ["v\ud800", 1, None]}) == {"k\ufffd": ["v\ufffd", 1, None]}
    assert clean_json(nested_object(MAX_JSON_DEPTH)) == nested_object(MAX_JSON_DEPTH)
    with pytest.raises(ValueError, match="nested"):
        clean_json(nested_object(MAX_JSON_DEPTH + 1))


# --- REST ----------------------------------------------------------------------------------


@pytest.fixture
async def rest() -> Iterator[Served]:
    async with serve(RestInput()) as served:
        yield served


async def post_rest(served: Served, body: bytes) -> Tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{served.url}/webhooks/rest/webhook", data=body,
                             headers={"Content-Type": "application/json"}) as reply:
            return reply.status, await reply.json()


async def test_rest_replaces_a_lone_surrogate_and_answers(rest: Served):
    # The stock channel answered 200 [] here: the tracker store could not encode the text.
    status, replies = await post_rest(rest, b'{"sender": "rest-sur", "message": "I can\\ud800t log in"}')
    assert status == 200
    assert replies == [{"recipient_id": "rest-sur", "text": "echo: I can\ufffdt log in"}]
    [message] = rest.messages
    assert message.text == "I can\ufffdt log in"
    message.text.encode("utf-8")  # storable


async def test_rest_replaces_lone_surrogates_in_metadata(rest: Served):
    body = b'{"sender": "rest-sur-md", "message": "hi", "metadata": {"user_agent": "X\\udc00", "k\\ud800": [1]}}'
    status, replies = await post_rest(rest, body)
    assert status == 200 and replies
    assert rest.messages[0].metadata == {"user_agent": "X\ufffd", "k\ufffd": [1]}


@pytest.mark.parametrize("field", ["sender", "input_channel"])
async def test_rest_refuses_an_identifier_with_a_lone_surrogate(rest: Served, field: str):
    # Identifiers are not repaired: two different senders must not become one conversation.
    body = {"sender": "rest-id", "message": "hi", field: "PLACEHOLDER"}
    raw = json.dumps(body).replace("PLACEHOLDER", "abc\\ud800").encode()
    status, error = await post_rest(rest, raw)
    assert status == 400 and f'"{field}"' in error["message"] and "surrogate" in error["message"]
    assert rest.messages == []


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900])  # 900: under the JSON parser's own limit
async def test_rest_refuses_deep_metadata_with_a_clear_400(rest: Served, depth: int):
    # The stock channel answered 200 [] here: storing the event recursed too deep.
    body = json.dumps({"sender": "rest-deep", "message": "hi", "metadata": nested_object(depth)}).encode()
    status, error = await post_rest(rest, body)
    assert status == 400
    assert "metadata" in error["message"] and "nested too deeply" in error["message"]
    assert rest.messages == []


async def test_rest_accepts_metadata_up_to_the_depth_limit(rest: Served):
    body = json.dumps({"sender": "rest-deep-ok", "message": "hi",
                       "metadata": nested_object(MAX_JSON_DEPTH)}).encode()
    status, replies = await post_rest(rest, body)
    assert status == 200 and replies[0]["text"] == "echo: hi"
    assert rest.messages[0].metadata == nested_object(MAX_JSON_DEPTH)


# --- socket.io over engine.io polling --------------------------------------------------------


# As in credentials.yml.
WIDGET = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
          "session_persistence": True, "metadata_key": "customData"}


@pytest.fixture
async def socketio() -> Iterator[Served]:
    async with serve(SocketIOInput.from_credentials(WIDGET)) as served:
        yield served


class Polling:
    """A raw engine.io 4 polling session (the transport the fuzz test found the defects on)."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = f"{base}/socket.io/?EIO=4&transport=polling"
        self.url = ""

    async def open(self) -> "Polling":
        async with self.http.get(self.base) as reply:
            text = await reply.text()
        self.url = f"{self.base}&sid={json.loads(text[text.index('{'):])['sid']}"
        return self

    async def post(self, body: bytes, timeout: float = 5) -> Tuple[int, str]:
        async with self.http.post(self.url, data=body, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
            return reply.status, await reply.text()

    async def get(self, timeout: float = 5) -> Tuple[int, str]:
        async with self.http.get(self.url, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
            return reply.status, await reply.text()


async def test_engineio_post_to_a_closed_session_is_a_400(socketio: Served):
    # python-engineio 4.15 raised KeyError('Session is disconnected') here: a 500.
    async with aiohttp.ClientSession() as http:
        session = await Polling(http, socketio.url).open()
        assert (await session.post(b"40"))[0] == 200
        assert (await session.post(b"1"))[0] == 200  # CLOSE
        status, body = await session.post(b"40")
    assert status == 400 and "Invalid session" in body


REJECTED = {"noop": b"6", "open": b"0", "over-1MB": b"4" + b"x" * 1_000_001}  # a client never sends these


@pytest.mark.parametrize("packet", REJECTED.values(), ids=list(REJECTED))
async def test_engineio_rejected_packet_answers_at_once(socketio: Served, packet: bytes):
    # python-engineio 4.15 closed the session with close(wait=True), waiting for a GET
    # poll that never came: the POST hung until the load balancer timed out.
    async with aiohttp.ClientSession() as http:
        session = await Polling(http, socketio.url).open()
        assert (await session.post(b"40"))[0] == 200
        started = time.monotonic()
        status, _ = await session.post(packet, timeout=5)
        assert status == 400 and time.monotonic() - started < 2
        # The session is gone, as engine.io says for an unknown one; the client reconnects.
        status, body = await session.get()
        assert status == 400 and "Invalid session" in body
        again = await Polling(http, socketio.url).open()
        assert (await again.post(b"40"))[0] == 200


def socketio_events(payload: str) -> list:
    return [json.loads(p[2:]) for p in payload.split("\x1e") if p.startswith("42")]


async def test_socketio_message_with_a_lone_surrogate_and_deep_custom_data_is_answered(socketio: Served):
    deep = "[" * 5000 + "]" * 5000  # json.loads raised RecursionError, not a ValueError
    async with aiohttp.ClientSession() as http:
        session = await Polling(http, socketio.url).open()
        assert (await session.post(b"40"))[0] == 200
        assert (await session.get())[0] == 200  # the CONNECT answer
        assert (await session.post(b'42["session_request",{"session_id":null}]'))[0] == 200
        [[_, session_id]] = socketio_events((await session.get())[1])
        event = ('42["user_uttered",{"message":"can\\ud800t log in","session_id":"' + session_id
                 + '","customData":' + json.dumps(deep) + "}]")
        assert (await session.post(event.encode()))[0] == 200
        for _ in range(50):
            if socketio.messages:
                break
            await asyncio.sleep(0.1)
        status, payload = await session.get()
    [message] = socketio.messages
    assert message.text == "can\ufffdt log in" and message.metadata == {}
    assert status == 200 and ["bot_uttered", {"text": "echo: can\ufffdt log in"}] in socketio_events(payload)
