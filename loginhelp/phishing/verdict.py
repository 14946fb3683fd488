"""The verdict on one address: CoinEx's own, a look-alike of it, or nothing to do with CoinEx.

Official means the registrable domain (from the public-suffix list) is one of
CoinEx's, or the Telegram handle is one of its accounts, exactly; everything
else that borrows CoinEx's name, by typo, look-alike letters, extra words, a
different ending or by putting the name where it decides nothing (in front of
someone else's domain, before an @, in the path), is a look-alike and says how.
The typosquat tables are built once per list of official names and cached.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from ..contract import AddressVerdict
from . import explain
from .addresses import EMAIL, TELEGRAM, URL, Address, addresses_in
from .hosts import HostParts, display_host, ip_address, split_host, split_url
from .official import OfficialNames
from .typos import Target, best_imitation, domain_target, handle_target, imitation

logger = logging.getLogger(__name__)

# The verdicts are the conversation contract's (the slot and the console use them too).
OFFICIAL = AddressVerdict.OFFICIAL
LOOKALIKE = AddressVerdict.LOOKALIKE
NOT_COINEX = AddressVerdict.NOT_COINEX

_DECOY_SEPARATORS = re.compile(r"[/?#=&.+%:@~!$,;*()\[\]']+")


@dataclass(frozen=True)
class Verdict:
    """What to tell the customer about ``address``; ``trick`` names the look-alike's trick."""

    kind: str
    address: Address
    registrable: Optional[str]
    trick: Optional[str]
    explanation: str


@dataclass(frozen=True)
class _DomainTarget:
    domain: str
    suffix: str
    target: Target


@dataclass(frozen=True)
class _Targets:
    domains: Tuple[_DomainTarget, ...]
    handles: Tuple[Target, ...]


@lru_cache(maxsize=8)
def _targets(official: OfficialNames) -> _Targets:
    """The typosquat tables of every official name (about 0.1 s each, so built once)."""
    domains = tuple(_DomainTarget(d, split_host(d).suffix, domain_target(d)) for d in official.domains)
    return _Targets(domains, tuple(handle_target(h) for h in official.telegram))


def judge(address: Address, official: OfficialNames) -> Verdict:
    """The verdict on one address; never raises (an address it cannot read is not CoinEx's)."""
    try:
        if address.kind == TELEGRAM:
            return _judge_handle(address, official)
        return _judge_host(address, official)
    except Exception:  # a safety net for the chat: the safe answer is "not CoinEx's"
        logger.exception("could not judge %r", address)
        return Verdict(NOT_COINEX, address, None, None, f"it isn't a {official.name} address")


def verdicts_in(text: str, official: Optional[OfficialNames] = None) -> List[Verdict]:
    """The verdict on every address in a message (official.yml's names by default)."""
    names = official or _default_names()
    return [judge(address, names) for address in addresses_in(text)]


@lru_cache(maxsize=1)
def _default_names() -> OfficialNames:
    return OfficialNames.load()


# ------------------------------------------------------------------ hosts


