"""What every channel does to a customer's message before Rasa sees it.

The conversation logic lives in the domain, the rules and the actions; a channel
only turns its wire format into a ``UserMessage`` (and Rasa's replies back into
its own rendering). The checks here are the same for every channel, so a bad
message is refused or cleaned the same way wherever it comes from.
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional, cast

from loginhelp.contract import Metadata, WidgetMetadata

# Telegram refuses messages longer than 4096 characters; the widget caps its
# input at the same length. Longer text is cut (at a word boundary) before NLU:
# the pipeline's cost grows faster than linearly with the length of a message,
# and no login problem needs more than this to describe.
MAX_TEXT_CHARS = 4096

# C0/C1 control characters other than tab and newline (NUL, ESC, ...), which no
# keyboard produces and which only make logs and the tracker store harder to read.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Lone UTF-16 surrogates. A JSON escape such as "\ud800" without its other half
# decodes to one of these, which is not text: no UTF-8 encoder accepts it, so the
# tracker store, the logs and Telegram all fail on it (the REST channel answered
# such a message with an empty reply list). A valid pair ("\ud83d\ude00") decodes
# to one code point and is not matched.
_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"

# How deeply decoded JSON from a client (REST metadata, a Telegram update) may
# nest. Real metadata is flat and a real Telegram update nests about 8 levels;
# the tracker store serialises metadata with every event and fails (recursion)
# on ~1000 levels, after the customer's message was taken.
MAX_JSON_DEPTH = 32


def replace_lone_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, as a UTF-8 decoder would."""
    return _LONE_SURROGATES.sub(REPLACEMENT_CHARACTER, text)


class TooDeep(ValueError):
    """Decoded JSON nested more deeply than allowed."""


def clean_json(value: Any, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A copy of decoded JSON with lone surrogates replaced in every string and key.

    Raises ``TooDeep`` when objects and arrays nest more than ``max_depth`` levels
    (the top-level object is level 1).
    """

    def walk(item: Any, depth: int) -> Any:
        if isinstance(item, str):
            return replace_lone_surrogates(item)
        if isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise TooDeep(f"nested more than {max_depth} levels deep")
            if isinstance(item, dict):
                return {replace_lone_surrogates(str(k)): walk(v, depth + 1) for k, v in item.items()}
            return [walk(v, depth + 1) for v in item]
        return item

    return walk(value, 0)


def clean_text(text: Optional[str], limit: int = MAX_TEXT_CHARS) -> str:
    """The customer's text without control characters, at most ``limit`` characters.

    A lone surrogate (not text, see above) becomes U+FFFD and the message is kept.

    Emoji, HTML and any other Unicode pass through untouched: they are text, and
    every channel renders the bot's replies as plain text.
    """
    if not text:
        return ""
    text = replace_lone_surrogates(_CONTROL_CHARS.sub("", text)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # Prefer cutting at the last whitespace in the final tenth of the window.
    space = cut.rfind(" ", int(limit * 0.9))
    return (cut[:space] if space > 0 else cut).rstrip()


# The widget's custom data (``contract.WidgetMetadata``, see web/README.md): key,
# accepted types and, for strings, the longest value kept. Anything else the
# browser sends is dropped: metadata is stored with every event in the tracker.
WIDGET_METADATA_FIELDS: Dict[str, tuple] = {
    Metadata.USER_AGENT: (str, 1024),
    Metadata.LANGUAGE: (str, 35),
    Metadata.TIMEZONE: (str, 64),
    Metadata.CLIENT_TIME: ((int, float), None),
}


def widget_metadata(raw: Any) -> WidgetMetadata:
    """The known, well-typed fields of the widget's custom data ({} for anything else)."""
    if not isinstance(raw, dict):
        return {}
    metadata: Dict[str, Any] = {}
    for key, (types, max_len) in WIDGET_METADATA_FIELDS.items():
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, types):
            continue
        if isinstance(value, str):
            value = clean_text(value, max_len)
            if not value:
                continue
        elif isinstance(value, float) and not math.isfinite(value):
            continue
        metadata[key] = value
    return cast(WidgetMetadata, metadata)
