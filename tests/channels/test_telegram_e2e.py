"""Telegram end to end: real Rasa and action servers, real update JSON, a fake Bot API.

Updates are posted to the Rasa server's webhook as Telegram would post them; the
assertions look at what the fake Telegram API received (the bot's replies) and at
the tracker store (what reached the conversation logic).
"""
from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Dict, List

import requests

from . import telegram_updates as tg
from .conftest import TELEGRAM_SECRET, TELEGRAM_WEBHOOK_URL, Stack
from .fake_telegram import Call

GREETING = "Hi, I'm CoinEx's login helper"


def sent(stack: Stack, chat_id: int, since: int = 0) -> List[Call]:
    """sendMessage calls to ``chat_id``, from the ``since``-th on."""
    return stack.telegram.calls_to("sendMessage", chat_id)[since:]


def post_ok(stack: Stack, update: Dict[str, Any]) -> Dict[str, Any]:
    reply = stack.post_update(update)
    assert reply.status_code == 200, reply.text
    return reply.json()


def button(call: Call, title: str) -> Dict[str, Any]:
    for row in call.keyboard:
        for b in row:
            if b["text"] == title:
                return b
    raise AssertionError(f"no button {title!r} in {call.keyboard}")


def test_server_started_without_telegram_then_registered_the_webhook_with_its_secret(stack: Stack):
    # The fake API was not listening while Rasa started: the failure is logged...
    log = stack.rasa_log.read_text(errors="replace")
    assert "Could not register the Telegram webhook" in log
    # ...the other channels were up (REST answers)...
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": "tg-startup-rest", "message": "/greet"}, timeout=30)
    assert reply.ok and GREETING in reply.json()[0]["text"]
    # ...and the registration was retried until it worked, with the secret token.
    calls = stack.telegram.wait_for(lambda: stack.telegram.calls_to("setWebhook"), timeout=30)
    params = calls[-1].params
    assert params["url"] == TELEGRAM_WEBHOOK_URL
    assert params["secret_token"] == TELEGRAM_SECRET
    assert set(params["allowed_updates"]) >= {"message", "callback_query"}
    health = stack.telegram.wait_for(
        lambda: requests.get(f"{stack.rasa_url}/webhooks/telegram/", timeout=5).json().get("webhook_registered")
    )
    assert health
    assert "Event loop is closed" not in stack.rasa_log.read_text(errors="replace")


def test_start_greets_with_an_inline_keyboard(stack: Stack):
    chat = 7001
    assert post_ok(stack, tg.text(chat, "/start"))["status"] == "processed"
    [greeting] = sent(stack, chat)
    assert greeting.text.startswith(GREETING)
    assert "parse_mode" not in greeting.params  # plain text, whatever the reply contains
    titles = [b["text"] for row in greeting.keyboard for b in row]
    assert "Browser trouble" in titles and len(titles) == 12
    assert button(greeting, "Browser trouble")["callback_data"] == "/browser_issue"
    assert all(len(row) <= 3 for row in greeting.keyboard)
    assert stack.telegram.calls_to("sendChatAction", chat)[0].params["action"] == "typing"
    [event] = stack.user_events(str(chat))
    assert event["text"] == "/greet"
    assert event["metadata"]["channel_user"] == {"id": chat, "language_code": "en"}


def test_button_callbacks_are_answered_and_drive_the_conversation(stack: Stack):
    chat = 7002
    post_ok(stack, tg.text(chat, "/start"))
    greeting = sent(stack, chat)[-1]

    press = tg.callback(chat, "/browser_issue", greeting.result)
    post_ok(stack, press)
    answers = stack.telegram.calls_to("answerCallbackQuery")
    assert press["callback_query"]["id"] in [a.params["callback_query_id"] for a in answers]
    # The question now shows the choice instead of its keyboard.
    [edit] = stack.telegram.calls_to("editMessageText", chat)
    assert edit.params["message_id"] == greeting.result["message_id"]
    assert edit.text.endswith("✔ Browser trouble") and not edit.keyboard
    # Telegram has no user agent: the bot asks which browser.
    question = sent(stack, chat)[-1]
    assert question.text.startswith("Which browser are you using?")
    chrome = button(question, "Chrome")

    post_ok(stack, tg.callback(chat, chrome["callback_data"], question.result))
    replies = sent(stack, chat)[-2:]
    assert replies[0].text.startswith("Clear Chrome's cache and cookies")
    assert replies[1].text == "Did that help?"
    assert {b["text"] for row in replies[1].keyboard for b in row} == {"Yes, I'm in", "No, still stuck"}
    texts = [e["text"] for e in stack.user_events(str(chat))]
    assert texts == ["/greet", "/browser_issue", '/inform{"browser": "chrome"}']


