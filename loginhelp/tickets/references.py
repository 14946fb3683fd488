"""Customer-facing ticket references such as ``LH-7KQ2MX``.

The alphabet leaves out 0/O, 1/I/L so a reference read aloud or copied from a
phone screen cannot be mistyped into a different valid reference.
"""
from __future__ import annotations

import re
import secrets

PREFIX = "LH-"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6

_PATTERN = re.compile(rf"{re.escape(PREFIX)}[{ALPHABET}]{{{LENGTH}}}")


def new_reference() -> str:
    """Draw a fresh random reference (uniqueness is enforced by the database)."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_reference(text: str) -> str | None:
    """Return the canonical form of ``text`` (e.g. ``" lh-7kq2mx "`` -> ``"LH-7KQ2MX"``) or None if invalid."""
    if not isinstance(text, str):
        return None
    candidate = text.strip().upper()
    return candidate if _PATTERN.fullmatch(candidate) else None


def is_valid_reference(text: str) -> bool:
    """True when ``text`` is a well-formed reference, ignoring case and surrounding spaces."""
    return normalise_reference(text) is not None
