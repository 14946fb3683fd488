"""What the assistant says when it cannot tell what the customer needs."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher


class ActionHelpMenu(Action):
    """Core fallback: show what the assistant can do instead of guessing a branch.

    The unclear message is reverted so it does not steer later predictions.
    """

    def name(self) -> Text:
        return "action_help_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]
