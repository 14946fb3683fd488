"""The short triage of a vague "I can't log in".

Three questions at most (what the screen says, web or app, 2FA), and only those
whose answer changes the route: nothing the conversation or the channel already
told us is asked again.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import live_status, playbook
from actions.answers import only_details
from actions.branches import known_platform, symptom_beside
from actions.context import hand_back
from loginhelp.contract import RasaSlot, Slot

# Entities that are details for support, not a symptom (their own slots keep them).
_DETAILS = frozenset({"email", "phone", "device"})
# Symptoms for which "web or app" decides the branch or its steps.
_PLATFORM_MATTERS = {"none", "browser", "app", "connection", "twofa_code"}
WEB = playbook.WEB


def platform_in_words(tracker: Tracker) -> Optional[str]:
    """The platform the latest message names in words ("in the app", "en el móvil")."""
    return playbook.load().platform_named((tracker.latest_message or {}).get("text") or "")


class ActionTriageIntro(Action):
    """Open the triage of a vague "I can't log in"; during an incident that can stop a
    login, the customer hears about it first (CoinEx's status page). A long message
    that also names a symptom ("good morning, I can't log in to the app, it says
    network error") goes straight to that symptom's branch."""

    def name(self) -> Text:
        return "action_triage_intro"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        symptom = symptom_beside(tracker)
        if symptom is not None:
            return hand_back(tracker, domain, symptom)
        check = await live_status.refresh()
        if check is not None and check.report is not None and live_status.affects_login(check.report):
            live_status.say_status(dispatcher, check)
            dispatcher.utter_message(response="utter_triage_intro_during_incident")
        else:
            dispatcher.utter_message(response="utter_triage_intro")
        return []



def platform_noted(dispatcher: CollectingDispatcher, tracker: Tracker, named: str) -> str:
    """Tell the customer the platform they named where a symptom was asked is noted; the
    platform to keep ("the app" says no more than the Android or iPhone already known)."""
    dispatcher.utter_message(response="utter_noted_web" if named == WEB else "utter_noted_app")
    said = tracker.get_slot(Slot.PLATFORM)
    if named == playbook.UNKNOWN_PHONE and said in playbook.load().platform_versions:
        return str(said)
    return named


class ValidateTriageForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_triage_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        symptom = tracker.get_slot(Slot.TRIAGE_SYMPTOM)
        slots = [Slot.TRIAGE_SYMPTOM]
        if symptom is None:
            return slots
        # Not asked when the channel or an earlier message told it; once asked, it
        # stays required so that a device ("on my iPhone") fills it (extract_platform):
        # Rasa rejects a form whose asked slot got no value.
        asked = tracker.get_slot(RasaSlot.REQUESTED_SLOT) == Slot.PLATFORM
        if symptom in _PLATFORM_MATTERS and (asked or known_platform(tracker) is None):
            slots.append(Slot.PLATFORM)
        if symptom == "none":
            slots.append(Slot.USES_2FA)
        return slots

    def validate_triage_symptom(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Only a platform ("wait no, it's the app not the website") or a detail ("+44 7700
        900123 is my number") where a symptom was asked is noted, and the customer told
        so, before the question is asked again."""
        message = tracker.latest_message or {}
        book = playbook.load()
        # Read before the symptom: "the app" alone is where, even when it reads like an app problem.
        named = book.only_platform_named(message.get("text") or "")
        if slot_value != "none" and named is None:
            return {Slot.TRIAGE_SYMPTOM: slot_value}
        if only_details(message, _DETAILS):
            dispatcher.utter_message(response="utter_noted")  # the entity's own slot keeps it
            return {Slot.TRIAGE_SYMPTOM: None}
        if named is None:
            return {Slot.TRIAGE_SYMPTOM: slot_value}
        return {Slot.TRIAGE_SYMPTOM: None, Slot.PLATFORM: platform_noted(dispatcher, tracker, named)}

    async def extract_platform(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a device ("on my iPhone 14") or words ("in the app") as an answer to "web or app"."""
        if tracker.get_slot(RasaSlot.REQUESTED_SLOT) != Slot.PLATFORM or tracker.get_slot(Slot.PLATFORM):
            return {}
        platform = known_platform(tracker) or platform_in_words(tracker)
        return {Slot.PLATFORM: platform} if platform else {}

    def validate_platform(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Optional[Text]]:
        value = str(slot_value or "").lower()
        if value == WEB or value in playbook.load().phone_platforms:
            return {Slot.PLATFORM: value}
        dispatcher.utter_message(response="utter_triage_rephrase")
        return {Slot.PLATFORM: None}
