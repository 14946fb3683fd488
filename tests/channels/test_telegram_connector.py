"""The Telegram connector in-process: settings, rendering, the bot client, the channel when off,
bad input, and the state two replicas share through Redis (the real one at 127.0.0.1:6379)."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
from typing import Any, Dict, Iterator, Tuple

import aiohttp
import pytest
import redis

from loginhelp.channels.telegram import TelegramInput, TelegramOutput, TelegramSettings
from loginhelp.channels.telegram.output import MAX_CALLBACK_DATA_BYTES, keyboard_rows
from loginhelp.channels.telegram.settings import derived_secret
from loginhelp.channels.telegram.text import split_text, utf16_len

from . import telegram_updates as tg
from .conftest import free_port
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
    buttons = [{"title": "Yes", "payload": "/affirm"},
               {"title": "Browser version", "payload": '/ticket_change{"ticket_field": "ticket_browser_version"}'}]
    await bot.send_text_with_buttons("43", text, buttons)
    await bot.close()
    calls = fake.calls_to("sendMessage", 43)
    assert len(calls) > 1 and all(c.error is None for c in calls)
    assert all(utf16_len(c.text) <= 4096 for c in calls)
    assert [bool(c.keyboard) for c in calls] == [False] * (len(calls) - 1) + [True]
    data = [b["callback_data"] for row in calls[-1].keyboard for b in row]
    assert data == [b["payload"] for b in buttons]  # the payloads themselves: they fit in 64 bytes


async def test_a_payload_over_64_bytes_is_logged_and_sent_as_a_line_of_text(fake, caplog):
    # No payload of the domain or the actions is this long (tests/test_contract.py); Telegram
    # would refuse the whole message with its keyboard, so the button becomes text instead.
    bot = TelegramOutput(TOKEN, fake.base_url)
    long_payload = '/inform{"browser": "' + "b" * 80 + '"}'
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "Other browser", "payload": long_payload}]
    with caplog.at_level("ERROR", logger="loginhelp.channels.telegram.output"):
        await bot.send_text_with_buttons("44", "Which browser?", buttons)
        await bot.send_text_with_buttons("44", "", [buttons[1]])
    await bot.close()
    first, second = fake.calls_to("sendMessage", 44)
    assert first.error is None and second.error is None
    assert first.text == "Which browser?\n\n• Other browser"
    assert [[b["callback_data"] for b in row] for row in first.keyboard] == [["/affirm"]]
    assert second.text == "• Other browser" and second.keyboard == []
    # Only the channel's own records: another test's unclosed aiohttp session may log an
    # ERROR (asyncio) while this one runs.
    errors = [r for r in caplog.records
              if r.levelname == "ERROR" and r.name == "loginhelp.channels.telegram.output"]
    assert len(errors) == 2 and all("Other browser" in r.getMessage() and "64-byte" in r.getMessage()
                                    for r in errors)
    assert len(long_payload.encode()) > MAX_CALLBACK_DATA_BYTES


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


# --- Bad input and state shared by replicas (in-process: no model, the fake Bot API) ------


SECRET = "unit-test-secret_0123456789"
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))


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


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 ({error})", pytrace=False)
    prefix = f"lhtest{secrets.token_hex(4)}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def redis_env(prefix: str, port: int = 6379) -> Dict[str, str]:
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port), "REDIS_DB": str(REDIS_DB),
            "REDIS_PASSWORD": "", "REDIS_KEY_PREFIX": prefix}


async def test_two_replicas_sharing_redis_process_a_redelivered_update_once(fake, redis_prefix):
    settings = channel_settings(fake, **redis_env(redis_prefix))
    assert settings.redis is not None and settings.redis.db == REDIS_DB
    update = tg.text(8201, "hello")
    async with serve(TelegramInput(settings)) as first, serve(TelegramInput(settings)) as second:
        assert await post_update(first, update) == (200, {"status": "processed"})
        # Telegram re-delivers it and the load balancer picks the other replica.
        assert await post_update(second, update) == (200, {"status": "duplicate"})
        assert await post_update(first, update) == (200, {"status": "duplicate"})
    assert [m.text for m in first.messages] == ["hello"] and second.messages == []
    key = f"{redis_prefix}:telegram:{TOKEN.split(':')[0]}:update:{update['update_id']}"
    ttl = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).ttl(key)
    assert 0 < ttl <= 24 * 3600


async def test_without_redis_each_replica_only_knows_its_own_updates(fake):
    # What Redis is for: two processes that share nothing both take the re-delivery.
    update = tg.text(8202, "hello")
    settings = channel_settings(fake)
    assert settings.redis is None
    async with serve(TelegramInput(settings)) as first, serve(TelegramInput(settings)) as second:
        assert await post_update(first, update) == (200, {"status": "processed"})
        assert await post_update(first, update) == (200, {"status": "duplicate"})
        assert await post_update(second, update) == (200, {"status": "processed"})


async def test_an_unreachable_redis_loses_no_message(fake):
    settings = channel_settings(fake, **redis_env("lhtestdown", port=free_port()))  # nothing listens there
    update = tg.text(8204, "hello")
    async with serve(TelegramInput(settings)) as served:
        assert await post_update(served, update) == (200, {"status": "processed"})
        # This process still remembers it.
        assert await post_update(served, update) == (200, {"status": "duplicate"})
    assert [m.text for m in served.messages] == ["hello"]
