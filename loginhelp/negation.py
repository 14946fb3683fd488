"""Words named only to be denied: "it's the app, not the website".

A customer who corrects themselves names the wrong thing too. Read naively,
"not chrome, firefox" says Chrome and "the app not the website" says the
website. The NLU (loginhelp/nlu/negated_entities.py) and the actions that read a
platform from words both ask here whether a mention is denied.
"""
from __future__ import annotations

import re

# A denial just before the word, with at most a few small words between:
# "not the website", "not on my laptop", "instead of chrome", "isn't the app".
# A negated verb does not deny the thing after it ("can't log in on the website",
# "does not work in chrome"), so only these words count.
_DENIED_BEFORE = re.compile(
    r"\b(?:not|instead\s+of|rather\s+than|(?:is|was|are)\s*n[o'’]?t)"
    r"\s+(?:(?:on|in|at|the|my|a|an|using|via|through|from|with|your|coinex.?s?)\s+){0,3}$",
    re.IGNORECASE,
)


def denied_at(text: str, start: int) -> bool:
    """Whether the word starting at ``start`` of ``text`` is named only to be denied."""
    return bool(_DENIED_BEFORE.search(text[:start]))