def _judge_host(address: Address, official: OfficialNames) -> Verdict:
    brand = official.name
    host = display_host(address.host)
    userinfo = path = ""
    if address.kind == URL:
        link = split_url(address.text)
        if link is not None and link.host == host:
            userinfo, path = link.userinfo.lower(), link.path.lower()
    elif address.kind == EMAIL:
        userinfo = address.text.rpartition("@")[0].lower()
    targets = _targets(official).domains
    ip = ip_address(host)
    parts = split_host(host)
    registrable = ip or parts.registrable

    def lookalike(trick: str, explanation: str) -> Verdict:
        return Verdict(LOOKALIKE, address, registrable, trick, explanation)

    if ip is None and parts.suffix:
        if registrable in official.domains:
            if address.kind != EMAIL and address.text.lower() == registrable:
                return Verdict(OFFICIAL, address, registrable, None, f"it is {brand}'s own domain")
            where = f"a {registrable} address" if address.kind == EMAIL else f"on {registrable}"
            return Verdict(OFFICIAL, address, registrable, None, f"it is {where}, {brand}'s own domain")
        found = _name_trick(parts, targets, brand)
        if found:
            return lookalike(*found)
        if _imitated(parts.subdomain.split("."), (t.target for t in targets)):
            return lookalike("official-subdomain", explain.official_in_front(parts.subdomain, registrable))
    if _imitated(_DECOY_SEPARATORS.split(userinfo), (t.target for t in targets)):
        email = address.kind == EMAIL
        return lookalike("name-before-at", explain.decoy_before_at(userinfo, registrable if email else host,
                                                                       email=email, brand=brand))
    if _imitated(_DECOY_SEPARATORS.split(path), (t.target for t in targets)):
        return lookalike("name-in-path", explain.name_in_path(registrable, brand))
    return Verdict(NOT_COINEX, address, registrable, None, _not_ours(address, host, ip, parts.suffix, registrable, brand))


def _name_trick(parts: HostParts, targets: Tuple[_DomainTarget, ...], brand: str) -> Optional[Tuple[str, str]]:
    """(trick, explanation) when the registered name imitates an official one."""
    split = parts.subdomain.rsplit(".", 1)[-1] + "." + parts.name if parts.subdomain else ""
    for official in targets:
        if official.target.squats.get(split) == "subdomain":
            return "subdomain", explain.split_by_dot(parts.registrable)
        if parts.name == official.target.genuine:
            return "tld-swap", explain.other_suffix(parts.suffix, official.suffix)
    found = best_imitation(parts.name, (t.target for t in targets))
    if found is None:
        return None
    text = explain.name_trick(found.trick, found.shown, found.genuine, brand, inner=found.inner)
    suffix = next(t.suffix for t in targets if t.target.genuine == found.genuine)
    if parts.suffix != suffix:
        text += ", and " + explain.other_suffix(parts.suffix, suffix)
    return found.trick, text


def _imitated(pieces: Iterable[str], targets: Iterable[Target]) -> bool:
    """True when any piece (a subdomain label, a user name, a path segment) is or imitates an official name."""
    pieces = [p for p in pieces if p]
    for target in targets:
        for piece in pieces:
            if piece == target.genuine or imitation(piece, target):
                return True
    return False


def _not_ours(address: Address, host: str, ip: Optional[str], suffix: str, registrable: str, brand: str) -> str:
    if ip:
        return f"it isn't a {brand} address: it is a bare IP address ({ip})"
    if not suffix:
        return f"it isn't a {brand} address: {host} is not a public web address"
    if address.kind == EMAIL:
        return f"it isn't a {brand} address: the mail comes from {registrable}"
    return f"it isn't a {brand} address: it belongs to {registrable}"


# ------------------------------------------------------------------ Telegram


def _judge_handle(address: Address, official: OfficialNames) -> Verdict:
    brand = official.name
    handle = address.host.lstrip("@").lower()
    accounts = f"one of {brand}'s official Telegram accounts"
    if handle.startswith("+"):
        return Verdict(NOT_COINEX, address, None, None, f"it is a private Telegram invite link, not {accounts}")
    if handle in official.telegram:
        return Verdict(OFFICIAL, address, None, None, f"it is @{handle}, {accounts}")
    tables = _targets(official)
    found = best_imitation(handle, tables.handles + tuple(t.target for t in tables.domains))
    if found:
        text = explain.name_trick(found.trick, found.shown, found.genuine, brand, joiner="_", inner=found.inner)
        if found.trick in ("dictionary", "brand-plus-words"):
            text += f", but it isn't {accounts}"
        return Verdict(LOOKALIKE, address, None, found.trick, text)
    if any(handle == t.target.genuine for t in tables.domains):
        return Verdict(LOOKALIKE, address, None, "unlisted-handle", f"it is {brand}'s name, but it isn't {accounts}")
    return Verdict(NOT_COINEX, address, None, None, f"it isn't {accounts}")
