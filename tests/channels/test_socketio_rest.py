"""The widget's socket.io channel (python-socketio's AsyncClient) and the REST channel.

The client uses the polling transport: python-engineio 4.15's websocket client
needs aiohttp >= 3.10 and Rasa 3.6 pins 3.9. Browsers upgrade to websockets as
usual (see test_widget_browser.py).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional

import pytest
import requests
import socketio

from .conftest import Stack

GREETING = "Hi, I'm CoinEx's login helper"
FIREFOX_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")


def custom_data(user_agent: str = CHROME_UA, **extra: Any) -> Dict[str, Any]:
    return {"user_agent": user_agent, "language": "en-GB", "timezone": "Europe/London",
            "client_time": int(time.time() * 1000), **extra}


#: What the widget sends when it has no stored session.
NEW_SESSION: Dict[str, Any] = {"session_id": None}


class WidgetClient:
    """What the widget does on the wire: session_request, then user_uttered with customData."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.inbox: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.confirmed: "asyncio.Queue[str]" = asyncio.Queue()
        self.session_id: Optional[str] = None
        self.sio.on("bot_uttered", self.inbox.put)
        self.sio.on("session_confirm", self.confirmed.put)

    async def connect(self, session_request: Any = NEW_SESSION) -> str:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        await self.sio.emit("session_request", session_request)
        self.session_id = await asyncio.wait_for(self.confirmed.get(), 10)
        return self.session_id

    async def send(self, text: Any, metadata: Any = None) -> None:
        await self.sio.emit("user_uttered", {
            "message": text, "session_id": self.session_id,
            "customData": custom_data() if metadata is None else metadata,
        })

    async def replies(self, timeout: float = 20.0, quiet: float = 1.0) -> List[Dict[str, Any]]:
        """Every bot message until the bot has been quiet for ``quiet`` seconds."""
        got = [await asyncio.wait_for(self.inbox.get(), timeout)]
        while True:
            try:
                got.append(await asyncio.wait_for(self.inbox.get(), quiet))
            except asyncio.TimeoutError:
                return got

    async def close(self) -> None:
        # A graceful disconnect waits for the pending long-poll GET, which the
        # server holds until its next ping (~25 s); the page being closed or
        # reloaded is an abort anyway.
        eio = self.sio.eio
        await eio.disconnect(abort=True)
        tasks = [t for t in (eio.read_loop_task, eio.write_loop_task) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if eio.http is not None and not eio.http.closed:
            await eio.http.close()


@pytest.fixture
async def widget(stack: Stack):
    client = WidgetClient(stack.rasa_url)
    yield client
    await client.close()


async def test_greeting_has_buttons(widget: WidgetClient):
    await widget.connect()
    await widget.send("/greet")
    [greeting] = await widget.replies()
    assert greeting["text"].startswith(GREETING)
    titles = [b["title"] for b in greeting["quick_replies"]]
    assert "Browser trouble" in titles


async def test_the_widgets_custom_data_reaches_the_actions(stack: Stack, widget: WidgetClient):
    session = await widget.connect()
    sent_at = int(time.time() * 1000)
    await widget.send("/browser_issue", custom_data(FIREFOX_UA, client_time=sent_at, favourite_colour="red",
                                                    language="de-DE", timezone="Asia/Singapore"))
    replies = await widget.replies()
    # The browser comes from the user agent: no "which browser?" question.
    assert replies[0]["text"].startswith("Clear Firefox's cache and cookies")
    assert replies[1]["text"] == "Did that help?"
    [event] = stack.wait_for_user_events(session, 1)
    metadata = {k: v for k, v in event["metadata"].items() if k not in ("model_id", "assistant_id")}
    assert metadata == {"user_agent": FIREFOX_UA, "language": "de-DE",  # unknown keys dropped
                        "timezone": "Asia/Singapore", "client_time": sent_at}


async def test_reconnecting_with_the_stored_session_continues_the_conversation(stack: Stack):
    first = WidgetClient(stack.rasa_url)
    session = await first.connect()
    await first.send("/browser_issue")
    assert (await first.replies())[0]["text"].startswith("Clear Chrome's cache")
    await first.close()  # the page is reloaded

    second = WidgetClient(stack.rasa_url)
    try:
        assert await second.connect({"session_id": session}) == session
        await second.send("no, still not working")
        replies = await second.replies()
        assert replies[0]["text"].startswith("Now try a different browser")
    finally:
        await second.close()


async def test_malformed_socket_events_get_a_clear_reply(widget: WidgetClient):
    session = await widget.connect()
    for data in ("plain string", None, 42, ["a", "list"], {"message": "hi"},  # no session id
                 {"message": 123, "session_id": session}, {"message": {"a": 1}, "session_id": session},
                 {"message": "hi", "session_id": "../../etc/passwd"}):
        await widget.sio.emit("user_uttered", data)
        [reply] = await widget.replies(timeout=10, quiet=0.5)
        assert reply["text"].startswith("Sorry, I"), (data, reply)
    # Custom data that is not JSON is dropped; the message itself is answered.
    await widget.sio.emit("user_uttered", {"message": "/greet", "session_id": session, "customData": "{oops"})
    assert (await widget.replies())[0]["text"].startswith(GREETING)
    # Events the channel does not know are ignored, and the server carries on.
    await widget.sio.emit("no_such_event", {"x": 1})
    await widget.send("/greet")
    assert (await widget.replies())[0]["text"].startswith(GREETING)


async def test_bad_session_requests_get_a_fresh_session(stack: Stack):
    for request in (None, "x", 5, {"session_id": "../../etc/passwd"}, {"session_id": ["a"]}):
        client = WidgetClient(stack.rasa_url)
        try:
            session = await client.connect(request)
            assert len(session) == 32 and session.isalnum()
        finally:
            await client.close()


ODD_TEXTS = {
    "empty": "",
    "blank": "   ",
    "20000-chars": "x" * 20_000,
    "emoji": "😀🔐🙏 can't log in 😭",
    "html": "<script>alert('x')</script><b>login</b> &amp; broken",
}


@pytest.mark.parametrize("text", ODD_TEXTS.values(), ids=list(ODD_TEXTS))
async def test_odd_widget_messages_get_an_answer(stack: Stack, widget: WidgetClient, text: str):
    session = await widget.connect()
    started = time.time()
    await widget.send(text)
    replies = await widget.replies(timeout=30)
    assert replies and all(r.get("text") for r in replies)
    assert "<script>" not in " ".join(r["text"] for r in replies)
    assert time.time() - started < 15
    [event] = stack.wait_for_user_events(session, 1)
    assert len(event["text"]) <= 4096


# --- REST ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b'"just a string"', 400),
    (b'{"sender": "rest-bad"}', 400),
    (b'{"sender": "rest-bad", "message": 5}', 400),
    (b'{"sender": {"a": 1}, "message": "hi"}', 400),
    (b'{"sender": "rest-bad", "message": "hi", "metadata": "x"}', 400),
    (b'{"sender": "rest-bad", "message": "hi", "metadata": ' + b'{"x": ' * 900 + b"1" + b"}" * 901, 400),
    (b'{"sender": "rest-bad\\ud800", "message": "hi"}', 400),
])
def test_rest_rejects_bad_bodies_with_400(stack: Stack, body: bytes, status: int):
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=body,
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == status, reply.text
    assert reply.json()["message"]


@pytest.mark.parametrize("text", ODD_TEXTS.values(), ids=list(ODD_TEXTS))
def test_rest_answers_odd_messages(stack: Stack, text: str):
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": f"rest-odd-{time.time()}", "message": text}, timeout=30)
    assert reply.status_code == 200 and reply.json() and reply.json()[0]["text"]


def test_rest_answers_a_message_with_a_lone_surrogate(stack: Stack):
    # The stock channel answered 200 [] (the tracker store could not encode the text): message lost.
    sender = f"rest-surrogate-{time.time()}"
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          data=b'{"sender": "%s", "message": "I can\\ud800t log in", '
                               b'"metadata": {"note": "\\udfff"}}' % sender.encode(),
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 200 and reply.json() and reply.json()[0]["text"]
    [event] = stack.wait_for_user_events(sender, 1)
    assert event["text"] == "I can\ufffdt log in"
    assert event["metadata"]["note"] == "\ufffd"
