"""Custom slot mappings filled on every message, before the next action runs.

Why here and not in the action that needs the slot: Rasa renders a response
conditioned on a slot with the slots as they were *before* the action's events,
so a slot the action sets itself comes one message late ("phone number changed,
can't get the SMS code" got the authenticator wording of the backup-codes step).
``action_validate_slot_mappings`` runs inside ``action_extract_slots``, right
after the message.
"""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions import playbook
from actions.triage import platform_noted
from loginhelp.contract import LANGUAGE_KEY, RasaSlot, Slot


class ValidateSlotMappings(ValidationAction):
    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_twofa_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """How the customer gets 2FA codes, when this message names one way ("i use sms")."""
        named = playbook.load().twofa_method_named((tracker.latest_message or {}).get("text") or "")
        return {Slot.TWOFA_METHOD: named} if named and named != tracker.get_slot(Slot.TWOFA_METHOD) else {}

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The first message surely not in English ("hola, no puedo entrar a mi cuenta"):
        the customer is told, once, that the replies are in English, before the answer."""
        language = (tracker.latest_message or {}).get(LANGUAGE_KEY)
        if not language or tracker.get_slot(Slot.LANGUAGE):
            return {}
        dispatcher.utter_message(response="utter_english_only")
        return {Slot.LANGUAGE: language}

    async def validate_platform(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """"in the app" says a phone, not which: an Android or iPhone named before stays.
        Named alone where the triage asks for the symptom ("actually its the app, not the
        site") and read as no symptom, the customer is told it is noted as where."""
        named = playbook.load().only_platform_named((tracker.latest_message or {}).get("text") or "")
        if (named and tracker.active_loop_name == "triage_form"
                and tracker.get_slot(RasaSlot.REQUESTED_SLOT) == Slot.TRIAGE_SYMPTOM
                and Slot.TRIAGE_SYMPTOM not in tracker.slots_to_validate()):
            return {Slot.PLATFORM: platform_noted(dispatcher, tracker, named)}
        last_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=0)
        before = next((e.get("value") for e in reversed(tracker.events[:last_user])
                       if e.get("event") == "slot" and e.get("name") == Slot.PLATFORM), None)
        if slot_value == playbook.UNKNOWN_PHONE and before in playbook.load().platform_versions:
            return {Slot.PLATFORM: before}
        return {Slot.PLATFORM: slot_value}
