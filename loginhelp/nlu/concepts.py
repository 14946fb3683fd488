"""Concepts a message mentions, from the lexicon in ``concepts.yml``.

Why: a classifier learns only the words of its training examples. Customers use
many more words for the same few ideas ("operator", "specialist", "somebody from
your team"; "deactivated", "frozen"; "senha", "şifre"), and a lexicon of them,
written once, carries every phrasing it lists into the features.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Pattern

import yaml

LEXICON = Path(__file__).with_name("concepts.yml")

# Letters that Unicode does not decompose into a base letter and an accent.
_PLAIN = str.maketrans({"ı": "i", "đ": "d", "ł": "l", "ø": "o", "ß": "ss", "’": "'", "‘": "'"})


def fold(text: str) -> str:
    """Lower case without accents: "Şifre yanlış" and "sifre yanlis" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_PLAIN))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def read_lexicon(path: Path = LEXICON) -> Dict[str, List[str]]:
    """The lexicon file as concept -> phrases (all strings: YAML reads `no` as false)."""
    with open(path, encoding="utf-8") as handle:
        lexicon = yaml.safe_load(handle) or {}
    if not isinstance(lexicon, dict):
        raise ValueError(f"{path}: expected a mapping of concept -> phrases")
    return {str(name): [str(p) for p in phrases or []] for name, phrases in lexicon.items()}


class Concepts:
    """Whole-word, case- and accent-insensitive phrase matching, one pattern per concept."""

    def __init__(self, lexicon: Mapping[str, Iterable[object]]) -> None:
        self.patterns: Dict[str, Pattern[str]] = {}
        self.phrases: Dict[str, List[str]] = {}
        for name, phrases in lexicon.items():
            # Longest first so the alternation prefers the longer phrase; ties in
            # alphabetical order, not the set's (which changes with PYTHONHASHSEED
            # and would make augmentation, hence the trained model, differ per run).
            folded = sorted({fold(str(p)).strip() for p in phrases if str(p).strip()}, key=lambda p: (-len(p), p))
            if not folded:
                raise ValueError(f"concept {name!r} lists no phrases")
            self.phrases[str(name)] = folded
            alternatives = "|".join(re.escape(p) for p in folded)
            self.patterns[str(name)] = re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])")

    @classmethod
    def from_file(cls, path: Path = LEXICON) -> "Concepts":
        return cls(read_lexicon(path))

    def find(self, *texts: str) -> List[str]:
        """The concepts any of ``texts`` mentions (the text and its lemmas, say), in lexicon order."""
        folded = [fold(t) for t in texts if t]
        return [name for name, pattern in self.patterns.items() if any(pattern.search(t) for t in folded)]
