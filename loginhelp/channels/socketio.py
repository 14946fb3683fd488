"""The website widget's channel: Rasa's socket.io channel, made robust.

Registered in credentials.yml as ``loginhelp.channels.socketio.SocketIOInput``
with the stock options (``session_persistence``, ``metadata_key``, ...); its name
stays ``socketio`` and its path ``/socket.io``. What it fixes on Rasa 3.6.21 with
python-socketio 5.x:

* ``AsyncServer.enter_room`` is a coroutine in python-socketio >= 5.10, and the
  stock channel calls it without ``await``: with ``session_persistence: true``
  the browser never joins its conversation's room and never sees a reply.
* A malformed ``user_uttered`` event (not an object, no session id, a message
  that is not text, custom data that is not JSON) raised inside the handler:
  the customer saw nothing. Now the customer gets a short, clear reply, and
  only the widget's known custom-data fields (see ``common.widget_metadata``)
  reach the tracker.
* Text is cleaned and capped like on every other channel (``common.clean_text``),
  a lone surrogate escape included (it becomes U+FFFD and the message is answered).
* Two defects of python-engineio 4.15.1's polling transport, each a 5xx or a hung
  request on a bad client's POST, are fixed in ``EngineIOServer`` below.

Live handoff (``loginhelp.channels.live``): while a support agent has, or is about
to take, the conversation, the customer's messages go to the agent instead of
Rasa, and the agent's are emitted to the session's room as ``bot_message_evt``
with only ``text``, exactly like the assistant's replies (the widget shows it as
text, never as HTML). Only the process the session is connected to emits; a
customer who reconnects gets what they missed.
"""
from __future__ import annotations

import inspect
import json
import logging
import re
import urllib.parse
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import engineio
import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as StockSocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from loginhelp.channels.common import clean_text, widget_metadata
from loginhelp.channels.live import ChannelDeliverer, LiveBridge, OnNewMessage, shared_bridge
from loginhelp.contract import WidgetMetadata

logger = logging.getLogger(__name__)

# Session ids are chosen by the server (uuid4 hex); a reconnecting widget sends
# its stored one back. Anything else is replaced by a fresh id.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

UNREADABLE_MESSAGE = (
    "Sorry, I couldn't read that message. Please type your question again, "
    "or reload the page if this keeps happening."
)
NO_SESSION_MESSAGE = (
    "Sorry, I lost track of our conversation. Please reload the page and try again."
)


class EngineIOServer(engineio.AsyncServer):
    """python-engineio's AsyncServer (4.15.1) answering bad polling POSTs at once, with a 400.

    * A POST to a session that is closed but not yet reaped (the client sent a
      CLOSE packet, or an error ended the session) reaches ``_get_socket`` outside
      any ``try`` in ``handle_request``: its ``KeyError('Session is disconnected')``
      became a 500. Here it is a 400, as engine.io answers for an unknown session.
    * A POST with a packet engine.io rejects (NOOP ``6``, an unknown packet type, a
      body over ``max_http_buffer_size``) makes ``handle_request`` call
      ``disconnect(sid)``, which closes the socket with ``close(wait=True)``: that
      waits until a GET poll has taken the CLOSE packet off the queue, and no GET
      comes while the client waits for its POST, so the POST hung until the load
      balancer gave up (504). Here ``disconnect(sid)`` closes without waiting: the
      POST gets its 400 at once and the session is gone (the client's next poll
      gets a 400 too, and it reconnects). Only ``handle_request`` calls
      ``disconnect(sid)``: python-socketio never does, nor does this channel.
    """

    _SESSION_GONE = (("Session not found",), ("Session is disconnected",))  # _get_socket's KeyErrors

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().handle_request(*args, **kwargs)
        except KeyError as error:
            if error.args not in self._SESSION_GONE:
                raise
            translate_request = self._async["translate_request"]
            environ = translate_request(*args, **kwargs)
            if inspect.isawaitable(environ):
                environ = await environ
            sid = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
            self._log_error_once(f"{error.args[0]}: {sid}", "bad-sid")
            return await self._make_response(self._bad_request(f"Invalid session {sid}"), environ)

    async def disconnect(self, sid: Optional[str] = None) -> None:
        if sid is None:
            await super().disconnect()
            return
        socket = self.sockets.get(sid)
        if socket is not None:
            await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
            self.sockets.pop(sid, None)


