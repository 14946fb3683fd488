"""Verdicts on the addresses customers ask about: CoinEx's own, a look-alike, or not CoinEx.

A pure library for the phishing branch: no network, no state beyond caches.
``addresses_in`` finds the links, domains, email senders and Telegram accounts
in a message; ``judge`` says what one of them is, and why, in words a customer
understands.
"""
from .addresses import Address, addresses_in
from .official import OfficialNames
from .verdict import LOOKALIKE, NOT_COINEX, OFFICIAL, Verdict, judge, verdicts_in

__all__ = ["Address", "OfficialNames", "Verdict", "addresses_in", "judge", "verdicts_in", "OFFICIAL", "LOOKALIKE", "NOT_COINEX"]
