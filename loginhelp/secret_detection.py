"""Recognise secrets a customer should never type into a chat.

One detector serves every layer: the NLU component that warns the customer,
the ticket form that refuses such values, and (later) the tracker store that
redacts them. Patterns are tuned to miss nothing obvious while leaving ticket
references, phone numbers and error codes alone.

Passwords are recognised by their shape (letters mixed with digits or symbols)
in a place where a password goes: after the word password (in several
languages), after a verb of typing, or in quotes. 2FA codes are six or eight
digits (also written 3+3 or 4+4) that the message names as a code, says were
typed, received or shown, or sends with next to nothing around them; dates,
amounts, phone numbers and ids named as such are not codes.
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


@dataclass(frozen=True)
class Finding:
    """A secret found in a text: what kind and where (character offsets)."""

    kind: str
    start: int
    end: int


# ---------------------------------------------------------------- passwords

# Words that follow "password is" in innocent sentences ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    """wrong incorrect invalid not correct right ok okay fine the a an my case
    rejected expired reset changed same new old too long short weak strong
    definitely correctly surely always never still being no also just
    accepted working saved forgotten forgot lost""".split()
)

# "password" and its misspellings, plus the word in other languages.
_PASSWORD_WORD = (
    r"\b(?:pass(?:word|wd|wort|code)?|pass\s+word|pasword|passwrd|pwd|pw"
    r"|contrase[ñn]a|clave|mot\s+de\s+passe|mdp|kennwort|senha|parola|wachtwoord|пароль)"
)
# Nouns that make "password" part of another thing: "password manager: bitwarden".
_PASSWORD_COMPOUND = (
    r"(?!\s*(?:manager|reset|field|box|page|link|policy|rules?|requirements?|length|strength"
    r"|generator|vault|app|recovery|change|hint)\b)"
)
# What joins the word to its value: "is", "was", "=", ":", "->", "should be", "to",
# and the copula of the other languages (es, est, ist, é, è).
_PASSWORD_JOIN = (
    r"(?:(?:\bis|\bwas|\bbe|\bto|\bes|\best|\bist|(?<!\w)[éè])(?!\w)\s*[:=]?|=|:|->)"
)
# The gap between the word and the join holds no other "is": in "my password is
# 12 characters long, is that ok?" only the first "is" introduces a value.
_PASSWORD_GAP = r"(?:(?!\bis\b|\bwas\b)[^.\n:=]){0,40}?"
# "password is X", "pwd: X", "password so you can log in: X", "mi contraseña es X"
_PASSWORD_RE = re.compile(
    _PASSWORD_WORD + _PASSWORD_COMPOUND + r"\b" + _PASSWORD_GAP + _PASSWORD_JOIN
    + r"\s*[\"'“‘`]?(?P<value>[^\s\"'”’`]{4,})",
    re.IGNORECASE,
)
# "password Test1234": a password-looking word right after the word
_PASSWORD_BARE_RE = re.compile(
    _PASSWORD_WORD + r"\s+(?P<value>(?=\S{0,63}\d)(?=\S{0,63}[^\W\d_])[^\s\"']{6,64})", re.IGNORECASE
)
# "email / Secret-Pass-9" after an email address
_CREDENTIAL_PAIR_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+\s*[/|,;]\s*(?P<value>(?=\S{0,63}\d)(?=\S{0,63}[A-Za-z])\S{6,64})"
)
# A passphrase in quotes given as the password: 'I set it to "correct horse battery staple"'.
_PASSPHRASE_RE = re.compile(
    r"(?:" + _PASSWORD_WORD + r"\b[^.\n\"“]{0,20}?" + _PASSWORD_JOIN
    + r"|\b(?:set|changed|change|made)\s+(?:it|my\s+password|the\s+password|mine)\s+(?:to|as)\b)"
    r"\s*[\"“'‘](?P<value>[^\W\d_]+(?:[ -][^\W\d_]+){2,7})[\"”'’]",
    re.IGNORECASE,
)
# A token in quotes ('i type "Maria1987!"'): a password unless named as something else.
_QUOTED_TOKEN_RE = re.compile(r"(?<!\w)[\"“'‘`](?P<value>[^\s\"“”'‘’`]{6,64})[\"”'’`](?!\w)")
# Words naming a quoted or typed token as something other than a password.
_NAMED_OTHERWISE_RE = re.compile(
    r"\b(?:user\s*name|username|user|login|log\s*in|id|uid|e-?mail|nick(?:name)?|name|ticket|ref(?:erence)?"
    r"|error|err|message|msg|code|button|link|url|site|page|address|wallet|version|model|device|browser"
    r"|says|said|shows|showed|displays|reads|click(?:ed)?|press(?:ed)?|search(?:ed)?|called)"
    r"\s*(?:is|was|:|=|of)?\s*[\"“'‘`]?$",
    re.IGNORECASE,
)
# A verb of typing, then the value: "i always use Pa$$word2024", "I typed Maria1987 and".
_TYPED_VALUE_RE = re.compile(
    r"\b(?P<verb>typed|type|typing|entered|enter|entering|tried|try|trying|put|pasted|paste"
    r"|use|used|using|wrote|write)\b(?:\s+(?:in|again|both|only|always))?"
    r"\s+(?P<value>[^\s\"'“”‘’`]{6,64})",
    re.IGNORECASE,
)
# A new password given: "I reset it with Qwerty!2025", "changed my password to Summer26".
_SET_TO_RE = re.compile(
    r"\b(?:reset|changed?|set|made|updated?|renewed?)\s+(?:it|mine|(?:my|the)\s+(?:new\s+)?" + _PASSWORD_WORD[2:]
    + r")?\s*(?:to|with|as|into)\s+(?:[\"'“‘`])?(?P<value>[^\s\"'“”‘’`]{6,64})",
    re.IGNORECASE,
)
# Tokens of a password's shape that are something else: emails, links, versions,
# ticket references, dates, times, amounts and counts ("30mins", "x3").
_NOT_PASSWORD_SHAPE_RE = re.compile(
    r"""(?ix)^(?:
        [\w.+-]+@[\w-]+(?:\.[\w-]+)+              # email
      | (?:https?://|www\.)\S+ | [\w-]+\.(?:com|org|net|io|de|uk)\S*  # link
      | /?[\w.-]*\.[a-z]{2,4} | \S*\w/\w\S*         # file name or path
      | .*[()\[\]{}<>].*[()\[\]{}<>].*            # code, not a password
      | v?\d+(?:\.\d+)+[a-z]?                     # version or amount
      | lh-[a-z0-9]{6}                            # ticket reference
      | \d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}           # date
      | \d{1,2}:\d{2}(?::\d{2})?(?:am|pm)?        # time
      | [$€£¥]?\d[\d,.]*[$€£¥%]? | \d[\d,.]*(?:usdt|usdc|btc|eth|bnb|usd|eur|k|m)
      | \d+(?:st|nd|rd|th|x|h|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|chars?|characters?
            |digits?|letters?|times?|gb|mb|ms|mbps|fa)
      | x\d+ | \d{1,3}[a-z]{1,2}                   # "x3", "4g", "2fa"
      | (?:android|ios|windows|win|iphone|chrome|firefox|safari|edge|ubuntu|macos|pixel|galaxy)\S*
    )[.,!?;:)]*$""",
)
_SPECIAL = r"[!@#$%^&*+=?~<>|\\/]"


def _mixed(value: str) -> bool:
    """Letters with digits or a password symbol: 'Summer2024!', 'Pa$$word', 'ROSES4EVER'."""
    letters = re.search(r"[^\W\d_]", value)
    inner = value.rstrip(".,!?;:)")
    return bool(letters) and bool(re.search(r"\d", value) or re.search(_SPECIAL, inner))


def _looks_like_password(value: str, strong: bool = False, digits: bool = False) -> bool:
    """A token shaped like a password; ``strong`` also wants a digit and a symbol;
    ``digits`` accepts six digits or more (after "password is", not elsewhere)."""
    value = value.strip("\"'“”‘’`")
    if digits and re.fullmatch(r"\d{6,}", value.rstrip(".,!?")):
        return True
    if value.lower().strip(".,!?") in _NOT_A_PASSWORD or _NOT_PASSWORD_SHAPE_RE.match(value):
        return False
    if strong:
        return bool(re.search(r"[^\W\d_]", value) and re.search(r"\d", value) and re.search(_SPECIAL, value))
    return _mixed(value)


def _passwords(text: str) -> List[Finding]:
    """Values given as a password, typed, or quoted, that are shaped like one."""
    found: List[Finding] = []
    for regex in (_PASSWORD_RE, _PASSWORD_BARE_RE, _CREDENTIAL_PAIR_RE):
        for match in regex.finditer(text):
            if _looks_like_password(match.group("value"), digits=regex is _PASSWORD_RE):
                found.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    for match in _PASSPHRASE_RE.finditer(text):
        found.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    for match in _QUOTED_TOKEN_RE.finditer(text):
        before = text[max(0, match.start() - 30) : match.start() + 1]
        if _looks_like_password(match.group("value")) and not _NAMED_OTHERWISE_RE.search(before):
            found.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    for match in _SET_TO_RE.finditer(text):
        if _looks_like_password(match.group("value")):
            found.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    for match in _TYPED_VALUE_RE.finditer(text):
        # "use" says little ("I use 1password"): only a strong shape counts after it
        strong = match.group("verb").lower().startswith("us")
        if _looks_like_password(match.group("value"), strong=strong):
            found.append(Finding(PASSWORD, match.start("value"), match.end("value")))
    return found


# ---------------------------------------------------------------- 2FA codes

_CODE_WORDS_RE = re.compile(
    r"\b(?:2fa|2-fa|g2fa|mfa|otp|code|codes|c[oó]digo|authenticator|auth|token|pin|sms|backup"
    r"|verification|one-time|passcode|2fa-code)\b",
    re.IGNORECASE,
)
# Runs of digits with optional single separators: a code, or part of a phone number.
_NUMBER_RUN_RE = re.compile(r"\+?\d(?:[ .-]?\d)*")
_CODE_LENGTHS = (6, 8)
# A code's digits are not glued to letters, currency or other numbers ("abc123456",
# "$250000", "#12345678", "1,234567"): what may not touch a run on either side.
_GLUED_BEFORE_RE = re.compile(r"(?:[\w+$€£¥#/,]|\d[.,])$")
_GLUED_AFTER_RE = re.compile(r"^(?:[\w%$€£/]|[.,]\d)")
# Said how the code came or went: "I typed 120394", "just received 903172", "here: 401928".
_CODE_VERBS_RE = re.compile(
    r"\b(?:typed|type|typing|entered|enter|put|tried|try|trying|use|used|using|pasted|paste"
    r"|received|receive|got|get|getting|shows?|showing|showed|says|said|displays?|reads|sent"
    r"|generated|gave|gives|here|this\s+one|it\s+is|it's)\s*(?:is|was)?\s*[:=\-]?\s*[\"'“‘]?\s*$",
    re.IGNORECASE,
)
# Named as something else just before: "order 91827364", "uid: 12345678", "zip code 101150".
_NUMBER_NAMED_RE = re.compile(
    r"\b(?:pass(?:word)?|pwd|pw|order|trade|withdrawal|deposit|transaction|tx|txid|uid|user\s*id|id|account|acct|ticket"
    r"|case|ref|reference|invoice|zip|postal|post|area|country|error|err|status|http|phone|tel|mobile"
    r"|whatsapp|card|iban|referral|invite|invitation|promo|coupon|tracking|build|balance|worth"
    r"|have|has|had|paid|pay|lost|spent|deposited|withdrew|withdrawn|sold|bought)"
    r"(?:\s*(?:number|no\.?|id|code|#))?\s*(?:is|was|of|:|=|#)?\s*$",
    re.IGNORECASE,
)
# Followed by a unit: an amount or a count, not a code ("500000 SHIB", "100000 times").
_UNIT_AFTER_RE = re.compile(
    r"^\s*(?:usdt|usdc|btc|eth|bnb|shib|cet|trx|sol|xrp|doge|ada|coins?|tokens?|sats?|satoshis?"
    r"|usd|eur|euros?|dollars?|gbp|rub|inr|lira|[$€£¥%]|k|m|ms|mbps|people|users|times|attempts|tries"
    r"|followers|steps|words|chars|characters|digits|km|miles|years?|days?|hours?|minutes?|mins?"
    r"|seconds?|secs?|am|pm|utc)\b",
    re.IGNORECASE,
)
# Words left over in a message that only sends a code: "is 563910 right?", "192837 ?"
_SHORT_MESSAGE_WORDS = 3


def _plausible_date(digits: str) -> bool:
    """20240315, 15032024 or 03152024: eight digits that read as a date."""
    def ok(y: str, m: str, d: str) -> bool:
        return 1900 <= int(y) <= 2099 and 1 <= int(m) <= 12 and 1 <= int(d) <= 31
    return ok(digits[:4], digits[4:6], digits[6:]) or ok(digits[4:], digits[2:4], digits[:2]) \
        or ok(digits[4:], digits[:2], digits[2:4])


def _code_groups(run: str) -> List[tuple]:
    """The (offset, length) of the codes in a run of digits, or none for a phone number
    or an id: one group of 6 or 8 digits, 3+3 or 4+4 ("482 913"), or a list of codes."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    sizes = [e - s for s, e in groups]
    seps = {run[e] for (_, e) in groups[:-1]}
    if len(groups) == 1 and sizes[0] in _CODE_LENGTHS:
        return [(0, len(run))]
    if len(groups) == 2 and sizes in ([3, 3], [4, 4]) and "." not in seps:
        return [(0, len(run))]
    if len(groups) > 1 and seps == {" "} and all(s in _CODE_LENGTHS for s in sizes):
        return groups  # "backup codes: 73920184 55019283 10928374"
    return []


