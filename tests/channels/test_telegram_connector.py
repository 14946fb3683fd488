"""The Telegram connector in-process: settings, rendering, the bot client, the channel when off,
bad input."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Iterator, Tuple

import aiohttp
import pytest

from loginhelp.channels.telegram import (
    MAX_CALLBACK_DATA_BYTES,
    TelegramInput,
    TelegramOutput,
    TelegramSettings,
    derived_secret,
    keyboard_rows,
    split_text,
    utf16_len,
)

from . import telegram_updates as tg
from .fake_telegram import FakeTelegramAPI
from .inprocess import Served, serve

TOKEN = "987654321:UNIT-test_token"


@pytest.fixture
def fake() -> Iterator[FakeTelegramAPI]:
    api = FakeTelegramAPI(TOKEN).start()
    yield api
    api.stop()


# --- Settings ------------------------------------------------------------------------------


def test_without_a_token_the_channel_is_off():
    settings = TelegramSettings.load({}, {})
    assert not settings.enabled and "TELEGRAM_TOKEN" in settings.problem


@pytest.mark.parametrize("env, problem", [
    ({"TELEGRAM_TOKEN": "not a token"}, "TELEGRAM_TOKEN"),
    ({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": "has spaces and ü"}, "TELEGRAM_SECRET_TOKEN"),
    ({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_BASE": "ftp://x"}, "TELEGRAM_API_BASE"),
])
def test_invalid_settings_turn_the_channel_off_with_a_reason(env, problem):
    settings = TelegramSettings.load({}, env)
    assert not settings.enabled and problem in settings.problem


def test_settings_from_the_environment_and_credentials_override():
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_BOT_USERNAME": "@MyBot", "TELEGRAM_WEBHOOK_URL": "https://x/y",
           "TELEGRAM_API_BASE": "http://127.0.0.1:9/"}
    settings = TelegramSettings.load({"webhook_url": "https://override/z"}, env)
    assert settings.enabled
    assert settings.bot_username == "MyBot"
    assert settings.webhook_url == "https://override/z"
    assert settings.api_base == "http://127.0.0.1:9"
    # No TELEGRAM_SECRET_TOKEN: a stable secret derived from the token is used.
    assert settings.secret_token == derived_secret(TOKEN)
    assert TelegramSettings.load({}, env).secret_token == settings.secret_token
    assert settings.api_base != "https://api.telegram.org"
    assert TelegramSettings.load({}, {"TELEGRAM_TOKEN": TOKEN}).api_base == "https://api.telegram.org"


# --- Rendering -----------------------------------------------------------------------------


def test_short_text_is_one_message():
    assert split_text("Did that help?") == ["Did that help?"]
    assert split_text("   ") == []


def test_long_text_splits_at_paragraphs_then_sentences_within_the_limit():
    paragraph = "Clear the cache and try again. " * 60  # ~1,900 characters
    text = "\n\n".join([paragraph.strip()] * 5)
    parts = split_text(text)
    # Whole paragraphs, packed two to a message (three would pass 4096 characters).
    assert [part.count("\n\n") for part in parts] == [1, 1, 0]
    assert "\n\n".join(parts) == text
    one_paragraph = "This sentence ends here. " * 400  # 10,000 characters, no newline
    parts = split_text(one_paragraph)
    assert len(parts) == 3
    assert all(utf16_len(p) <= 4096 and p.endswith(".") for p in parts)


def test_split_counts_utf16_units_and_never_breaks_an_emoji():
    text = "🔐" * 5000  # 10,000 UTF-16 units, no boundary at all
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text


def test_buttons_are_laid_out_for_a_phone():
    short = [{"title": t, "payload": "/x"} for t in ("Yes", "No")]
    assert [len(r) for r in keyboard_rows(short)] == [2]
    long = [{"title": "Identity verification (KYC)", "payload": "/x"}] * 3
    assert [len(r) for r in keyboard_rows(long)] == [1, 1, 1]


# --- The bot client --------------------------------------------------------------------------


def test_the_bot_works_from_several_event_loops(fake: FakeTelegramAPI):
    # The stock connector failed here: its session belonged to a loop that asyncio.run had closed.
    bot = TelegramOutput(TOKEN, fake.base_url)
    asyncio.run(bot.register_webhook("https://example.test/hook", "s3cret"))
    asyncio.run(bot.send_text_message("42", "first loop"))
    asyncio.run(bot.send_text_message("42", "second loop"))
    assert [c.text for c in fake.calls_to("sendMessage", 42)] == ["first loop", "second loop"]
    assert fake.calls_to("setWebhook")[0].params["secret_token"] == "s3cret"


async def test_long_replies_with_buttons_are_split_and_keep_the_keyboard_on_the_last_part(fake):
    bot = TelegramOutput(TOKEN, fake.base_url)
    text = "\n\n".join(f"Step {i}: " + "do this carefully. " * 100 for i in range(6))
    long_payload = '/inform{"browser": "' + "b" * 80 + '"}'
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "Other", "payload": long_payload}]
    await bot.send_text_with_buttons("43", text, buttons)
    await bot.close()
    calls = fake.calls_to("sendMessage", 43)
    assert len(calls) > 1 and all(c.error is None for c in calls)
    assert all(utf16_len(c.text) <= 4096 for c in calls)
    assert [bool(c.keyboard) for c in calls] == [False] * (len(calls) - 1) + [True]
    data = [b["callback_data"] for row in calls[-1].keyboard for b in row]
    assert data[0] == "/affirm"
    assert len(data[1].encode()) <= MAX_CALLBACK_DATA_BYTES  # Telegram's limit
    assert bot.payload_for(data[1]) == long_payload


# --- The channel when TELEGRAM_TOKEN is unset ----------------------------------------------


async def test_without_a_token_the_webhook_answers_503_and_registers_nothing(monkeypatch):
    for name in ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    channel = TelegramInput.from_credentials(None)
    async with serve(channel) as served:  # registered as `rasa run` does
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{served.url}/webhooks/telegram/") as reply:
                health = await reply.json()
            async with http.post(f"{served.url}/webhooks/telegram/webhook",
                                 json={"update_id": 1, "message": {"text": "/start"}}) as reply:
                status, body = reply.status, await reply.json()
    assert health == {"status": "off", "reason": "TELEGRAM_TOKEN is not set", "webhook_registered": False}
    assert status == 503 and "TELEGRAM_TOKEN" in body["error"]
    assert channel._webhook_task is None


# --- Bad input (in-process: no model, the fake Bot API) -------------------------------------


SECRET = "unit-test-secret_0123456789"


def channel_settings(fake: FakeTelegramAPI, **env: str) -> TelegramSettings:
    return TelegramSettings.load({}, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET,
                                      "TELEGRAM_API_BASE": fake.base_url, **env})


async def post_update(served: Served, body: Any) -> Tuple[int, Dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{served.url}/webhooks/telegram/webhook", data=data,
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                      "Content-Type": "application/json"}) as reply:
            return reply.status, await reply.json()


def nested(depth: int) -> bytes:
    """An update whose unread field ``x`` nests ``depth`` arrays."""
    return (b'{"update_id": 5, "message": {"chat": {"id": 5, "type": "private"}, "text": "hi", "x": '
            + b"[" * depth + b"]" * depth + b"}}")


@pytest.mark.parametrize("depth", [40, 1100, 50_000])
async def test_deeply_nested_json_is_a_400_not_a_crash(fake: FakeTelegramAPI, depth: int):
    # json.loads raised RecursionError (a 500) at ~1000 levels; a real update nests about 8.
    async with serve(TelegramInput(channel_settings(fake))) as served:
        status, body = await post_update(served, nested(depth))
        assert status == 400 and "nested too deeply" in body["error"]
        # The channel still works, and the refused update was not taken as seen.
        status, body = await post_update(served, nested(20))
        assert status == 200 and body == {"status": "processed"}
    assert [m.text for m in served.messages] == ["hi"]


async def test_a_lone_surrogate_is_replaced_and_the_message_answered(fake: FakeTelegramAPI):
    chat = 8101
    update = tg.text(chat, "PLACEHOLDER")
    update["message"]["from"]["language_code"] = "LANG"
    raw = json.dumps(update).replace("PLACEHOLDER", "I can\\ud800t log in").replace("LANG", "en\\udfff")
    async with serve(TelegramInput(channel_settings(fake))) as served:
        status, body = await post_update(served, raw.encode())
    assert status == 200 and body == {"status": "processed"}
    [message] = served.messages
    assert message.text == "I can\ufffdt log in"
    assert message.metadata["channel_user"] == {"id": chat, "language_code": "en\ufffd"}
    assert [c.text for c in fake.calls_to("sendMessage", chat)] == ["echo: I can\ufffdt log in"]
