"""Recognise secrets a customer should never type into a chat.

One detector serves every layer: the NLU component that warns the customer,
the ticket form that refuses such values, and (later) the tracker store that
redacts them. Patterns are tuned to miss nothing obvious while leaving ticket
references, phone numbers and error codes alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import FrozenSet, List

PASSWORD = "password"
TWOFA_CODE = "2fa_code"
SEED_PHRASE = "seed_phrase"
PRIVATE_KEY = "private_key"

# Words that follow "password is" in innocent sentences ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    """wrong incorrect invalid not correct right ok okay fine the a an my case
    rejected expired reset changed same new old too long short weak strong
    definitely correctly surely always never still being no also just
    accepted working saved forgotten forgot lost""".split()
)

_PASSWORD_RE = re.compile(
    r"\b(?:pass(?:word|wd|code)?|pwd|pw)\b\s*(?:is|was|=|:|->)\s*[\"'“]?(?P<value>[^\s\"'”]{4,})",
    re.IGNORECASE,
)
_CODE_CONTEXT_RE = re.compile(
    r"\b(?:2fa|2-fa|g2fa|mfa|otp|code|codes|authenticator|auth|token|pin|sms)\b"
    r"[^\n.?!]{0,25}?(?<![\d+])(?P<value>\d{3}[ -]?\d{3})(?!\d)",
    re.IGNORECASE,
)
_BARE_CODE_RE = re.compile(r"^\s*(?P<value>\d{3}[ -]?\d{3}|\d{8})\s*[.!]?\s*$")
_HEX_KEY_RE = re.compile(r"\b(?:0x)?(?P<value>[0-9a-fA-F]{64})\b")
_WIF_KEY_RE = re.compile(r"\b(?P<value>[5KL][1-9A-HJ-NP-Za-km-z]{50,51})\b")
_EXTENDED_KEY_RE = re.compile(r"\b(?P<value>xprv[1-9A-HJ-NP-Za-km-z]{100,})\b")
_WORD_RE = re.compile(r"[a-z]+")
_SEED_LENGTHS = (12, 15, 18, 21, 24)


@dataclass(frozen=True)
class Finding:
    """A secret found in a text: what kind and where (character offsets)."""

    kind: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _bip39_words() -> FrozenSet[str]:
    from mnemonic import Mnemonic

    return frozenset(Mnemonic("english").wordlist)


def _seed_phrases(text: str) -> List[Finding]:
    """Runs of at least 12 BIP-39 words in a row: a recovery phrase."""
    words = _bip39_words()
    findings: List[Finding] = []
    run: List[re.Match] = []
    for match in list(_WORD_RE.finditer(text.lower())) + [None]:
        if match is not None and match.group() in words:
            run.append(match)
            continue
        if len(run) >= min(_SEED_LENGTHS):
            findings.append(Finding(SEED_PHRASE, run[0].start(), run[-1].end()))
        run = []
    return findings


def find_secrets(text: str) -> List[Finding]:
    """Every secret in ``text``, in order of position."""
    if not text:
        return []
    findings: List[Finding] = []
    for match in _PASSWORD_RE.finditer(text):
        value = match.group("value")
        if value.lower().strip(".,!?") not in _NOT_A_PASSWORD:
            findings.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    for regex in (_CODE_CONTEXT_RE, _BARE_CODE_RE):
        for match in regex.finditer(text):
            findings.append(Finding(TWOFA_CODE, match.start("value"), match.end("value")))
    for regex in (_HEX_KEY_RE, _WIF_KEY_RE, _EXTENDED_KEY_RE):
        for match in regex.finditer(text):
            findings.append(Finding(PRIVATE_KEY, match.start("value"), match.end("value")))
    findings.extend(_seed_phrases(text))
    return sorted(set(findings), key=lambda f: (f.start, f.end))


def contains_secret(text: str) -> bool:
    return bool(find_secrets(text))


def secret_kinds(text: str) -> List[str]:
    """The kinds found, each once, in order of first appearance."""
    seen: List[str] = []
    for finding in find_secrets(text):
        if finding.kind not in seen:
            seen.append(finding.kind)
    return seen


def redact(text: str) -> str:
    """``text`` with every secret replaced by a marker naming its kind."""
    out, last = [], 0
    for finding in find_secrets(text):
        if finding.start < last:
            continue
        out.append(text[last : finding.start])
        out.append(f"[redacted {finding.kind.replace('_', ' ')}]")
        last = finding.end
    out.append(text[last:])
    return "".join(out)
