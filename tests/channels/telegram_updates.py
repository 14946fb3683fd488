"""Telegram update JSON as the Bot API sends it to a webhook."""
from __future__ import annotations

import itertools
import time
from typing import Any, Dict, List, Optional

_update_ids = itertools.count(int(time.time()) % 1_000_000 * 100)
_message_ids = itertools.count(1)


def user(user_id: int, language_code: str = "en") -> Dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Test", "last_name": "Customer",
            "username": f"customer{user_id}", "language_code": language_code}


def chat(chat_id: int, chat_type: str = "private") -> Dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Test", "username": f"customer{chat_id}"}
    return {"id": chat_id, "type": chat_type, "title": "Crypto friends"}


def message(chat_id: int, chat_type: str = "private", **content: Any) -> Dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": user(abs(chat_id)),
            "chat": chat(chat_id, chat_type),
            "date": int(time.time()),
            **content,
        },
    }


def text(chat_id: int, body: str, **kwargs: Any) -> Dict[str, Any]:
    extra: Dict[str, Any] = {"text": body}
    if body.startswith("/"):
        extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(body.split()[0])}]
    return message(chat_id, **kwargs, **extra)


def photo(chat_id: int, caption: Optional[str] = None) -> Dict[str, Any]:
    sizes: List[Dict[str, Any]] = [
        {"file_id": "AgACAgQAAxkBAAIBsmall", "file_unique_id": "AQADs", "file_size": 1480, "width": 90, "height": 51},
        {"file_id": "AgACAgQAAxkBAAIBlarge", "file_unique_id": "AQADl", "file_size": 88213, "width": 1280, "height": 720},
        {"file_id": "AgACAgQAAxkBAAIBmedium", "file_unique_id": "AQADm", "file_size": 21540, "width": 320, "height": 180},
    ]
    content: Dict[str, Any] = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return message(chat_id, **content)


def document(chat_id: int) -> Dict[str, Any]:
    return message(chat_id, document={
        "file_id": "BQACAgQAAxkBAAIBdocument", "file_unique_id": "AgADd", "file_name": "login-error.png",
        "mime_type": "image/png", "file_size": 254001,
    })


def sticker(chat_id: int) -> Dict[str, Any]:
    return message(chat_id, sticker={
        "file_id": "CAACAgIAAxkBAAIBsticker", "file_unique_id": "AgADs", "width": 512, "height": 512,
        "is_animated": False, "emoji": "😀",
    })


def callback(chat_id: int, data: str, on_message: Dict[str, Any]) -> Dict[str, Any]:
    """A button press on ``on_message`` (a message the bot sent, as the fake API returned it)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cbq-{next(_update_ids)}",
            "from": user(chat_id),
            "message": on_message,
            "chat_instance": "-4242",
            "data": data,
        },
    }


def next_update_id() -> int:
    return next(_update_ids)
