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
from loginhelp.contract import Slot


class ValidateSlotMappings(ValidationAction):
    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_twofa_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """How the customer gets 2FA codes, when this message names one way ("i use sms")."""
        named = playbook.load().twofa_method_named((tracker.latest_message or {}).get("text") or "")
        return {Slot.TWOFA_METHOD: named} if named and named != tracker.get_slot(Slot.TWOFA_METHOD) else {}
