"""What each look-alike trick is called and how to say it to a customer.

Every explanation is one plain clause in lower case, meant to follow the
assistant's own words ("Careful, this is not CoinEx: <explanation>.").
"""
from __future__ import annotations

from typing import Dict, Optional

from .glyphs import describe_swaps, fold, skeleton, spoken

# Trick codes: dnstwist's fuzzer names for the typosquats it makes, our own for the rest.
TRICKS: Dict[str, str] = {
    "omission": "a letter left out",
    "repetition": "a letter doubled",
    "transposition": "two neighbouring letters swapped",
    "homoglyph": "look-alike characters (other scripts, accents, 0 for o, rn for m)",
    "vowel-swap": "one vowel replaced by another",
    "replacement": "a letter replaced by its neighbour on the keyboard",
    "hyphenation": "a hyphen inserted",
    "plural": "an s slipped in",
    "insertion": "a neighbouring key's letter slipped in",
    "addition": "a character added at the end",
    "bitsquatting": "a letter one bit away",
    "subdomain": "a dot inserted, so the name becomes a subdomain of another one",
    "various": "the ending run into the name (coinexcom.com)",
    "dictionary": "a phishing word added (coinex-login)",
    "brand-plus-words": "the brand among other words (secure-coinex-verify, coinexhelpdesk)",
    "near-spelling": "a misspelling dnstwist does not list",
    "tld-swap": "the right name under another ending (.net, .co)",
    "official-subdomain": "the official name in front of somebody else's domain",
    "name-before-at": "the official name before an @, where it is only a user name",
    "name-in-path": "the official name after the address, in the path",
    "unlisted-handle": "a Telegram handle that is the brand itself but not an official account",
}


def name_trick(trick: str, shown: str, genuine: str, brand: str, *, joiner: str = "-", inner: Optional[str] = None) -> str:
    """The clause for a typosquat of the name ``genuine`` written as ``shown``.

    ``joiner`` is the character that joins words in such names: ``-`` in domains, ``_`` in Telegram handles;
    ``inner`` is the trick a homoglyph name still plays once its letters are read as plain ones.
    """
    instead = f"({shown} instead of {genuine})"
    if trick == "homoglyph":
        return _look_alike(shown, genuine, brand, joiner, inner)
    if trick == "omission":
        missing = _missing(shown, genuine)
        what = "one letter is" if missing.isalnum() else f"{_the(missing)} is"
        return f"{what} missing {instead}"
    if trick == "repetition":
        return f"one letter is doubled {instead}"
    if trick == "transposition":
        return f"two letters are swapped {instead}"
    if trick == "vowel-swap":
        return f"one vowel is different {instead}"
    if trick == "replacement":
        return f"one letter is replaced by the key next to it on the keyboard {instead}"
    if trick == "hyphenation":
        return f"it adds {spoken(joiner)} to {brand}'s name {instead}"
    if trick == "plural":
        return f"it slips an s into {brand}'s name {instead}"
    if trick == "insertion":
        return f"it slips an extra letter into {brand}'s name {instead}"
    if trick == "addition":
        added = shown[len(genuine):] if shown.startswith(genuine) else shown[-1:]
        return f"it adds {spoken(added)} to the end of {brand}'s name {instead}"
    if trick == "bitsquatting":
        return f"one letter is different {instead}"
    if trick == "various":
        return f"it runs {brand}'s name together with its ending {instead}"
    if trick == "dictionary":
        return f"it adds a word to {brand}'s name ({shown})"
    if trick == "brand-plus-words":
        return f"it mixes {brand}'s name with other words or numbers ({shown})"
    return f"it is spelled almost, but not quite, like {brand}'s name {instead}"


def other_suffix(suffix: str, genuine_suffix: str) -> str:
    """The clause for the right name under another ending."""
    return f"it ends in .{suffix} instead of .{genuine_suffix}"


def split_by_dot(registrable: str) -> str:
    """The clause for dnstwist's subdomain trick (``coin.ex.com``)."""
    return f"a dot splits the name, so the address really belongs to {registrable}"


def official_in_front(shown: str, registrable: str) -> str:
    """The clause for ``coinex.com.secure-login.io``."""
    return f"{shown} is only the start of a longer address that belongs to {registrable}"


def decoy_before_at(userinfo: str, host: str, *, email: bool, brand: str) -> str:
    """The clause for ``https://coinex.com@evil.io`` and ``coinex.support@gmail.com``."""
    if email:
        return f"{brand}'s name is only in front of the @; the mail comes from {host}, which isn't {brand}"
    return f"{userinfo} in front of the @ is only a decoy: the link really goes to {host}"


def name_in_path(registrable: str, brand: str) -> str:
    """The clause for ``https://evil.io/coinex.com/login``."""
    return f"the link goes to {registrable}; {brand}'s name only comes after it, where it changes nothing"


def _look_alike(shown: str, genuine: str, brand: str, joiner: str, inner: Optional[str]) -> str:
    """Name the foreign letters first, then what the name still gets wrong once they are read as Latin."""
    shape = skeleton(shown)
    if shape == shown:
        return describe_swaps(shown, genuine, brand)
    clause = describe_swaps(shown, shape, brand)
    if shape == genuine:
        return clause
    if inner and inner != "homoglyph":
        return f"{clause}, and {name_trick(inner, shape, genuine, brand, joiner=joiner)}"
    if fold(shape) == fold(genuine):
        return f"{clause}, and {describe_swaps(shape, genuine, brand)}"
    return f"{clause}, and it spells {shape} instead of {genuine}"


def _missing(shown: str, genuine: str) -> str:
    for i, char in enumerate(genuine):
        if i >= len(shown) or shown[i] != char:
            return char
    return genuine[-1:]


def _the(char: str) -> str:
    return {"_": "the underscore", "-": "the hyphen", ".": "the dot"}.get(char, f"the {char}")

