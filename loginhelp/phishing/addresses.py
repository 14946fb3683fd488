"""Find the addresses a customer shows us: links, bare domains, email senders, Telegram accounts.

Customers paste what an SMS, an email, an ad or a Telegram "support" account
gave them, with or without ``https://``, inside a sentence, with the dot of the
sentence stuck to it. Every such address must be found, including the ones
written with look-alike letters, and nothing else: a version number, "e.g." or
"10.5 BTC" read as a domain would be a false alarm in the middle of a login
problem. Only the first ``SCAN_LIMIT`` characters are read, so a pasted wall of
text costs the same as a short message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from .hosts import display_host, ip_address, split_host, split_url

SCAN_LIMIT = 10_000
MAX_ADDRESSES = 20

URL = "url"
DOMAIN = "domain"
EMAIL = "email"
TELEGRAM = "telegram"


@dataclass(frozen=True)
class Address:
    """One address as written (``text``) and the host it leads to (the handle for Telegram)."""

    kind: str
    text: str
    host: str


# Letters and digits a host label may be written with, look-alike scripts included
# (Latin with accents, IPA, Greek, Cyrillic, Armenian, full-width forms). CJK is left
# out so that "我的coinex.com账号" yields coinex.com.
_ALNUM = (
    "a-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0250-\u02af\u0370-\u03ff\u0400-\u052f"
    "\u0531-\u0587\u1d00-\u1dbf\u1e00-\u1eff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
)
_LETTER = _ALNUM.replace("0-9", "").replace("\uff10-\uff19", "")
_MARK = "\u0300-\u036f"
_DOT = "[.\u3002\uff0e\uff61]"
_LABEL = rf"[{_ALNUM}](?:[{_ALNUM}{_MARK}\-]{{0,61}}[{_ALNUM}{_MARK}])?"
_TLD = rf"(?:xn--[a-z0-9\-]{{1,59}}|[{_LETTER}]{{2,63}})"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HOSTNAME = rf"(?:{_LABEL}{_DOT}){{1,20}}{_TLD}"
# Characters that end a link: spaces, quotes, angle brackets, CJK punctuation.
_LINK_END = "\\s<>\"'`\u3000-\u303f\uff01\uff0c\uff1a\uff1b\uff1f"

_SCHEME_LINK = re.compile(rf"(?<![a-z0-9])(?:https?|hxxps?|ftp|wss?)://[^{_LINK_END}]+", re.IGNORECASE)
_TG_RESOLVE = re.compile(r"(?<![a-z0-9])tg://resolve\?domain=([a-z][a-z0-9_]{3,31})", re.IGNORECASE)
_BARE = re.compile(
    rf"""
    (?<![{_ALNUM}_.@%+\-])
    (?:mailto:)?
    (?:(?P<user>[{_ALNUM}_.+\-%]{{1,64}}(?::[^\s@/]{{0,64}})?)@)?
    (?P<host>{_IPV4}|{_HOSTNAME})
    (?![{_ALNUM}{_MARK}_\-]|{_DOT}[{_ALNUM}])
    (?P<port>:\d{{1,5}})?
    (?P<path>[/?#][^{_LINK_END}]*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_HANDLE = re.compile(
    rf"(?<![{_ALNUM}_@.+\-%/])@(?P<handle>[{_LETTER}][{_ALNUM}_]{{3,31}})(?![{_ALNUM}_]|{_DOT}[{_ALNUM}])",
    re.IGNORECASE,
)

_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me", "www.telegram.me"})
_TELEGRAM_HANDLE = re.compile(r"^[^\W\d_]\w{3,31}$")
_INVITE = re.compile(r"^(?:\+|joinchat/)([\w-]+)")
# What a sentence may stick to the end of a link.
_TRAILING = ".,;:!?'\"»…。，！？；：、"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Two-label names ending in these are file names far more often than addresses.
_FILE_SUFFIXES = frozenset({"zip", "mov", "py", "sh", "md", "rs", "pl"})
# "cant log in.it says error", "done.now what": a sentence whose space went missing reads
# as a name under an ending (a country's or a generic one) that is also an English word.
_WORD_ENDINGS = frozenset(
    "it is no me to at in do so be us my am as by go now how new one help live today work works fun".split()
)
_SENTENCE_WORDS = frozenset(
    """in on it out up login logon log again now here there this that app site page work works worked working help
    account password code error luck time today yesterday phone email mail sms yet too still back off done fine ok
    okay thanks sorry please anything nothing something everything tried also already anymore well then""".split()
)
# A dotted quad right after these words is a version or an error code, not an address.
_NUMBER_CONTEXT = re.compile(
    r"\b(?:version|ver|v|build|release|error|code|app|ios|android|update|updated|firmware|windows|chrome|firefox|safari)"
    r"[\s:#.]*$",
    re.IGNORECASE,
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def addresses_in(text: str) -> List[Address]:
    """Every address in a customer's message, in the order written, each once.

    Never raises: anything that is not a string, or holds no address, gives [].
    """
    if not isinstance(text, str):
        return []
    text = _INVISIBLE.sub("", text[:SCAN_LIMIT])
    found: List[Tuple[int, int, Address]] = []
    for start, end, address in _scan(text):
        if any(start < e and s < end for s, e, _ in found):
            continue
        found.append((start, end, address))
    found.sort(key=lambda item: item[0])
    unique: List[Address] = []
    for _, _, address in found:
        if address not in unique:
            unique.append(address)
    return unique[:MAX_ADDRESSES]


def _scan(text: str) -> Iterator[Tuple[int, int, Address]]:
    """Candidates from the most explicit form to the least, so overlaps keep the explicit one."""
    for match in _SCHEME_LINK.finditer(text):
        written = _strip_trailing(match.group(0))
        address = _link(written, URL)
        if address:
            yield match.start(), match.start() + len(written), address
    for match in _TG_RESOLVE.finditer(text):
        yield match.start(), match.end(), Address(TELEGRAM, match.group(0), match.group(1).lower())
    for match in _BARE.finditer(text):
        written = _strip_trailing(match.group(0))
        address = _bare(match, written, text)
        if address:
            yield match.start(), match.start() + len(written), address
    for match in _HANDLE.finditer(text):
        yield match.start(), match.end(), Address(TELEGRAM, match.group(0), match.group("handle").lower())


def _strip_trailing(written: str) -> str:
    """Drop the punctuation a sentence adds after a link; keep a bracket the link opened."""
    while written:
        last = written[-1]
        if last in _TRAILING:
            written = written[:-1]
        elif last in _CLOSERS and written.count(_CLOSERS[last]) < written.count(last):
            written = written[:-1]
        else:
            break
    return written


def _link(written: str, kind: str) -> Optional[Address]:
    """An address for a link; a Telegram account when the link is t.me/handle."""
    parts = split_url(written)
    if parts is None:
        return None
    if parts.host in _TELEGRAM_HOSTS and not parts.userinfo:
        handle = _telegram_handle(parts.path)
        if handle:
            return Address(TELEGRAM, written, handle)
    return Address(kind, written, parts.host)


def _telegram_handle(path: str) -> Optional[str]:
    """The account a t.me path opens (``/s/name``, ``/name/123``), or ``+code`` for an invite (lower case too)."""
    path = path.strip("/")
    invite = _INVITE.match(path)
    if invite:
        return "+" + invite.group(1).lower()
    segments = [s for s in path.split("/") if s]
    if segments[:1] == ["s"]:
        segments = segments[1:]
    if segments and _TELEGRAM_HANDLE.match(segments[0]):
        return segments[0].lower()
    return None


def _bare(match: re.Match, written: str, text: str) -> Optional[Address]:
    """An address written without a scheme, or None when it only looks like one."""
    user, host_text = match.group("user"), match.group("host")
    rest = written[match.end("host") - match.start():]
    explicit = bool(user or rest)
    host = display_host(host_text)
    if ip_address(host) is not None:
        if not explicit and _NUMBER_CONTEXT.search(text[max(0, match.start() - 24): match.start()]):
            return None
    else:
        if not split_host(host).suffix:
            return None
        last = host_text.rsplit(".", 1)[-1]
        if not explicit and not host.startswith("www.") and _sentence_join(last, host):
            return None
    if user and not rest and ":" not in user:
        return Address(EMAIL, written, host)
    if user or rest or ip_address(host) is not None:
        return _link(written, URL)
    return Address(DOMAIN, written, host)


def _sentence_join(last_label: str, host: str) -> bool:
    """True for "login.Please" and "in.it says" (a missing space) and "backup.zip" (a file name)."""
    if last_label[:1].isupper() and last_label[1:].islower():
        return True
    if host.count(".") != 1:
        return False
    first, last = host.split(".")
    return last in _FILE_SUFFIXES or (last in _WORD_ENDINGS and first in _SENTENCE_WORDS)