def _codes(text: str) -> List[Finding]:
    """Six- or eight-digit codes named as such, typed, received or sent alone; never
    phone numbers, dates, amounts or ids."""
    found: List[Finding] = []
    short = len(_WORD_RE.findall(text.lower())) <= _SHORT_MESSAGE_WORDS  # runs hold no letters
    for match in _NUMBER_RUN_RE.finditer(text):
        run = match.group()
        if run.startswith("+"):
            continue  # a phone number
        before, after = text[max(0, match.start() - 40) : match.start()], text[match.end() : match.end() + 40]
        if _GLUED_BEFORE_RE.search(before) or _GLUED_AFTER_RE.search(after):
            continue  # part of a word, an amount or a longer number
        groups = _code_groups(run)
        if not groups:
            continue  # a phone number, an error code, a year, a date or a long id
        if _NUMBER_NAMED_RE.search(before) or _UNIT_AFTER_RE.match(after):
            continue
        named = bool(_CODE_WORDS_RE.search(before) or _CODE_WORDS_RE.search(after.split("\n")[0]))
        digits = re.sub(r"\D", "", run)
        if len(digits) == 8 and len(groups) == 1 and _plausible_date(digits) and not named:
            continue  # 20240315 is a date unless called a code
        if named or _CODE_VERBS_RE.search(before) or short:
            for start, end in groups:
                found.append(Finding(TWOFA_CODE, match.start() + start, match.start() + end))
    return found


