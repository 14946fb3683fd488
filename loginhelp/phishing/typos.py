"""Recognise a name built to pass for an official one, and say which trick built it.

dnstwist's fuzzers generate the typosquats of each official name (a missing,
doubled, swapped or neighbouring letter, a hyphen, a look-alike glyph, a word
added...); a name found among them is reported with the fuzzer that made it.
Each fuzzer runs on its own so that a name several of them make goes to the one
that explains it best (``coinexx`` is a doubled letter before it is an added one).
What dnstwist cannot list (Unicode look-alikes beyond its tables, the brand among
several words, near-misses) is caught on the skeleton of the name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Dict, FrozenSet, Iterable, Optional, Tuple

import dnstwist

from .glyphs import fold, skeleton
from .hosts import display_host, split_host

# dnstwist fuzzers in the order their explanation is preferred when several make the same name.
FUZZERS = (
    "omission",
    "repetition",
    "transposition",
    "homoglyph",
    "vowel-swap",
    "replacement",
    "hyphenation",
    "plural",
    "insertion",
    "addition",
    "bitsquatting",
    "subdomain",
    "various",
    "dictionary",
)

# Words phishing names add to a brand ("coinex-login", "coinexsupport", "mycoinex").
PHISHING_WORDS = tuple(
    """access account accounts admin airdrop alert app apps auth bonus bot care center centre chat check claim client
    com connect contact crypto customer defi desk en event exchange free futures get gift giveaway global go help
    helpdesk hub id info io kyc link live log login mail market member mobile my net new now nft notice official
    online otp page pass password pay portal pro promo recover recovery reset restore reward rewards safe safety
    secure security service services sign signin site support swap team the token trade trading uk unlock update
    us user users verification verify vip wallet wallets web www""".split()
)
_FOLDED_WORDS: FrozenSet[str] = frozenset(fold(w) for w in PHISHING_WORDS)
_SEPARATORS = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class Target:
    """One official name to imitate (``coinex`` or ``coinex_official``) and its typosquats."""

    genuine: str
    squats: Dict[str, str]

    def __hash__(self) -> int:
        return hash(self.genuine)


@dataclass(frozen=True)
class Imitation:
    """How a name imitates ``genuine``: the trick and the part of the name that does it."""

    trick: str
    shown: str
    genuine: str
    # For a homoglyph: the trick its plain-letter reading still plays ("coinnеx" reads as a doubled letter).
    inner: Optional[str] = None

    @property
    def rank(self) -> int:
        """Lower is the better explanation: dnstwist's tricks in FUZZERS order, then ours."""
        order = FUZZERS + _OWN
        return order.index(self.trick) if self.trick in order else len(order)


# Our own tricks (homoglyph is also dnstwist's), after dnstwist's.
_OWN = ("near-spelling", "brand-plus-words")


def best_imitation(name: str, targets: Iterable[Target]) -> Optional[Imitation]:
    """The imitation of any of ``targets`` that ``name`` is best explained by (first target on a tie)."""
    found = [m for m in (imitation(name, t) for t in targets) if m]
    return min(found, key=lambda m: m.rank) if found else None


def domain_target(domain: str) -> Target:
    """The typosquats of an official registrable domain, keyed by the name left of the suffix."""
    parts = split_host(domain)
    return Target(parts.name, _squats(parts.name, parts.suffix))


def handle_target(handle: str) -> Target:
    """The typosquats of a Telegram handle: fuzzed as a domain label, with ``_`` standing for ``-``.

    dnstwist's homoglyph fuzzer is left out: handles are ASCII, their look-alike
    digits are caught by the folded comparison, and its tables for a long handle
    run to tens of thousands of names.
    """
    fuzzers = tuple(f for f in FUZZERS if f != "homoglyph")
    squats = _squats(handle.replace("_", "-"), "com", fuzzers)
    return Target(handle, {name.replace("-", "_"): fuzzer for name, fuzzer in squats.items()})


def _squats(label: str, suffix: str, fuzzers: Tuple[str, ...] = FUZZERS) -> Dict[str, str]:
    """Every name dnstwist makes from ``label.suffix``, mapped to the preferred fuzzer that makes it."""
    squats: Dict[str, str] = {}
    ending = "." + suffix
    for fuzzer in fuzzers:
        generator = dnstwist.Fuzzer(f"{label}{ending}", dictionary=PHISHING_WORDS)
        # Our public-suffix split, not dnstwist's own guess at it.
        generator.subdomain, generator.domain, generator.tld = "", label, suffix
        generator.generate(fuzzers=[fuzzer])
        for permutation in generator.domains:
            host = display_host(permutation["domain"])
            if host.endswith(ending):
                name = host[: -len(ending)]
            else:
                parts = split_host(host)
                name = ".".join(p for p in (parts.subdomain, parts.name) if p)
            if name and name != label:
                squats.setdefault(name, fuzzer)
    return squats


def imitation(name: str, target: Target) -> Optional[Imitation]:
    """How ``name`` (a domain label, a handle, a subdomain) imitates ``target``, or None.

    The brand is also looked for among other words ("secure-coinex-login",
    "coinexhelpdesk"); the genuine name itself is no imitation.
    """
    genuine = target.genuine
    if not name or name == genuine:
        return None
    fuzzer = target.squats.get(name)
    if fuzzer:
        return Imitation(fuzzer, name, genuine)
    if _looks_like(name, target):
        return Imitation("homoglyph", name, genuine, target.squats.get(skeleton(name)))
    tokens = [t for t in _SEPARATORS.split(name) if t]
    if len(tokens) > 1:
        if genuine in tokens:
            return Imitation("brand-plus-words", name, genuine)
        for token in tokens:
            found = imitation(token, target)
            if found and found.trick in ("dictionary", "brand-plus-words"):
                return Imitation("brand-plus-words", name, genuine)
            if found:
                return found
    embedded = _embedded(name, genuine)
    if embedded is not None:
        if embedded == genuine:
            return Imitation("brand-plus-words", name, genuine)
        return Imitation("homoglyph", embedded, genuine)
    return _near_spelling(name, genuine)


def _looks_like(name: str, target: Target) -> bool:
    """True when the eye reads ``name`` as the genuine name or one of its typosquats."""
    shape = skeleton(name)
    if shape != name and (shape == target.genuine or shape in target.squats):
        return True
    return fold(name) == fold(target.genuine)


def _embedded(name: str, genuine: str) -> Optional[str]:
    """The part of ``name`` that reads as ``genuine`` when the rest is phishing words or digits."""
    folded, wanted = fold(name), fold(genuine)
    start = folded.find(wanted)
    while start >= 0:
        end = start + len(wanted)
        if _words(name[:start]) and _words(name[end:]):
            return name[start:end]
        start = folded.find(wanted, start + 1)
    return None


def _words(text: str) -> bool:
    """True when ``text`` is empty or splits into phishing words, numbers and separators."""
    folded = fold(text)
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - 16), end):
            if not reachable[start]:
                continue
            piece = text[start:end]
            if folded[start:end] in _FOLDED_WORDS or piece.isdigit() or _SEPARATORS.fullmatch(piece):
                reachable[end] = True
                break
    return reachable[len(text)]


def _near_spelling(name: str, genuine: str) -> Optional[Imitation]:
    """A misspelling dnstwist does not list: same length give or take one, 80% the same letters."""
    if len(genuine) < 5 or abs(len(name) - len(genuine)) > 1:
        return None
    if SequenceMatcher(None, skeleton(name), genuine, autojunk=False).ratio() >= 0.8:
        return Imitation("near-spelling", name, genuine)
    return None
