"""Splitting a reply into Telegram-sized messages.

Telegram refuses a message over 4096 characters, counted in UTF-16 code units;
a long reply is cut at the most natural boundary that fits, never inside a
surrogate pair (an emoji).
"""
from __future__ import annotations

import re
from typing import List, Optional

MAX_MESSAGE_CHARS = 4096  # per message, counted in UTF-16 code units


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it."""
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
    """As many consecutive parts per piece as fit (a part too long is split further)."""
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
