"""Which language a customer writes in, when it is surely not English.

The assistant answers in English only, so a customer writing Spanish or Turkish
is told so once. A false alarm would tell an English speaker typing chat English
("r u a bot", "dont work", "en route") that they are not understood, so the test is
strict: a message in another script, or one with at least two of another
language's function words (spaCy's stop-word lists, no model to load) and few
English ones. Emails, addresses and references are left out before counting.
"""
from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Dict, FrozenSet, Optional

#: Languages whose function words are looked for (customers of CoinEx write them most).
LANGUAGES = ("es", "pt", "fr", "de", "it", "tr", "id", "vi", "pl", "nl")
#: What a message in a non-Latin script is reported as.
OTHER_SCRIPT = "other"
# Chat English without apostrophes, which other languages' lists may hold ("dont" is French).
_CHAT_ENGLISH = frozenset({"dont", "cant", "wont", "didnt", "doesnt", "isnt", "im", "ive", "u", "ur", "pls", "plz"})
_WORD = re.compile(r"[^\W\d_]{2,}")
_NOT_A_WORD = re.compile(r"[@\d]|\w\.\w")
# Latin letters end at U+024F (Latin Extended-B); Vietnamese marks are still Latin.
_LATIN_END = 0x024F
_LATIN_EXTENDED_ADDITIONAL = range(0x1E00, 0x1F00)


@lru_cache(maxsize=1)
def _stop_words() -> Dict[str, FrozenSet[str]]:
    lists = {code: frozenset(importlib.import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS)
             for code in LANGUAGES + ("en",)}
    lists["en"] = lists["en"] | _CHAT_ENGLISH
    return lists


def _other_script(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    other = [ch for ch in letters if ord(ch) > _LATIN_END and ord(ch) not in _LATIN_EXTENDED_ADDITIONAL]
    return bool(letters) and len(other) * 2 > len(letters)


def foreign_language(text: str) -> Optional[str]:
    """The code of the language ``text`` is surely written in when it is not English
    (``OTHER_SCRIPT`` for another script), else None."""
    if _other_script(text):
        return OTHER_SCRIPT
    kept = " ".join(w for w in text.split() if not _NOT_A_WORD.search(w))
    words = [w.lower() for w in _WORD.findall(kept)]
    if len(words) < 2:
        return None
    lists = _stop_words()
    english = sum(w in lists["en"] for w in words)
    found = {code: {w for w in words if w in lists[code] and w not in lists["en"]} for code in LANGUAGES}
    best = max(LANGUAGES, key=lambda code: len(found[code]))
    hits = len(found[best])
    return best if hits >= 2 and hits > english else None