# A base32 2FA setup key ("JBSWY3DPEHPK3PXP") next to a word that names it.
_SETUP_KEY_RE = re.compile(
    r"\b(?:key|secret|setup|backup|recovery|2fa|authenticator)\b[^\n]{0,30}?\b(?P<value>(?=[A-Z2-7]*[2-7])[A-Z2-7]{16,64})\b",
    re.IGNORECASE,
)
# The key in groups of four, as apps show it: "RG36 DD4I X2X7 FL7J ...", "cali ixah t5fr ...".
_SETUP_KEY_GROUPS_RE = re.compile(
    r"\b(?i:key|secret|setup|backup|recovery|2fa|authenticator)\b[^\n]{0,30}?\b(?P<value>(?=[\w -]{0,80}?[2-7])"
    r"(?:[A-Z2-7]{4}(?:[ -][A-Z2-7]{4}){3,15}|[a-z2-7]{4}(?:[ -][a-z2-7]{4}){3,15}))\b",
)
# Letters only, right after the word "key"/"secret": "authenticator key rjowjtmxtwcixfvm".
_SETUP_KEY_LETTERS_RE = re.compile(
    r"\b(?i:key|secret)\s*(?i:is\s+|[:=]\s*)?(?P<value>[a-z2-7]{16}|[A-Z2-7]{16}|[a-z2-7]{26}|[A-Z2-7]{26}"
    r"|[a-z2-7]{32}|[A-Z2-7]{32})\b",
)

# ---------------------------------------------------------------- keys and phrases

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
    findings: List[Finding] = _passwords(text)
    findings.extend(_codes(text))
    for regex in (_SETUP_KEY_RE, _SETUP_KEY_GROUPS_RE, _SETUP_KEY_LETTERS_RE):
        for match in regex.finditer(text):
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
