"""What a short answer says, read from its words (patterns in answers.yml).

Used where the question is known and the classifier is not sure: "nothing
there" after a step means it did not help, "send it pls" at the summary is a yes.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Dict, Optional, Pattern, Sequence, Tuple

import yaml

ANSWERS_FILE = Path(__file__).with_name("answers.yml")
# How far ahead one reading must be in the classifier's ranking to settle a tie.
LEAD = 1.5


# Words that only present a detail: an address or number ("my email is ...", "same as
# above"), a device ("i use my phone, a pixel 8").
ABOUT_DETAIL = frozenset({
    "my", "email", "e", "mail", "is", "it", "its", "s", "address", "phone", "number", "the", "this", "here", "me",
    "at", "reach", "contact", "same", "as", "above", "again", "i", "said", "a", "an", "on", "use", "using", "have",
})


def only_details(message: Dict[str, Any], kinds: Collection[str]) -> bool:
    """Whether ``message`` names entities of ``kinds`` and, beside them, only words that
    present them ("+44 7700 900123 is my number", "pixel 8"): a detail, not a problem."""
    entities = [e for e in message.get("entities") or [] if e.get("entity") in kinds]
    if not entities:
        return False
    text = (message.get("text") or "").lower()
    for entity in sorted(entities, key=lambda e: -int(e.get("start") or 0)):
        if entity.get("start") is not None and entity.get("end") is not None:
            text = text[:entity["start"]] + " " + text[entity["end"]:]
        else:
            text = text.replace(str(entity.get("value") or "").lower(), " ")
    return all(word in ABOUT_DETAIL for word in re.findall(r"[a-z]+", text))


@lru_cache(maxsize=1)
def answer_patterns() -> Dict[str, Tuple[Pattern, ...]]:
    with ANSWERS_FILE.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return {name: tuple(re.compile(p, re.IGNORECASE) for p in items) for name, items in raw.items()}


def says(kind: str, text: str) -> bool:
    return any(p.search(text) for p in answer_patterns()[kind])


def still_stuck(text: str) -> bool:
    """Whether ``text`` says it still does not work ("still nothing", "didnt help, still cant log in")."""
    return step_answer(text) == "still_broken" or says("still_failing", text)


def step_answer(text: str, ranking: Sequence[Dict[str, Any]] = ()) -> Optional[str]:
    """"Did that help?": problem_solved or still_broken, when the words say which.
    Words on both sides ("no glare this time, it is approved now") leave it to the
    classifier's ranking when one of the two is clearly ahead."""
    for pattern in answer_patterns()["elsewhere"]:
        text = pattern.sub(" ", text)
    worked, not_worked = says("worked", text), says("not_worked", text) or says("hurry", text)
    if worked and not not_worked:
        return "problem_solved"
    if not_worked and not worked:
        return "still_broken"
    if worked and not_worked:
        score = {e.get("name"): e.get("confidence", 0.0) for e in ranking}
        solved, broken = score.get("problem_solved", 0.0), score.get("still_broken", 0.0)
        if solved >= LEAD * broken and solved > 0:
            return "problem_solved"
        if broken >= LEAD * solved and broken > 0:
            return "still_broken"
    return None


def yes_no(text: str) -> Optional[str]:
    """affirm or deny to a yes/no question, when the words say which."""
    yes, no = says("affirm", text), says("deny", text)
    if yes != no:
        return "affirm" if yes else "deny"
    return None


