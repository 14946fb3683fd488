"""What every channel does to a customer's message before Rasa sees it.

The conversation logic lives in the domain, the rules and the actions; a channel
only turns its wire format into a ``UserMessage`` (and Rasa's replies back into
its own rendering). The checks here are the same for every channel, so a bad
message is refused or cleaned the same way wherever it comes from.
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional

# Telegram refuses messages longer than 4096 characters; the widget caps its
# input at the same length. Longer text is cut (at a word boundary) before NLU:
# the pipeline's cost grows faster than linearly with the length of a message,
# and no login problem needs more than this to describe.
MAX_TEXT_CHARS = 4096

# C0/C1 control characters other than tab and newline (NUL, ESC, ...), which no
# keyboard produces and which only make logs and the tracker store harder to read.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: Optional[str], limit: int = MAX_TEXT_CHARS) -> str:
    """The customer's text without control characters, at most ``limit`` characters.

    Emoji, HTML and any other Unicode pass through untouched: they are text, and
    every channel renders the bot's replies as plain text.
    """
    if not text:
        return ""
    text = _CONTROL_CHARS.sub("", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # Prefer cutting at the last whitespace in the final tenth of the window.
    space = cut.rfind(" ", int(limit * 0.9))
    return (cut[:space] if space > 0 else cut).rstrip()


# The widget's custom data (contract with the actions, see web/README.md): key,
# accepted types and, for strings, the longest value kept. Anything else the
# browser sends is dropped: metadata is stored with every event in the tracker.
WIDGET_METADATA_FIELDS: Dict[str, tuple] = {
    "user_agent": (str, 1024),
    "language": (str, 35),
    "timezone": (str, 64),
    "client_time": ((int, float), None),
}


def widget_metadata(raw: Any) -> Dict[str, Any]:
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
    return metadata
