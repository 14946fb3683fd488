"""Verdicts on the addresses a customer shows (links, domains, email senders, Telegram accounts).

Why here and not in a step's text: whether ``coinex-login.net`` is CoinEx's is a
fact the assistant can check itself (loginhelp.phishing), so it answers the
question asked instead of sending the customer to compare letters. The most
alarming verdict of the conversation is kept in the ``address_verdict`` slot for
the agent console.
"""
from __future__ import annotations

from functools import lru_cache
from typing import List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from loginhelp.contract import AddressVerdict, Slot, worse_verdict
from loginhelp.phishing import OfficialNames, Verdict, verdicts_in
from loginhelp.phishing.addresses import EMAIL, TELEGRAM

#: More addresses than this in one message get one verdict each for the first ones only.
MAX_VERDICTS = 3

# The response for each verdict, for web addresses and for Telegram accounts.
RESPONSES = {
    (AddressVerdict.OFFICIAL, False): "utter_address_official",
    (AddressVerdict.LOOKALIKE, False): "utter_address_lookalike",
    (AddressVerdict.NOT_COINEX, False): "utter_address_not_coinex",
    (AddressVerdict.OFFICIAL, True): "utter_handle_official",
    (AddressVerdict.LOOKALIKE, True): "utter_handle_lookalike",
    (AddressVerdict.NOT_COINEX, True): "utter_handle_not_coinex",
}


@lru_cache(maxsize=1)
def official_names() -> OfficialNames:
    return OfficialNames.load()


def addresses_shown(tracker: Tracker) -> List[Verdict]:
    """Verdicts on the addresses in the latest message, in the order they were written."""
    return verdicts_in((tracker.latest_message or {}).get("text") or "", official_names())


def suspicious_address_shown(tracker: Tracker) -> bool:
    """The latest message shows a Telegram account, or a web address that is not
    CoinEx's ("someone on telegram @coinex_help wants to help me"): whatever else it
    asks, it needs a verdict first. Email addresses are left out: they are how
    customers give their contact."""
    return any(v.address.kind == TELEGRAM or (v.address.kind != EMAIL and v.kind != AddressVerdict.OFFICIAL)
               for v in addresses_shown(tracker))


def say_verdicts(dispatcher: CollectingDispatcher, tracker: Tracker,
                 verdicts: List[Verdict]) -> Tuple[List[EventType], bool]:
    """One message per address; the events record the worst verdict; True when one is a warning."""
    worst = tracker.get_slot(Slot.ADDRESS_VERDICT)
    warned = False
    for verdict in verdicts[:MAX_VERDICTS]:
        is_handle = verdict.address.kind == TELEGRAM
        shown = f"@{verdict.address.host}" if is_handle else verdict.address.text
        dispatcher.utter_message(response=RESPONSES[(verdict.kind, is_handle)], address=shown,
                                 reason=verdict.explanation)
        warned = warned or verdict.kind != AddressVerdict.OFFICIAL
        worst = worse_verdict(worst, verdict.kind)
    changed = worst != tracker.get_slot(Slot.ADDRESS_VERDICT)
    return ([SlotSet(Slot.ADDRESS_VERDICT, worst)] if changed else []), warned