def test_photo_during_the_ticket_form_is_attached_to_the_ticket(stack: Stack):
    chat = 7003
    post_ok(stack, tg.text(chat, "/start"))
    post_ok(stack, tg.text(chat, "I want to talk to support"))
    assert "email address or phone number" in sent(stack, chat)[-1].text
    before = len(sent(stack, chat))
    assert post_ok(stack, tg.photo(chat, caption="this is what I see"))["status"] == "processed"
    shared = stack.user_events(str(chat))[-1]
    assert shared["text"] == "/share_screenshot"
    assert shared["metadata"]["attachments"] == [{
        "source": "telegram",
        "location": "AgACAgQAAxkBAAIBlarge",  # the largest size
        "file_name": None,
        "mime_type": None,
        "size_bytes": 88213,
    }]
    assert shared["metadata"]["channel_user"] == {"id": chat, "language_code": "en"}
    assert shared["metadata"]["caption"] == "this is what I see"
    replies = [c.text for c in sent(stack, chat)[before:]]
    assert any("1 screenshot(s) attached" in r for r in replies)
    assert "email address or phone number" in replies[-1]  # the form goes on where it was

    for answer in ("anna.k@example.com", "The app says my session expired every time I log in",
                   "/deny", "/deny", "Pixel 7", "CoinEx app 3.2.1"):
        post_ok(stack, tg.text(chat, answer))
    summary = sent(stack, chat)[-1]
    assert "Screenshots: 1 attached" in summary.text  # not asked again
    post_ok(stack, tg.callback(chat, button(summary, "Send it")["callback_data"], summary.result))
    reference = re.search(r"LH-[2-9A-HJ-NP-Z]{6}", sent(stack, chat)[-1].text).group()

    db = sqlite3.connect(stack.tmp / "loginhelp.db")
    ticket = db.execute("SELECT id, channel, device, browser_version FROM tickets WHERE reference = ?",
                        (reference,)).fetchone()
    assert ticket[1:] == ("telegram", "Pixel 7", "CoinEx app 3.2.1")
    shots = db.execute("SELECT source, location, size_bytes FROM ticket_screenshots WHERE ticket_id = ?",
                       (ticket[0],)).fetchall()
    assert shots == [("telegram", "AgACAgQAAxkBAAIBlarge", 88213)]


def test_document_is_forwarded_with_its_name_type_and_size(stack: Stack):
    chat = 7004
    post_ok(stack, tg.document(chat))
    [shared] = stack.user_events(str(chat))
    assert shared["text"] == "/share_screenshot"
    assert shared["metadata"]["attachments"] == [{
        "source": "telegram",
        "location": "BQACAgQAAxkBAAIBdocument",
        "file_name": "login-error.png",
        "mime_type": "image/png",
        "size_bytes": 254001,
    }]
    assert sent(stack, chat)


def test_updates_without_the_right_secret_are_refused_and_not_processed(stack: Stack):
    chat = 7005
    for secret in ("wrong-secret", None, ""):
        reply = stack.post_update(tg.text(chat, "/start"), secret=secret)
        assert reply.status_code == 403
    assert not stack.telegram.calls_to(chat_id=chat)
    assert stack.user_events(str(chat)) == []


