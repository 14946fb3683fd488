"""A fake Telegram Bot API server on loopback, for end-to-end tests without the internet.

It answers the methods the connector uses the way Telegram does
(``{"ok": true, "result": ...}``, or ``{"ok": false, "error_code": ..., "description": ...}``),
enforces the limits a real bot runs into (empty or >4096-character messages,
callback_data over 64 bytes, an invalid webhook secret, a wrong token), and
records every call so tests can assert on what the bot sent.

Runs an aiohttp server in a thread with its own event loop; aiogram sends form
data (urlencoded or multipart) and other clients JSON, so both are parsed.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

JSON_FIELDS = ("reply_markup", "allowed_updates", "entities")
INT_FIELDS = ("chat_id", "message_id", "cache_time")


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


@dataclass
class Call:
    method: str
    params: Dict[str, Any]
    at: float = field(default_factory=time.time)
    result: Any = None
    error: Optional[str] = None

    @property
    def chat_id(self) -> Optional[int]:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def keyboard(self) -> List[List[Dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegramAPI:
    def __init__(self, token: str, port: int = 0, username: str = "CoinExLoginHelpBot") -> None:
        self.token = token
        self.port = port
        self.username = username
        self.bot_id = int(token.split(":")[0])
        self.calls: List[Call] = []
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    # --- Lifecycle --------------------------------------------------------------------

    def start(self) -> "FakeTelegramAPI":
        started = threading.Event()
        errors: List[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- Queries for tests ------------------------------------------------------------

    def calls_to(self, method: Optional[str] = None, chat_id: Optional[int] = None) -> List[Call]:
        with self._lock:
            calls = list(self.calls)
        return [
            c for c in calls
            if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
        ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.time() + timeout
        while time.time() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"fake Telegram API: condition not met within {timeout} s; calls: {self.calls_to()}")

    # --- The API ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            params = await request.json()
        elif request.method == "POST":
            form = await request.post()
            params = {k: (v if isinstance(v, str) else f"<file {getattr(v, 'filename', '?')}>")
                      for k, v in form.items()}
        else:
            params = dict(request.query)
        if not isinstance(params, dict):
            raise ValueError("parameters are not an object")
        for key in JSON_FIELDS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        for key in INT_FIELDS:
            if isinstance(params.get(key), str) and re.fullmatch(r"-?\d+", params[key]):
                params[key] = int(params[key])
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            params = await self._params(request)
        except ValueError:
            return _error(400, "Bad Request: can't parse request")
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            call.error = "Not Found: method not found"
            return _error(404, call.error)
        try:
            call.result = handler(params)
        except ApiError as error:
            call.error = error.description
            return _error(error.code, error.description)
        return web.json_response({"ok": True, "result": call.result})

    # --- Methods (result, or ApiError as Telegram would answer) ---------------------------

    def _message(self, params: Dict[str, Any]) -> Dict[str, Any]:
        message = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": params.get("chat_id"), "type": "private"},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "CoinEx Login Help",
                     "username": self.username},
            "text": params.get("text", ""),
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    def api_getMe(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        return {"id": self.bot_id, "is_bot": True, "first_name": "CoinEx Login Help",
                "username": self.username, "can_join_groups": False,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    def api_setWebhook(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not params.get("url"):
            raise ApiError(400, "Bad Request: bad webhook: URL must be provided")
        return True

    def api_deleteWebhook(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        return True

    @staticmethod
    def _check_markup(params: Dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        for row in rows:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    def _check_text(self, params: Dict[str, Any]) -> None:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not text or not str(text).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(params)

    def api_sendMessage(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        self._check_text(params)
        return self._message(params)

    def api_editMessageText(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        self._check_text(params)
        return self._message(params)

    def api_editMessageReplyMarkup(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        self._check_markup(params)
        return self._message(params)

    def api_answerCallbackQuery(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def api_sendChatAction(self, params: Dict[str, Any]) -> Any:  # noqa: N802
        if params.get("action") not in {"typing", "upload_photo", "upload_document", "choose_sticker"}:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True
