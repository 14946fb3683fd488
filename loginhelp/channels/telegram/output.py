"""Sending replies to Telegram: Rasa's Telegram output on a bot that works in any event loop.

Replies are split below Telegram's limit (``text.split_text``); buttons become an
inline keyboard on the last part, laid out in rows that fit a phone. A button's
payload travels as its ``callback_data``, which Telegram caps at 64 bytes: every
payload the assistant sends fits (tests/test_contract.py checks them all), and
one that does not anyway is logged as an error and shown as a line of text
rather than have Telegram refuse the whole message.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, List, Optional, Text, Tuple

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.exceptions import RetryAfter
from rasa.core.channels.telegram import TelegramOutput as StockTelegramOutput

from loginhelp.contract import MAX_PAYLOAD_BYTES

from .loops import PerLoop
from .settings import DEFAULT_API_BASE
from .text import split_text

logger = logging.getLogger(__name__)

MAX_CALLBACK_DATA_BYTES = MAX_PAYLOAD_BYTES  # Telegram's limit, the contract's
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
CHOOSE_TEXT = "Please choose:"  # the text of a keyboard sent without one


def keyboard_rows(buttons: List[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """Buttons in rows that fit a phone: short titles side by side, long ones alone."""
    if not buttons:
        return []
    longest = max(len(str(b.get("title", ""))) for b in buttons)
    per_row = 3 if longest <= 10 else 2 if longest <= 18 else 1
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def fits_callback_data(payload: str) -> bool:
    return len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES


def keyboard_and_lines(buttons: List[Dict[str, Any]]) -> Tuple[Optional[InlineKeyboardMarkup], List[str]]:
    """The inline keyboard for ``buttons``, and lines of text for the buttons it cannot hold.

    A payload over Telegram's 64 bytes of callback_data would make Telegram refuse
    the message with its keyboard; that button is logged as an error (the domain
    or an action broke the contract) and listed under the text by its title.
    """
    keyed: List[Dict[str, Any]] = []
    lines: List[str] = []
    for button in buttons:
        title, payload, url = button.get("title"), button.get("payload"), button.get("url")
        if not title or not (payload or url):
            continue
        if not url and not fits_callback_data(str(payload)):
            logger.error(
                "Button %r has a payload of %d bytes, over Telegram's %d-byte callback_data: sent "
                "as a line of text instead (%r).", title, len(str(payload).encode("utf-8")),
                MAX_CALLBACK_DATA_BYTES, payload,
            )
            lines.append(f"• {title}")
            continue
        keyed.append(button)
    if not keyed:
        return None, lines
    markup = InlineKeyboardMarkup()
    for row in keyboard_rows(keyed):
        markup.row(*[
            InlineKeyboardButton(str(b["title"]), url=b["url"]) if b.get("url")
            else InlineKeyboardButton(str(b["title"]), callback_data=str(b["payload"]))
            for b in row
        ])
    return markup, lines


class TelegramOutput(StockTelegramOutput):
    """Rasa's Telegram output on an aiogram ``Bot`` that works in any event loop."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, access_token: Text, api_base: Text = DEFAULT_API_BASE) -> None:
        Bot.__init__(
            self,
            access_token,
            server=TelegramAPIServer.from_base(api_base),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        # aiogram 2.15 keeps a single session, bound to the loop it was created in,
        # which breaks as soon as the bot is used from another loop.
        self._sessions: PerLoop[aiohttp.ClientSession] = PerLoop(
            self.get_new_session, usable=lambda session: not session.closed
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._sessions.get()

    async def close(self) -> None:
        """Close the session of the running loop (others die with their loops)."""
        session = self._sessions.pop()
        if session is not None and not session.closed:
            await session.close()

    async def request(self, method, data=None, files=None, **kwargs):
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
        keyboard, lines = keyboard_and_lines(buttons)
        if lines:
            text = "\n\n".join(part for part in ((text or "").strip(), "\n".join(lines)) if part)
        parts = split_text(text) or [CHOOSE_TEXT]
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await self.send_message(recipient_id, parts[-1], reply_markup=keyboard)
