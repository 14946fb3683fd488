"""What a short answer says, read from its words (patterns in answers.yml).

Used where the question is known and the classifier is not sure: "nothing
there" after a step means it did not help, "send it pls" at the summary is a yes.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional, Pattern, Sequence, Tuple

import yaml

ANSWERS_FILE = Path(__file__).with_name("answers.yml")
# How far ahead one reading must be in the classifier's ranking to settle a tie.
LEAD = 1.5


@lru_cache(maxsize=1)
def answer_patterns() -> Dict[str, Tuple[Pattern, ...]]:
    with ANSWERS_FILE.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return {name: tuple(re.compile(p, re.IGNORECASE) for p in items) for name, items in raw.items()}


def says(kind: str, text: str) -> bool:
    return any(p.search(text) for p in answer_patterns()[kind])


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


