"""Advice when a customer volunteers a secret.

The assistant never asks for passwords or codes; when one is typed anyway it
explains why not to share it and what to do if it was real, then returns to the
question it was waiting on.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from loginhelp.security.secrets import PASSWORD, TWOFA_CODE, secret_kinds

_ADVICE = {
    "password": "utter_secret_password",
    "2fa_code": "utter_secret_2fa_code",
    "seed_phrase": "utter_secret_seed_phrase",
    "private_key": "utter_secret_private_key",
}


def warn_about(dispatcher: CollectingDispatcher, kinds: Iterable[str]) -> None:
    """Say, for each kind of secret, why not to share it and what to do now."""
    for kind in kinds:
        dispatcher.utter_message(response=_ADVICE.get(kind, "utter_secret_password"))


class ActionWarnSecret(Action):
    def name(self) -> Text:
        return "action_warn_secret"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        kinds = message.get("secret_kinds") or secret_kinds(message.get("text") or "")
        if not kinds:
            # The classifier saw a secret the patterns did not: warn about both.
            kinds = [PASSWORD, TWOFA_CODE]
        warn_about(dispatcher, kinds)
        if tracker.get_slot("pending") == "step_feedback" and not tracker.active_loop_name:
            dispatcher.utter_message(response="utter_did_that_help")
        return []
