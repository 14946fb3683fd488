"""Whether a customer waiting for an agent asks to leave the queue, and for what (the assistant or a ticket).

The live chat keeps a waiting customer's messages for the agent; only these few
phrases (``leaving.yml``) are read as leaving instead, because dropping someone
from the queue by accident costs them their place. The words are data so support
can tune them without touching the bridge.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Optional, Tuple

import yaml

from .models import TO_ASSISTANT, TO_TICKET

WORDS_FILE = Path(__file__).with_name("leaving.yml")
TARGETS: Tuple[str, ...] = (TO_TICKET, TO_ASSISTANT)  # a message naming both asks for the ticket

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> Tuple[str, ...]:
    """Lower-case words, punctuation dropped, typographic apostrophes made plain."""
    return tuple(_WORD.findall(text.lower().replace("\u2019", "'")))


def _contains(haystack: Tuple[str, ...], needle: Tuple[str, ...]) -> bool:
    size = len(needle)
    return size > 0 and any(haystack[i:i + size] == needle for i in range(len(haystack) - size + 1))


@dataclass(frozen=True)
class LeavingWords:
    negations: Tuple[Tuple[str, ...], ...]
    filler: FrozenSet[str]
    alone: Dict[str, Tuple[Tuple[str, ...], ...]]
    within: Dict[str, Tuple[Tuple[str, ...], ...]]

    @classmethod
    def from_mapping(cls, raw: Any) -> "LeavingWords":
        if not isinstance(raw, dict):
            raise ValueError("the leaving words must be a mapping")

        def phrases(items: Any) -> Tuple[Tuple[str, ...], ...]:
            return tuple(w for w in (words(str(item)) for item in items or ()) if w)

        def by_target(section: Any) -> Dict[str, Tuple[Tuple[str, ...], ...]]:
            section = section or {}
            unknown = set(section) - set(TARGETS)
            if unknown:
                raise ValueError(f"unknown targets in the leaving words: {sorted(unknown)}")
            return {target: phrases(section.get(target)) for target in TARGETS}

        return cls(phrases(raw.get("negations")), frozenset(w for p in phrases(raw.get("filler")) for w in p),
                   by_target(raw.get("alone")), by_target(raw.get("within")))

    def target(self, text: str) -> Optional[str]:
        """``"ticket"``, ``"assistant"``, or None when the message is for the agent."""
        said = words(text)
        if not said or any(_contains(said, negation) for negation in self.negations):
            return None
        for target in TARGETS:
            if any(_contains(said, phrase) for phrase in self.within[target]):
                return target
        for target in TARGETS:
            for phrase in self.alone[target]:
                if _contains(said, phrase) and all(w in self.filler or w in phrase for w in said):
                    return target
        return None


@functools.lru_cache(maxsize=4)
def load(path: Path = WORDS_FILE) -> LeavingWords:
    with path.open(encoding="utf-8") as handle:
        return LeavingWords.from_mapping(yaml.safe_load(handle))


def leaving_to(text: str) -> Optional[str]:
    """Where a waiting customer's message asks to go (see ``leaving.yml``), or None: it is for the agent."""
    return load().target(text)
