"""Reading a Telegram update into the conversation's terms (pure: no I/O).

A message becomes the text for Rasa and the contract's metadata
(``contract.TelegramMetadata``): ``channel_user`` always, and for a photo or a
document the message ``/share_screenshot`` with the file as an ``attachments``
entry (and its caption). Commands become the intents they stand for.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from loginhelp.channels.common import clean_text
from loginhelp.contract import Attachment, ChannelMessage, ChannelUser, Metadata, TelegramMetadata

# Telegram commands and the messages they stand for.
COMMANDS = {"start": ChannelMessage.GREET, "help": ChannelMessage.CAPABILITIES, "restart": ChannelMessage.RESTART}


class MalformedUpdate(ValueError):
    """The body is JSON but not a Telegram update this channel can read."""


def int_or_none(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def chat_id(message: Any) -> int:
    """The chat a message belongs to (MalformedUpdate without one)."""
    chat = message.get("chat") if isinstance(message, dict) else None
    found = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(found, bool) or not isinstance(found, int):
        raise MalformedUpdate("message.chat.id missing")
    return found


def channel_user(user: Any) -> ChannelUser:
    """The contract's ``channel_user`` from a Telegram ``from`` object."""
    user = user if isinstance(user, dict) else {}
    language = user.get("language_code")
    return {"id": int_or_none(user.get("id")), "language_code": language if isinstance(language, str) else None}


def attachment_from_message(message: Dict[str, Any]) -> Optional[Attachment]:
    """The contract's attachment for a photo (largest size) or a document, else None."""
    photos = message.get("photo")
    if isinstance(photos, list):
        sizes = [p for p in photos if isinstance(p, dict) and _str_or_none(p.get("file_id"))]
        if sizes:
            largest = max(
                sizes,
                key=lambda p: ((int_or_none(p.get("width")) or 0) * (int_or_none(p.get("height")) or 0),
                               int_or_none(p.get("file_size")) or 0),
            )
            return {
                "source": "telegram",
                "location": largest["file_id"],
                "file_name": None,
                "mime_type": None,
                "size_bytes": int_or_none(largest.get("file_size")),
            }
    document = message.get("document")
    if isinstance(document, dict) and _str_or_none(document.get("file_id")):
        return {
            "source": "telegram",
            "location": document["file_id"],
            "file_name": _str_or_none(document.get("file_name")),
            "mime_type": _str_or_none(document.get("mime_type")),
            "size_bytes": int_or_none(document.get("file_size")),
        }
    return None


def command_text(text: str) -> str:
    """``/start``, ``/help`` and ``/restart`` (also as ``/start@bot``) as the messages they stand for."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    head = stripped.split(maxsplit=1)[0][1:]
    command, _, _mention = head.partition("@")
    return COMMANDS.get(command.lower(), text)


def read_message(message: Dict[str, Any]) -> Tuple[Optional[str], TelegramMetadata]:
    """The text for Rasa and the metadata of a private chat's message; the text is
    None for content the assistant cannot read (stickers, voice, ...)."""
    metadata: TelegramMetadata = {Metadata.CHANNEL_USER: channel_user(message.get("from"))}
    text = message.get("text")
    if isinstance(text, str):
        return clean_text(command_text(text)), metadata
    attachment = attachment_from_message(message)
    if attachment is None:
        return None, metadata
    metadata[Metadata.ATTACHMENTS] = [attachment]
    caption = clean_text(message.get("caption")) if isinstance(message.get("caption"), str) else ""
    if caption:
        metadata[Metadata.CAPTION] = caption
    return ChannelMessage.SHARE_SCREENSHOT, metadata


def callback_metadata(query: Dict[str, Any]) -> TelegramMetadata:
    """The metadata of a pressed button: who pressed it."""
    return {Metadata.CHANNEL_USER: channel_user(query.get("from"))}


def live_chat_line(message: Dict[str, Any]) -> Optional[str]:
    """What a support agent reads for a message during a live handoff: the text as typed (commands
    too), ``[photo]`` or ``[document: name]`` with any caption; None for content nobody can read."""
    text = message.get("text")
    if isinstance(text, str):
        return clean_text(text)
    attachment = attachment_from_message(message)
    if attachment is None:
        return None
    if isinstance(message.get("photo"), list) and attachment["file_name"] is None and attachment["mime_type"] is None:
        line = "[photo]"
    else:
        line = f"[document: {attachment['file_name'] or 'no name'}]"
    caption = clean_text(message.get("caption")) if isinstance(message.get("caption"), str) else ""
    return f"{line} {caption}" if caption else line
