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

# How the NLU marks a message holding a secret (loginhelp/nlu/secret_guard.py):
# the intent, the kinds found, and what the classifier made of the message.
SHARE_SECRET_INTENT = "share_secret"
SECRET_KINDS_KEY = "secret_kinds"
INTENT_BEFORE_SECRET_KEY = "intent_before_secret"

# Words that follow "password is" in innocent sentences ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    """wrong incorrect invalid not correct right ok okay fine the a an my case
    rejected expired reset changed same new old too long short weak strong
    definitely correctly surely always never still being no also just
    accepted working saved forgotten forgot lost""".split()
)

_PASSWORD_WORD = r"(?:pass(?:word|wd|wort|code)?|pasword|passwrd|pwd|pw)"
# "password is X", "pwd: X", "password so you can log in: X"
_PASSWORD_RE = re.compile(
    _PASSWORD_WORD + r"\b[^.\n:=]{0,40}?(?:\bis\b|\bwas\b|=|:|->)\s*[\"'“]?(?P<value>[^\s\"'”]{4,})",
    re.IGNORECASE,
)
# "password Test1234": a password-looking word (letters and digits) right after
_PASSWORD_BARE_RE = re.compile(
    _PASSWORD_WORD + r"\s+(?P<value>(?=\S*\d)(?=\S*[A-Za-z])[^\s\"']{6,})", re.IGNORECASE
)
# "email / Secret-Pass-9" after an email address
_CREDENTIAL_PAIR_RE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+\s*[/|,;]\s*(?P<value>(?=\S*\d)(?=\S*[A-Za-z])\S{6,})"
)
_CODE_WORDS_RE = re.compile(
    r"\b(?:2fa|2-fa|g2fa|mfa|otp|code|codes|authenticator|auth|token|pin|sms)\b", re.IGNORECASE
)
# Runs of digits with optional single separators: a code, or part of a phone number.
_NUMBER_RUN_RE = re.compile(r"\+?\d(?:[ .-]?\d)*")
_CODE_LENGTHS = (6, 8)
# A base32 2FA setup key ("JBSWY3DPEHPK3PXP") next to a word that names it.
_SETUP_KEY_RE = re.compile(
    r"\b(?:key|secret|setup|backup|recovery|2fa|authenticator)\b[^\n]{0,30}?\b(?P<value>(?=[A-Z2-7]*[2-7])[A-Z2-7]{16,64})\b",
    re.IGNORECASE,
)
_HEX_KEY_RE = re.compile(r"\b(?:0x)?(?P<value>[0-9a-fA-F]{64})\b")
_WIF_KEY_RE = re.compile(r"\b(?P<value>[5KL][1-9A-HJ-NP-Za-km-z]{50,51})\b")
_EXTENDED_KEY_RE = re.compile(r"\b(?P<value>xprv[1-9A-HJ-NP-Za-km-z]{100,})\b")
# A key introduced as one, even when short or truncated ("private key 5Kb8kLf9...").
_NAMED_KEY_RE = re.compile(
    r"\b(?:private[\s_-]*key|priv[\s_-]*key|pk|wif)\b\s*(?:is\s+|[:=]\s*)?(?P<value>(?:0x)?[0-9A-Za-z]{8,}\S*)",
    re.IGNORECASE,
)
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


def _codes(text: str) -> List[Finding]:
    """Six- or eight-digit codes named as such, or sent alone; never phone numbers."""
    found: List[Finding] = []
    alone = _NUMBER_RUN_RE.fullmatch(text.strip().rstrip(".!"))
    for match in _NUMBER_RUN_RE.finditer(text):
        run = match.group()
        digits = sum(c.isdigit() for c in run)
        if run.startswith("+") or digits not in _CODE_LENGTHS:
            continue  # a phone number, an error code or a year, not a 2FA code
        before = text[max(0, match.start() - 30) : match.start()]
        if alone or _CODE_WORDS_RE.search(before):
            found.append(Finding(TWOFA_CODE, match.start(), match.end()))
    return found


def find_secrets(text: str) -> List[Finding]:
    """Every secret in ``text``, in order of position."""
    if not text:
        return []
    findings: List[Finding] = []
    for regex in (_PASSWORD_RE, _PASSWORD_BARE_RE, _CREDENTIAL_PAIR_RE):
        for match in regex.finditer(text):
            value = match.group("value")
            if value.lower().strip(".,!?") not in _NOT_A_PASSWORD:
                findings.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    findings.extend(_codes(text))
    for match in _SETUP_KEY_RE.finditer(text):
        findings.append(Finding(TWOFA_CODE, match.start("value"), match.end("value")))
    for regex in (_HEX_KEY_RE, _WIF_KEY_RE, _EXTENDED_KEY_RE, _NAMED_KEY_RE):
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
