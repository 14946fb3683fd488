"""The Telegram input channel: webhook registration, the webhook route, updates to messages.

Rasa's public channel hooks are overridden as in the stock connector
(``name``, ``from_credentials``, ``get_output_channel``, ``blueprint``); what
each update means is read in ``updates``, replies go out through ``output``.

Live handoff (``loginhelp.channels.live``): while a support agent has, or is about
to take, the chat, a message, photo, document or pressed button goes to the agent
(``updates.live_chat_line``) instead of Rasa, and the agent's messages are sent by
the bot as plain text, by exactly one replica.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as StockTelegramInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from loginhelp.channels.common import TooDeep, clean_json, clean_text
from loginhelp.channels.live import ChannelDeliverer, LiveBridge, shared_bridge
from loginhelp.contract import ChannelMessage, TelegramMetadata
from loginhelp.handoff.repository import WAIT_FROM_SEEN

from .output import TelegramOutput
from .settings import TelegramSettings
from .state import RedisUpdateIds, SeenUpdates
from .text import MAX_MESSAGE_CHARS, utf16_len
from .updates import MalformedUpdate, callback_metadata, chat_id, int_or_none, live_chat_line, read_message

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

UNSUPPORTED_CONTENT_TEXT = (
    "I can read text messages, photos and documents (for example a screenshot of "
    "the error). Please describe your login problem in a few words."
)
GROUP_CHAT_TEXT = (
    "For your account's safety I only help in a private chat. "
    "Please open a private chat with me{mention} and tell me what happens when you log in."
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class TelegramDelivery(ChannelDeliverer):
    """How the live chat reaches a Telegram customer: the bot sends it, from whichever replica claims it.

    No connection shows the customer is still there, so the wait limit counts from their last message.
    """

    wait_counted_from = WAIT_FROM_SEEN

    def __init__(self, telegram: TelegramOutput, on_new_message: Optional[OnNewMessage] = None) -> None:
        super().__init__(TelegramInput.name(), on_new_message)
        self.telegram = telegram

    def output(self) -> TelegramOutput:
        return self.telegram

    def present(self, conversation_id: str) -> bool:
        return True  # the Bot API reaches any chat from any replica

    def connected(self, conversation_id: str) -> bool:
        return False  # no connection to hold: only the customer's messages show they are still there

    async def deliver(self, conversation_id: str, text: str) -> None:
        await self.telegram.send_text_message(conversation_id, text)


class TelegramInput(StockTelegramInput):
    """Telegram input channel (webhook) configured from the environment."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        return cls(TelegramSettings.load(credentials))

    def __init__(self, settings: Optional[TelegramSettings] = None, live: Optional[LiveBridge] = None,
                 **_: Any) -> None:
        settings = settings or TelegramSettings.load()
        self.live = live  # the process's shared bridge unless given (tests give each "replica" its own)
        super().__init__(settings.token, settings.bot_username, settings.webhook_url, debug_mode=False)
        self.settings = settings
        self.webhook_registered = False
        self._output: Optional[TelegramOutput] = None
        self._webhook_task: Optional[asyncio.Task] = None
        shared = None
        if settings.enabled and settings.redis is not None:
            shared = RedisUpdateIds(settings.redis, settings.bot_id)
        self.seen = SeenUpdates(shared)

    def get_output_channel(self) -> OutputChannel:
        if not self.settings.enabled:
            return CollectingOutputChannel()
        if self._output is None:
            self._output = TelegramOutput(str(self.settings.token), self.settings.api_base)
        return self._output

    def live_bridge(self) -> LiveBridge:
        if self.live is None:
            self.live = shared_bridge()
        return self.live

    async def _to_live_chat(self, chat: int, line: str, output: TelegramOutput) -> bool:
        """True when a support agent has the chat and took ``line`` (Rasa must not answer it)."""

        async def reply(text: str) -> None:
            await output.send_text_message(str(chat), text)

        try:
            return await self.live_bridge().intercept(str(chat), self.name(), line, reply)
        except Exception:  # noqa: BLE001 - the assistant answers rather than nobody
            logger.exception("Telegram message could not reach the live chat")
            return False

    def _telegram(self) -> TelegramOutput:
        output = self.get_output_channel()
        assert isinstance(output, TelegramOutput)
        return output

    # --- Webhook registration -----------------------------------------------------------

    async def register_webhook_until_done(self) -> None:
        """setWebhook, retrying with back-off while Telegram cannot be reached; then getMe once."""
        output = self._telegram()
        delay = self.settings.retry_seconds
        while True:
            try:
                await output.register_webhook(str(self.settings.webhook_url), str(self.settings.secret_token))
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

    async def _forward(
        self, on_new_message: OnNewMessage, output: TelegramOutput, chat: int, text: str,
        metadata: TelegramMetadata,
    ) -> None:
        try:
            await output.send_chat_action(chat, "typing")
        except Exception as error:  # noqa: BLE001 - cosmetic
            logger.debug("sendChatAction failed: %s", error)
        # /restart starts over and greets, as /start would.
        texts = [ChannelMessage.RESTART, ChannelMessage.GREET] if text == ChannelMessage.RESTART else [text]
        for one in texts:
            await on_new_message(
                UserMessage(one, output, str(chat), input_channel=self.name(), metadata=dict(metadata))
            )

    async def _on_message(self, message: Any, on_new_message: OnNewMessage, output: TelegramOutput) -> str:
        if not isinstance(message, dict):
            raise MalformedUpdate("message is not an object")
        chat = chat_id(message)
        chat_type = message["chat"].get("type", "private")
        if chat_type != "private":
            mention = f" (@{self.settings.bot_username})" if self.settings.bot_username else ""
            if chat_type in ("group", "supergroup"):
                await output.send_message(chat, GROUP_CHAT_TEXT.format(mention=mention))
            return "ignored: not a private chat"
        line = live_chat_line(message)
        if line is not None and await self._to_live_chat(chat, line, output):
            return "live chat"
        text, metadata = read_message(message)
        if text is None:
            await output.send_message(chat, UNSUPPORTED_CONTENT_TEXT)
            return "unsupported content"
        await self._forward(on_new_message, output, chat, text, metadata)
        return "processed"

    async def _on_callback(self, query: Any, on_new_message: OnNewMessage, output: TelegramOutput) -> str:
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            raise MalformedUpdate("callback_query.id missing")
        message: Dict[str, Any] = query["message"] if isinstance(query.get("message"), dict) else {}
        user: Dict[str, Any] = query["from"] if isinstance(query.get("from"), dict) else {}
        chat = message.get("chat", {}).get("id") if isinstance(message.get("chat"), dict) else None
        if isinstance(chat, bool) or not isinstance(chat, int):
            chat = int_or_none(user.get("id"))
        if chat is None:
            raise MalformedUpdate("callback_query has neither message.chat.id nor from.id")
        try:  # stop the button's spinner first, whatever happens next
            await output.answer_callback_query(query["id"])
        except Exception as error:  # noqa: BLE001
            logger.warning("answerCallbackQuery failed: %s", error)
        payload = query.get("data")  # the button's payload itself: all of them fit in 64 bytes
        if not isinstance(payload, str) or not payload:
            return "ignored: no callback data"
        title = await self._show_choice(output, chat, message, payload)
        if await self._to_live_chat(chat, title or clean_text(payload), output):
            return "live chat"
        await self._forward(on_new_message, output, chat, clean_text(payload), callback_metadata(query))
        return "processed"

    @staticmethod
    async def _show_choice(output: TelegramOutput, chat: int, message: Dict[str, Any], data: str) -> Optional[str]:
        """Replace the question's keyboard by the customer's choice (best effort); the button's title."""
        message_id = int_or_none(message.get("message_id"))
        title = None
        markup = message.get("reply_markup")
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        for row in rows if isinstance(rows, list) else []:
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict) and button.get("callback_data") == data:
                    title = button.get("text")
        question = message.get("text") if isinstance(message.get("text"), str) else ""
        if message_id is None:
            return title
        try:
            if title and question and utf16_len(question) + utf16_len(title) + 4 <= MAX_MESSAGE_CHARS:
                await output.edit_message_text(f"{question}\n\n✔ {title}", chat, message_id)
            else:
                await output.edit_message_reply_markup(chat, message_id)
        except Exception as error:  # noqa: BLE001 - e.g. the message is too old to edit
            logger.debug("Could not update the pressed button's message: %s", error)
        return title if isinstance(title, str) and title.strip() else None

    async def _handle_update(self, update: Dict[str, Any], on_new_message: OnNewMessage) -> str:
        output = self._telegram()
        if "callback_query" in update:
            return await self._on_callback(update["callback_query"], on_new_message, output)
        for key in ("message", "edited_message"):
            if key in update:
                return await self._on_message(update[key], on_new_message, output)
        return "ignored: update type not handled"

    # --- Routes ----------------------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def start(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            if not self.settings.enabled:
                logger.info("Telegram channel is off (%s): no webhook registered.", self.settings.problem)
            elif not self.settings.webhook_url:
                logger.warning("TELEGRAM_WEBHOOK_URL is not set: not registering a Telegram webhook.")
            else:
                self._webhook_task = loop.create_task(self.register_webhook_until_done())
            if self.seen.shared is not None:
                redis = self.seen.shared.settings
                logger.info("Telegram update ids are shared in Redis %s:%s/%s.", redis.host, redis.port, redis.db)
            if self.settings.enabled:
                await self.live_bridge().attach(self.name(), TelegramDelivery(self._telegram(), on_new_message), app)

        @telegram_webhook.listener("before_server_stop")
        async def stop(_app: Any, _loop: asyncio.AbstractEventLoop) -> None:
            if self.settings.enabled:
                await self.live_bridge().detach(self.name())
            if self._webhook_task is not None:
                self._webhook_task.cancel()
            if self._output is not None:
                await self._output.close()
            await self.seen.close()

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
            if not await self.seen.first_time(update_id):
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