def test_bad_requests_get_a_4xx(stack: Stack):
    cases = [
        (b"{not json", 400),
        (b"", 400),
        (b"[1, 2, 3]", 400),
        (json.dumps({"message": {"text": "hi"}}).encode(), 400),  # no update_id
        (json.dumps({"update_id": tg.next_update_id(), "message": "hi"}).encode(), 400),
        (json.dumps({"update_id": tg.next_update_id(), "message": {"text": "no chat"}}).encode(), 400),
        (json.dumps({"update_id": tg.next_update_id(), "callback_query": {"data": "/greet"}}).encode(), 400),
        # Nested ~1000 levels: json.loads raised RecursionError, a 500.
        (b'{"update_id": 1, "x": ' + b"[" * 1100 + b"]" * 1100 + b"}", 400),
    ]
    for body, status in cases:
        reply = stack.post_update(None, raw=body)
        assert reply.status_code == status, (body, reply.text)
        assert "error" in reply.json()
    # Still alive.
    assert post_ok(stack, tg.text(7006, "/start"))["status"] == "processed"


def test_unknown_update_types_are_acknowledged_and_ignored(stack: Stack):
    before = len(stack.telegram.calls_to("sendMessage"))
    for update in (
        {"update_id": tg.next_update_id(), "poll": {"id": "1", "question": "?", "options": []}},
        {"update_id": tg.next_update_id(), "my_chat_member": {"chat": tg.chat(7007)}},
        {"update_id": tg.next_update_id(), "inline_query": {"id": "1", "from": tg.user(7007), "query": "x"}},
    ):
        reply = post_ok(stack, update)
        assert reply["status"].startswith("ignored")
    assert len(stack.telegram.calls_to("sendMessage")) == before


def test_odd_messages_get_a_clear_reply(stack: Stack):
    cases = {
        7010: tg.text(7010, ""),
        7011: tg.text(7011, "x" * 20_000),
        7012: tg.text(7012, "😀🔐🙏 can't log in 😭"),
        7013: tg.text(7013, "<script>alert('x')</script><b>login</b> &amp; broken"),
        7014: tg.sticker(7014),
    }
    for chat, update in cases.items():
        assert post_ok(stack, update)["status"] in ("processed", "unsupported content"), chat
        replies = sent(stack, chat)
        assert replies, f"no reply for chat {chat}"
        assert all(0 < len(r.text) <= 4096 and "parse_mode" not in r.params for r in replies)
    assert "photos and documents" in sent(stack, 7014)[0].text
    [long_text] = stack.user_events("7011")
    assert len(long_text["text"]) <= 4096


def test_a_lone_surrogate_is_replaced_and_the_message_answered(stack: Stack):
    chat = 7015
    raw = json.dumps(tg.text(chat, "PLACEHOLDER")).replace("PLACEHOLDER", "I can\\ud800t log in").encode()
    reply = stack.post_update(None, raw=raw)
    assert reply.status_code == 200 and reply.json()["status"] == "processed"
    assert sent(stack, chat), "no reply"
    [event] = stack.user_events(str(chat))
    assert event["text"] == "I can\ufffdt log in"


def test_group_chats_are_sent_to_a_private_chat(stack: Stack):
    chat = -7020
    post_ok(stack, tg.text(chat, "my password is hunter2", chat_type="group"))
    [note] = sent(stack, chat)
    assert "private chat" in note.text and "@CoinExLoginHelpBot" in note.text
    assert stack.user_events(str(chat)) == []


def test_a_redelivered_update_is_processed_once(stack: Stack):
    chat = 7030
    update = tg.text(chat, "/start")
    assert post_ok(stack, update)["status"] == "processed"
    assert post_ok(stack, update)["status"] == "duplicate"
    assert len(stack.user_events(str(chat))) == 1


def test_restart_command_restarts_and_greets(stack: Stack):
    chat = 7040
    post_ok(stack, tg.text(chat, "/restart"))
    assert [e["text"] for e in stack.user_events(str(chat))] == ["/restart", "/greet"]
    assert sent(stack, chat)[-1].text.startswith(GREETING)


def test_get_me_is_not_called_per_update(stack: Stack):
    # Runs after the others in this module: dozens of updates, at most the one start-up getMe.
    assert len(stack.telegram.calls_to("getMe")) <= 1
    assert len(stack.telegram.calls_to("sendMessage")) > 10
