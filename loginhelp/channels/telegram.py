"""The Telegram channel: Rasa's Telegram connector, fixed for production use.

Registered in credentials.yml as ``loginhelp.channels.telegram.TelegramInput``
and configured from the environment (a value under the credentials.yml key, if
given, wins over the environment):

=========================  ==================  ======================================
environment                credentials.yml     meaning
=========================  ==================  ======================================
TELEGRAM_TOKEN             access_token        the bot token from @BotFather
TELEGRAM_BOT_USERNAME      verify              the bot's @username (without the @)
TELEGRAM_WEBHOOK_URL       webhook_url         public HTTPS URL of .../webhooks/telegram/webhook
TELEGRAM_SECRET_TOKEN      secret_token        1-256 of A-Z a-z 0-9 _ - (derived from
                                               the bot token when unset)
TELEGRAM_API_BASE          api_base            default https://api.telegram.org
TELEGRAM_WEBHOOK_RETRY_SECONDS                 first retry delay of the webhook
                                               registration (default 5, doubles to 300)
REDIS_HOST, REDIS_PORT,                        the lock store's Redis (production mode):
REDIS_DB, REDIS_PASSWORD,                      when REDIS_HOST is set, the state below
REDIS_KEY_PREFIX                               is shared by every replica through it
=========================  ==================  ======================================

What it fixes in ``rasa.core.channels.telegram`` (Rasa 3.6.21, aiogram 2.15):

* The stock output channel registers the webhook with ``asyncio.run`` while the
  server is being configured, so the bot's aiohttp session belongs to a loop that
  is closed before the first update arrives (``Event loop is closed``), and a
  Telegram API that cannot be reached stops the whole server from starting.
  Here the bot keeps one HTTP session per event loop, and the webhook is
  registered after the server has started, in a background task that retries
  with back-off until Telegram answers. Without TELEGRAM_TOKEN the channel is
  off: nothing is registered and its webhook answers 503.
* The stock webhook calls ``getMe`` on every update to compare the bot's name.
  Here the webhook is registered with Telegram's ``secret_token``, and an update
  without the matching ``X-Telegram-Bot-Api-Secret-Token`` header is refused
  with 403 before anything is parsed. ``getMe`` is called once, at start-up.
* Buttons are inline keyboards laid out in rows that fit a phone; a pressed
  button's callback query is answered and the choice is shown under the
  question. Long replies are split below Telegram's 4096-character limit at
  paragraph, line, sentence or word boundaries.
* A photo or document becomes the message ``/share_screenshot`` with the file's
  reference in the metadata (``attachments``); every message carries
  ``channel_user`` (Telegram user id and language). Malformed updates get 400,
  update types the assistant does not handle are acknowledged and ignored, and
  content it cannot read (stickers, voice, ...) gets a clear reply.
* A body that is not JSON, or JSON nested more than ``common.MAX_JSON_DEPTH``
  levels (the stock json.loads raised RecursionError, a 500, at ~1000), is a 400.
  A lone surrogate escape ("\\ud800", not text) anywhere in an update becomes
  U+FFFD before the update is read, so the message is still answered.
* Telegram re-delivers an update it thinks was not received; each update_id is
  processed once. Button payloads over Telegram's 64 bytes travel as a digest and
  are looked up when the button is pressed. With several Rasa replicas behind a
  load balancer the re-delivery or the press may reach another replica, so when
  REDIS_HOST is set both are kept in Redis (SET NX with an expiry for update
  ids), shared by the replicas; otherwise in this process. Redis being
  unreachable never loses a message: the process's own memory is used instead.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer, check_token
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.exceptions import RetryAfter
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as StockTelegramInput
from rasa.core.channels.telegram import TelegramOutput as StockTelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from loginhelp.channels.common import TooDeep, clean_json, clean_text

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# Telegram's limits.
MAX_MESSAGE_CHARS = 4096  # per message, counted in UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]

# The customer's message for the conversation logic when they send a file.
SHARE_SCREENSHOT = "/share_screenshot"
# Telegram commands and the intents they stand for.
COMMANDS = {"start": "/greet", "help": "/capabilities"}
RESTART = "/restart"

UNSUPPORTED_CONTENT_TEXT = (
    "I can read text messages, photos and documents (for example a screenshot of "
    "the error). Please describe your login problem in a few words."
)
GROUP_CHAT_TEXT = (
    "For your account's safety I only help in a private chat. "
    "Please open a private chat with me{mention} and tell me what happens when you log in."
)
EXPIRED_BUTTON_TEXT = "That button has expired. Please type your answer instead."


# --- Configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class RedisSettings:
    """The Redis of the lock store (deploy/endpoints.prod.yml), from the same variables."""

    host: str
    port: int = 6379
    db: int = 1
    password: Optional[str] = None
    key_prefix: str = "loginhelp"

    @classmethod
    def load(cls, environ: Mapping[str, str]) -> Optional["RedisSettings"]:
        host = (environ.get("REDIS_HOST") or "").strip()
        if not host:
            return None

        def number(name: str, default: int) -> int:
            try:
                return int(environ.get(name) or default)
            except ValueError:
                logger.warning("%s is not a number; using %s.", name, default)
                return default

        return cls(
            host=host,
            port=number("REDIS_PORT", 6379),
            db=number("REDIS_DB", 1),
            password=environ.get("REDIS_PASSWORD") or None,
            key_prefix=(environ.get("REDIS_KEY_PREFIX") or "").strip() or "loginhelp",
        )


@dataclass(frozen=True)
class TelegramSettings:
    token: Optional[str] = None
    bot_username: Optional[str] = None
    webhook_url: Optional[str] = None
    secret_token: Optional[str] = None
    api_base: str = DEFAULT_API_BASE
    retry_seconds: float = 5.0
    problem: Optional[str] = None  # why the channel is off, when it is
    redis: Optional[RedisSettings] = None  # shared state of the replicas, when configured

    @property
    def enabled(self) -> bool:
        return self.problem is None

    @classmethod
    def load(
        cls, credentials: Optional[Mapping[str, Any]] = None, environ: Optional[Mapping[str, str]] = None
    ) -> "TelegramSettings":
        credentials = credentials or {}
        environ = os.environ if environ is None else environ

        def value(key: str, env: str) -> Optional[str]:
            given = credentials.get(key)
            if given is None or str(given).strip() == "":
                given = environ.get(env)
            given = str(given).strip() if given is not None else ""
            return given or None

        token = value("access_token", "TELEGRAM_TOKEN")
        username = value("verify", "TELEGRAM_BOT_USERNAME")
        webhook_url = value("webhook_url", "TELEGRAM_WEBHOOK_URL")
        secret = value("secret_token", "TELEGRAM_SECRET_TOKEN")
        api_base = (value("api_base", "TELEGRAM_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        try:
            retry = float(environ.get("TELEGRAM_WEBHOOK_RETRY_SECONDS") or 5)
        except ValueError:
            retry = 5.0
        retry = min(max(retry, 0.2), 300.0)
        username = username.lstrip("@") if username else None

        problem = None
        if token is None:
            problem = "TELEGRAM_TOKEN is not set"
        else:
            try:
                check_token(token)
            except Exception:  # noqa: BLE001 - aiogram's ValidationError
                problem = "TELEGRAM_TOKEN is not a bot token (expected <digits>:<secret> from @BotFather)"
        if problem is None and secret is not None and not _SECRET_TOKEN.match(secret):
            problem = "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        if problem is None and not api_base.startswith(("http://", "https://")):
            problem = "TELEGRAM_API_BASE must be an http(s) URL"
        if token is not None and secret is None:
            secret = derived_secret(token)
        return cls(token, username, webhook_url, secret, api_base, retry, problem, RedisSettings.load(environ))


def derived_secret(token: str) -> str:
    """A stable secret for the webhook header when TELEGRAM_SECRET_TOKEN is unset."""
    return hmac.new(token.encode(), b"loginhelp-telegram-webhook", hashlib.sha256).hexdigest()


# --- Rendering ------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# Boundaries to split at, coarsest first: (separator, what joins the pieces again).
_BOUNDARIES = (("\n\n", "\n\n"), ("\n", "\n"), (_SENTENCE_END, " "), (" ", " "))


def _pieces(text: str, limit: int) -> List[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units, coarsest boundary first."""
    if utf16_len(text) <= limit:
        return [text]
    for separator, joiner in _BOUNDARIES:
        parts = text.split(separator) if isinstance(separator, str) else separator.split(text)
        if len(parts) > 1:
            return _pack(parts, joiner, limit)
    # One unbroken run of characters: cut it (by code point, never inside a pair).
    pieces, current = [], ""
    for char in text:
        if utf16_len(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return pieces + ([current] if current else [])


def _pack(parts: List[str], joiner: str, limit: int) -> List[str]:
    pieces: List[str] = []
    current = ""
    for part in parts:
        for piece in _pieces(part, limit):
            candidate = f"{current}{joiner}{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = piece
    if current:
        pieces.append(current)
    return pieces


def split_text(text: Optional[str], limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Telegram-sized chunks of ``text``, split at the most natural boundary that fits."""
    text = (text or "").strip()
    if not text:
        return []
    return [piece.strip() for piece in _pieces(text, limit) if piece.strip()]


def keyboard_rows(buttons: List[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """Buttons in rows that fit a phone: short titles side by side, long ones alone."""
    if not buttons:
        return []
    longest = max(len(str(b.get("title", ""))) for b in buttons)
    per_row = 3 if longest <= 10 else 2 if longest <= 18 else 1
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


# --- State shared by the replicas ---------------------------------------------------


class SharedState:
    """Update ids already taken and long button payloads, in Redis for every replica.

    Keys are ``<REDIS_KEY_PREFIX>:telegram:<bot id>:update:<update_id>`` (set once
    with SET NX, kept a day: Telegram gives up re-delivering an update within 24
    hours) and ``...:button:<digest>`` (the payload, kept 30 days: a button can be
    pressed long after it was sent). Every method reports a Redis failure as "not
    known here" (None) after logging it, and the caller falls back on its memory.
    """

    UPDATE_TTL_SECONDS = 24 * 3600
    PAYLOAD_TTL_SECONDS = 30 * 24 * 3600
    TIMEOUT_SECONDS = 2.0

    def __init__(self, settings: RedisSettings, bot_id: str) -> None:
        self.settings = settings
        self.prefix = f"{settings.key_prefix}:telegram:{bot_id}:"
        # redis.asyncio connections belong to the event loop they were opened in.
        self._clients: Dict[asyncio.AbstractEventLoop, Any] = {}

    def _client(self) -> Any:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for other in [other for other in self._clients if other.is_closed()]:
                del self._clients[other]
            client = redis.asyncio.Redis(
                host=self.settings.host, port=self.settings.port, db=self.settings.db,
                password=self.settings.password, socket_timeout=self.TIMEOUT_SECONDS,
                socket_connect_timeout=self.TIMEOUT_SECONDS,
            )
            self._clients[loop] = client
        return client

    @staticmethod
    def _failed(what: str, error: Exception) -> None:
        logger.warning("Redis: could not %s (%s: %s); using this process's memory only.",
                       what, type(error).__name__, error)

    async def first_time(self, update_id: int) -> Optional[bool]:
        """True the first time any replica asks for ``update_id``, False afterwards."""
        try:
            return bool(await self._client().set(
                f"{self.prefix}update:{update_id}", 1, nx=True, ex=self.UPDATE_TTL_SECONDS))
        except Exception as error:  # noqa: BLE001 - RedisError, OSError, timeouts
            self._failed("record a Telegram update id", error)
            return None

    async def put_payloads(self, payloads: Mapping[str, str]) -> None:
        try:
            async with self._client().pipeline(transaction=False) as pipe:
                for key, payload in payloads.items():
                    pipe.set(f"{self.prefix}button:{key}", payload, ex=self.PAYLOAD_TTL_SECONDS)
                await pipe.execute()
        except Exception as error:  # noqa: BLE001
            self._failed("store long button payloads", error)

    async def payload(self, key: str) -> Optional[str]:
        try:
            value = await self._client().get(f"{self.prefix}button:{key}")
        except Exception as error:  # noqa: BLE001
            self._failed("look up a button payload", error)
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else value

    async def close(self) -> None:
        """Close the client of the running loop (others die with their loops)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()


# --- Output ---------------------------------------------------------------------------


class TelegramOutput(StockTelegramOutput):
    """Rasa's Telegram output on an aiogram ``Bot`` that works in any event loop."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(
        self, access_token: Text, api_base: Text = DEFAULT_API_BASE, shared: Optional[SharedState] = None
    ) -> None:
        Bot.__init__(
            self,
            access_token,
            server=TelegramAPIServer.from_base(api_base),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self._sessions: Dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        # Payloads longer than Telegram's 64-byte callback_data, by their digest
        # (also in Redis, for the other replicas, when ``shared`` is given).
        self._long_payloads: "OrderedDict[str, str]" = OrderedDict()
        self.shared = shared

    # One aiohttp session per event loop: aiogram 2.15 keeps a single session,
    # bound to the loop it was created in, which breaks as soon as the bot is used
    # from another loop (the stock connector's asyncio.run at start-up).
    @property
    def session(self) -> aiohttp.ClientSession:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            for other in [other for other in self._sessions if other.is_closed()]:
                del self._sessions[other]
            session = self.get_new_session()
            self._sessions[loop] = session
        return session

    async def close(self) -> None:  # type: ignore[override]
        """Close the session of the running loop (others die with their loops)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None and not session.closed:
            await session.close()

    async def request(self, method, data=None, files=None, **kwargs):  # type: ignore[override]
        try:
            return await super().request(method, data, files, **kwargs)
        except RetryAfter as error:  # flood control: wait once if it is short
            if error.timeout > 10:
                raise
            await asyncio.sleep(error.timeout)
            return await super().request(method, data, files, **kwargs)

    async def register_webhook(self, url: Text, secret_token: Text) -> None:
        """setWebhook with the secret token (Bot API 6.1, newer than aiogram 2.15)."""
        await self.request(
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": json.dumps(ALLOWED_UPDATES)},
        )

    # --- Buttons ----------------------------------------------------------------------

    def callback_data(self, payload: Text) -> Text:
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            return payload
        key = "#" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._long_payloads[key] = payload
        self._long_payloads.move_to_end(key)
        while len(self._long_payloads) > 4096:
            self._long_payloads.popitem(last=False)
        return key

    def payload_for(self, data: Text) -> Optional[Text]:
        """The payload a pressed button stands for (None: a long payload this process forgot)."""
        if data.startswith("#") and re.fullmatch(r"#[0-9a-f]{24}", data):
            return self._long_payloads.get(data)
        return data

    async def resolve_payload(self, data: Text) -> Optional[Text]:
        """``payload_for``, asking Redis for a long payload another replica sent."""
        payload = self.payload_for(data)
        if payload is None and self.shared is not None:
            payload = await self.shared.payload(data)
            if payload is not None:
                self.callback_data(payload)  # remembered here too
        return payload

    async def share_payloads(self, buttons: List[Dict[str, Any]]) -> None:
        """Put the long payloads of ``buttons`` in Redis before the keyboard is sent."""
        if self.shared is None:
            return
        long = {}
        for b in buttons:
            payload = str(b.get("payload") or "")
            if not b.get("url") and len(payload.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                long[self.callback_data(payload)] = payload
        if long:
            await self.shared.put_payloads(long)

    def inline_keyboard(self, buttons: List[Dict[str, Any]]) -> Optional[InlineKeyboardMarkup]:
        usable = [b for b in buttons if b.get("title") and (b.get("payload") or b.get("url"))]
        if not usable:
            return None
        markup = InlineKeyboardMarkup()
        for row in keyboard_rows(usable):
            markup.row(*[
                InlineKeyboardButton(str(b["title"]), url=b["url"]) if b.get("url")
                else InlineKeyboardButton(str(b["title"]), callback_data=self.callback_data(str(b["payload"])))
                for b in row
            ])
        return markup

    # --- OutputChannel ------------------------------------------------------------------

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text):
            await self.send_message(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        button_type: Optional[Text] = "inline",
        **kwargs: Any,
    ) -> None:
        parts = split_text(text) or ["Please choose:"]
        await self.share_payloads(buttons)
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await self.send_message(recipient_id, parts[-1], reply_markup=self.inline_keyboard(buttons))


# --- Input ----------------------------------------------------------------------------


class MalformedUpdate(ValueError):
    """The body is JSON but not a Telegram update this channel can read."""


def _chat_id(obj: Any) -> int:
    chat = obj.get("chat") if isinstance(obj, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise MalformedUpdate("message.chat.id missing")
    return chat_id


def _channel_user(user: Any) -> Dict[str, Any]:
    user = user if isinstance(user, dict) else {}
    user_id = user.get("id")
    language = user.get("language_code")
    return {
        "id": user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None,
        "language_code": language if isinstance(language, str) else None,
    }


def _int_or_none(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def attachment_from_message(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The contract's attachment for a photo (largest size) or a document, else None."""
    photos = message.get("photo")
    if isinstance(photos, list):
        sizes = [p for p in photos if isinstance(p, dict) and _str_or_none(p.get("file_id"))]
        if sizes:
            largest = max(
                sizes,
                key=lambda p: ((_int_or_none(p.get("width")) or 0) * (_int_or_none(p.get("height")) or 0),
                               _int_or_none(p.get("file_size")) or 0),
            )
            return {
                "source": "telegram",
                "location": largest["file_id"],
                "file_name": None,
                "mime_type": None,
                "size_bytes": _int_or_none(largest.get("file_size")),
            }
    document = message.get("document")
    if isinstance(document, dict) and _str_or_none(document.get("file_id")):
        return {
            "source": "telegram",
            "location": document["file_id"],
            "file_name": _str_or_none(document.get("file_name")),
            "mime_type": _str_or_none(document.get("mime_type")),
            "size_bytes": _int_or_none(document.get("file_size")),
        }
    return None


class TelegramInput(StockTelegramInput):
    """Telegram input channel (webhook) configured from the environment."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        return cls(TelegramSettings.load(credentials))

    def __init__(self, settings: Optional[TelegramSettings] = None, **_: Any) -> None:
        settings = settings or TelegramSettings.load()
        super().__init__(settings.token, settings.bot_username, settings.webhook_url, debug_mode=False)
        self.settings = settings
        self.webhook_registered = False
        self._output: Optional[TelegramOutput] = None
        self._webhook_task: Optional[asyncio.Task] = None
        self._recent_updates: "OrderedDict[int, None]" = OrderedDict()
        self.shared: Optional[SharedState] = None
        if settings.enabled and settings.redis is not None:
            self.shared = SharedState(settings.redis, str(settings.token).split(":", 1)[0])

    def get_output_channel(self) -> OutputChannel:  # type: ignore[override]
        if not self.settings.enabled:
            return CollectingOutputChannel()
        if self._output is None:
            self._output = TelegramOutput(self.settings.token, self.settings.api_base, self.shared)
        return self._output

    # --- Webhook registration -----------------------------------------------------------

    async def register_webhook_until_done(self) -> None:
        """setWebhook, retrying with back-off while Telegram cannot be reached; then getMe once."""
        output = self.get_output_channel()
        assert isinstance(output, TelegramOutput)
        delay = self.settings.retry_seconds
        while True:
            try:
                await output.register_webhook(self.settings.webhook_url, self.settings.secret_token)
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - network, API and anything else
                logger.error(
                    "Could not register the Telegram webhook (%s: %s); the other channels keep "
                    "working, retrying in %.0f s.", type(error).__name__, error, delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)
        self.webhook_registered = True
        logger.info("Telegram webhook registered: %s", self.settings.webhook_url)
        try:
            me = await output.get_me()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001
            logger.warning("Telegram getMe failed: %s", error)
            return
        expected = self.settings.bot_username
        if expected and (me.username or "").lower() != expected.lower():
            logger.warning("TELEGRAM_BOT_USERNAME is %r but the token belongs to @%s.", expected, me.username)

    # --- Updates ---------------------------------------------------------------------------

    async def _first_time(self, update_id: int) -> bool:
        """False for an update Telegram re-delivers (it retries when a reply was slow).

        This process remembers the last 2048 update ids; with Redis configured, an
        update id taken by any replica counts (SET NX), so a re-delivery that the
        load balancer sends to the other replica is not processed twice.
        """
        if update_id in self._recent_updates:
            return False
        self._recent_updates[update_id] = None
        while len(self._recent_updates) > 2048:
            self._recent_updates.popitem(last=False)
        if self.shared is not None and await self.shared.first_time(update_id) is False:
            return False
        return True

    def _command(self, text: str) -> str:
        stripped = text.strip()
        if not stripped.startswith("/"):
            return text
        head = stripped.split(maxsplit=1)[0][1:]
        command, _, _mention = head.partition("@")
        command = command.lower()
        if command == "restart":
            return RESTART
        return COMMANDS.get(command, text)

    async def _forward(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        output: TelegramOutput,
        chat_id: int,
        text: str,
        metadata: Dict[str, Any],
    ) -> None:
        try:
            await output.send_chat_action(chat_id, "typing")
        except Exception as error:  # noqa: BLE001 - cosmetic
            logger.debug("sendChatAction failed: %s", error)
        texts = [RESTART, COMMANDS["start"]] if text == RESTART else [text]
        for one in texts:
            await on_new_message(
                UserMessage(one, output, str(chat_id), input_channel=self.name(), metadata=metadata)
            )

    async def _on_message(self, message: Any, on_new_message, output: TelegramOutput) -> str:
        if not isinstance(message, dict):
            raise MalformedUpdate("message is not an object")
        chat_id = _chat_id(message)
        chat_type = message["chat"].get("type", "private")
        if chat_type != "private":
            mention = f" (@{self.settings.bot_username})" if self.settings.bot_username else ""
            if chat_type in ("group", "supergroup"):
                await output.send_message(chat_id, GROUP_CHAT_TEXT.format(mention=mention))
            return "ignored: not a private chat"
        metadata: Dict[str, Any] = {"channel_user": _channel_user(message.get("from"))}
        text = message.get("text")
        attachment = attachment_from_message(message)
        if isinstance(text, str):
            text = clean_text(self._command(text))
        elif attachment is not None:
            text = SHARE_SCREENSHOT
            metadata["attachments"] = [attachment]
            caption = clean_text(message.get("caption")) if isinstance(message.get("caption"), str) else ""
            if caption:
                metadata["caption"] = caption
        else:
            await output.send_message(chat_id, UNSUPPORTED_CONTENT_TEXT)
            return "unsupported content"
        await self._forward(on_new_message, output, chat_id, text, metadata)
        return "processed"

    async def _on_callback(self, query: Any, on_new_message, output: TelegramOutput) -> str:
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            raise MalformedUpdate("callback_query.id missing")
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        user = query.get("from") if isinstance(query.get("from"), dict) else {}
        chat_id = message.get("chat", {}).get("id") if isinstance(message.get("chat"), dict) else None
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            chat_id = _int_or_none(user.get("id"))
        if chat_id is None:
            raise MalformedUpdate("callback_query has neither message.chat.id nor from.id")
        try:  # stop the button's spinner first, whatever happens next
            await output.answer_callback_query(query["id"])
        except Exception as error:  # noqa: BLE001
            logger.warning("answerCallbackQuery failed: %s", error)
        data = query.get("data")
        if not isinstance(data, str) or not data:
            return "ignored: no callback data"
        payload = await output.resolve_payload(data)
        if payload is None:
            await output.send_message(chat_id, EXPIRED_BUTTON_TEXT)
            return "expired button"
        await self._show_choice(output, chat_id, message, data)
        metadata = {"channel_user": _channel_user(user)}
        await self._forward(on_new_message, output, chat_id, clean_text(payload), metadata)
        return "processed"

    @staticmethod
    async def _show_choice(output: TelegramOutput, chat_id: int, message: Dict[str, Any], data: str) -> None:
        """Replace the question's keyboard by the customer's choice (best effort)."""
        message_id = _int_or_none(message.get("message_id"))
        if message_id is None:
            return
        title = None
        markup = message.get("reply_markup")
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        for row in rows if isinstance(rows, list) else []:
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict) and button.get("callback_data") == data:
                    title = button.get("text")
        question = message.get("text") if isinstance(message.get("text"), str) else ""
        try:
            if title and question and utf16_len(question) + utf16_len(title) + 4 <= MAX_MESSAGE_CHARS:
                await output.edit_message_text(f"{question}\n\n✔ {title}", chat_id, message_id)
            else:
                await output.edit_message_reply_markup(chat_id, message_id)
        except Exception as error:  # noqa: BLE001 - e.g. the message is too old to edit
            logger.debug("Could not update the pressed button's message: %s", error)

    async def _handle_update(self, update: Dict[str, Any], on_new_message) -> str:
        output = self.get_output_channel()
        assert isinstance(output, TelegramOutput)
        if "callback_query" in update:
            return await self._on_callback(update["callback_query"], on_new_message, output)
        for key in ("message", "edited_message"):
            if key in update:
                return await self._on_message(update[key], on_new_message, output)
        return "ignored: update type not handled"

    # --- Routes ----------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def start(_app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if not self.settings.enabled:
                logger.info("Telegram channel is off (%s): no webhook registered.", self.settings.problem)
            elif not self.settings.webhook_url:
                logger.warning("TELEGRAM_WEBHOOK_URL is not set: not registering a Telegram webhook.")
            else:
                self._webhook_task = loop.create_task(self.register_webhook_until_done())
            if self.shared is not None:
                redis = self.shared.settings
                logger.info("Telegram update ids and long button payloads are shared in Redis %s:%s/%s.",
                            redis.host, redis.port, redis.db)

        @telegram_webhook.listener("before_server_stop")
        async def stop(_app: Any, _loop: asyncio.AbstractEventLoop) -> None:
            if self._webhook_task is not None:
                self._webhook_task.cancel()
            if self._output is not None:
                await self._output.close()
            if self.shared is not None:
                await self.shared.close()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({
                "status": "ok" if self.settings.enabled else "off",
                "reason": self.settings.problem,
                "webhook_registered": self.webhook_registered,
            })

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.enabled:
                return response.json(
                    {"error": f"The Telegram channel is not configured: {self.settings.problem}."}, status=503
                )
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), str(self.settings.secret_token).encode()):
                logger.warning("Refused a Telegram update without the right secret token header.")
                return response.json({"error": "forbidden"}, status=403)
            try:
                update = clean_json(json.loads(request.body or b""))
            except (TooDeep, RecursionError):  # json.loads recurses: ~1000 levels is a RecursionError
                return response.json({"error": "Not a Telegram update (JSON nested too deeply)."}, status=400)
            except ValueError:
                return response.json({"error": "The body is not JSON."}, status=400)
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if isinstance(update_id, bool) or not isinstance(update_id, int):
                return response.json({"error": "Not a Telegram update (no update_id)."}, status=400)
            if not await self._first_time(update_id):
                return response.json({"status": "duplicate"})
            try:
                status = await self._handle_update(update, on_new_message)
            except MalformedUpdate as error:
                return response.json({"error": f"Malformed update: {error}."}, status=400)
            except Exception:  # noqa: BLE001 - answer 200 so Telegram does not re-deliver it forever
                logger.exception("Telegram update %s could not be handled", update_id)
                status = "failed"
            return response.json({"status": status})

        return telegram_webhook