class SocketIOServer(AsyncServer):
    """python-socketio's AsyncServer (5.18.1) on ``EngineIOServer``."""

    def _engineio_server_class(self) -> type:
        return EngineIOServer


def valid_session_id(value: Any) -> Optional[str]:
    if isinstance(value, str) and _SESSION_ID.match(value):
        return value
    return None


class SocketIODelivery(ChannelDeliverer):
    """How the live chat reaches a widget: the bot-message event in the conversation's room, from this process.

    The wait limit counts from joining the queue: an open widget is a customer still waiting.
    """

    def __init__(self, sio: AsyncServer, event: str, namespace: Optional[str],
                 on_new_message: Optional[OnNewMessage] = None) -> None:
        super().__init__(SocketIOInput.name(), on_new_message)
        self.sio = sio
        self.event = event
        self.namespace = namespace or "/"

    def present(self, conversation_id: str) -> bool:
        """A client of this process is in the room (a room of another process's clients is empty here)."""
        return any(True for _ in self.sio.manager.get_participants(self.namespace, conversation_id))

    def connected(self, conversation_id: str) -> bool:
        return self.present(conversation_id)

    async def deliver(self, conversation_id: str, text: str) -> None:
        await self.sio.emit(self.event, {"text": text}, room=conversation_id, namespace=self.namespace)

    def output(self) -> SocketIOOutput:
        """The assistant's replies to an injected message go to the conversation's room, like any reply."""
        return SocketIOOutput(self.sio, self.event)


class SocketIOInput(StockSocketIOInput):
    """Rasa's socket.io input channel with validation, awaited room joins and the live handoff."""

    #: The live handoff of this process; tests give each server its own.
    live: Optional[LiveBridge] = None

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def live_bridge(self) -> LiveBridge:
        if self.live is None:
            self.live = shared_bridge()
        return self.live

    def _metadata(self, data: Dict[str, Any]) -> WidgetMetadata:
        raw = data.get(self.metadata_key)
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: nested ~1000 levels deep
                logger.warning("socket.io custom data is not JSON; ignored")
                raw = None
        return widget_metadata(raw)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        # Same construction as the stock channel (CORS is left to Sanic-CORS,
        # configured by `rasa run --cors`).
        sio = SocketIOServer(async_mode="sanic", cors_allowed_origins=[])
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        async def say(sid: Text, text: Text) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace)

        @socketio_webhook.listener("after_server_start")
        async def start_live_chat(app: Any, _loop: Any) -> None:
            delivery = SocketIODelivery(sio, self.bot_message_evt, self.namespace, on_new_message)
            await self.live_bridge().attach(self.name(), delivery, app)

        @socketio_webhook.listener("before_server_stop")
        async def stop_live_chat(_app: Any, _loop: Any) -> None:
            await self.live_bridge().detach(self.name())

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                return False
            try:
                payload = rasa.core.channels.channel.decode_bearer_token(
                    token, self.jwt_key, self.jwt_algorithm
                )
            except Exception:  # noqa: BLE001 - any undecodable token is a refusal
                payload = None
            return bool(payload)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text, *_: Any) -> None:
            logger.debug(f"User {sid} disconnected from socketIO endpoint.")

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = valid_session_id(requested) or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):  # python-socketio >= 5.10
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            # Back in the room (a reload, a new tab): agent messages sent while away come now.
            await self.live_bridge().seen(session_id if self.session_persistence else sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict):
                await say(sid, UNREADABLE_MESSAGE)
                return
            if self.session_persistence:
                sender_id = valid_session_id(data.get("session_id"))
                if sender_id is None:
                    await say(sid, NO_SESSION_MESSAGE)
                    return
            else:
                sender_id = sid
            text = data.get("message", "")
            if text is None:
                text = ""
            if not isinstance(text, str):
                await say(sid, UNREADABLE_MESSAGE)
                return
            text = clean_text(text)

            async def reply(line: str) -> None:
                await say(sid, line)

            try:
                taken = await self.live_bridge().intercept(sender_id, self.name(), text, reply)
            except Exception:  # noqa: BLE001 - the assistant answers rather than nobody
                logger.exception("socket.io message could not reach the live chat")
                taken = False
            if taken:
                return  # a support agent has the conversation: the assistant stays silent
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=self._metadata(data),
            )
            try:
                await on_new_message(message)
            except Exception:  # noqa: BLE001 - never leave the customer without a reply
                logger.exception("socket.io message could not be handled")
                await say(sid, UNREADABLE_MESSAGE)

        return socketio_webhook
