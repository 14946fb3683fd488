"""Letters that pass for other letters, and plain words for what differs.

A look-alike is caught by the name a reader's eye sees (its skeleton: each
character replaced by the plain Latin letter it passes for, from Unicode's
confusables via confusable-homoglyphs, accents dropped), and explained by naming
the odd characters: "the о in it is a Cyrillic letter, not a Latin o".
"""
from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from typing import List, Tuple

from confusable_homoglyphs import confusables

# Digits and letters that pass for one another in a plain ASCII name, folded to one
# representative each so "c0inex", "co1nex" and "colnex" all meet "coinex".
_ASCII_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_SPOKEN = {
    "0": "a 0 (zero)", "1": "a 1 (one)", "3": "a 3 (three)", "4": "a 4 (four)", "5": "a 5 (five)",
    "7": "a 7 (seven)", "8": "an 8 (eight)", "9": "a 9 (nine)", "6": "a 6 (six)", "2": "a 2 (two)",
    "l": "an l (small L)", "i": "an i", "-": "a hyphen", "_": "an underscore",
}
# Letters whose English name starts with a vowel sound take "an".
_AN_LETTERS = frozenset("aefhilmnorsx")


@lru_cache(maxsize=4096)
def latin_lookalike(char: str) -> str:
    """The plain Latin letter or digit ``char`` passes for, or ``char`` itself."""
    if char.isascii():
        return char.lower()
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if len(base) == 1 and base.isascii() and base.isalnum():
        return base.lower()
    for entry in confusables.is_confusable(char, greedy=True) or ():
        for glyph in entry["homoglyphs"]:
            if len(glyph["c"]) == 1 and glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"].lower()
    return char


def skeleton(text: str) -> str:
    """``text`` with every character replaced by the plain letter it passes for."""
    return "".join(latin_lookalike(c) for c in text)


def fold(text: str) -> str:
    """The skeleton with look-alike ASCII digits and letters folded together (same length)."""
    return skeleton(text).translate(_ASCII_FOLD)


def script_of(char: str) -> str:
    """The script a character belongs to, from its Unicode name ("Cyrillic", "Greek", "Latin")."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0].title() if name else "special"


def spoken(chars: str) -> str:
    """How to say a character in a sentence: "a 0 (zero)", "an m", "the letters rn"."""
    if chars in _SPOKEN:
        return _SPOKEN[chars]
    if len(chars) > 1:
        return f"the letters {chars}"
    return f"an {chars}" if chars in _AN_LETTERS else f"a {chars}"


def swaps(shown: str, genuine: str) -> List[Tuple[str, str]]:
    """The stretches of ``shown`` that replace stretches of ``genuine``, letter by letter where they can be."""
    matcher = SequenceMatcher(None, shown, genuine, autojunk=False)
    pairs: List[Tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        if i2 - i1 == j2 - j1:
            pairs.extend((s, g) for s, g in zip(shown[i1:i2], genuine[j1:j2]) if s != g)
        else:
            pairs.append((shown[i1:i2], genuine[j1:j2]))
    return pairs


def describe_swaps(shown: str, genuine: str, brand: str) -> str:
    """One clause naming each odd character of ``shown`` against ``genuine``, alike ones together."""
    pairs = swaps(shown, genuine)
    if not pairs:
        return f"it only looks like {brand}'s name ({shown} instead of {genuine})"
    groups: dict = {}
    for odd, plain in pairs:
        groups.setdefault(_oddity(odd, plain), []).append((odd, plain))
    clauses = []
    for oddity, group in groups.items():
        odd, plain = _and([o for o, _ in group]), _and([p for _, p in group])
        many = len(group) > 1
        if oddity == "accent":
            verb, marks, owner = ("carry", "marks", "don't") if many else ("carries", "a mark", "doesn't")
            clauses.append(f"the {odd} in it {verb} {marks} that the {plain} in {brand}'s name {owner} have")
        elif oddity == "special":
            what = "are special letters, not plain" if many else "is a special letter, not a plain"
            clauses.append(f"the {odd} in it {what} {plain}")
        elif oddity == "ascii":
            clauses.extend(f"it has {spoken(o)} where {brand}'s name has {spoken(p)}" for o, p in group)
        else:
            scripts = _and(list(dict.fromkeys(script_of(o) for o, _ in group)))
            what = f"are {scripts} letters, not Latin" if many else f"is {_article(scripts)} {scripts} letter, not a Latin"
            clauses.append(f"the {odd} in it {what} {plain}")
    return ", and ".join(clauses)


def _oddity(odd: str, plain: str) -> str:
    """What kind of stand-in ``odd`` is: another script's letter, an accented or special Latin one, or plain ASCII."""
    if len(odd) != 1 or odd.isascii():
        return "ascii"
    if script_of(odd) != "Latin":
        return "script"
    return "accent" if _unaccented(odd) == plain else "special"


def _unaccented(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _and(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
