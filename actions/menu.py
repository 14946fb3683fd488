"""What the assistant says outside the guide: the help menu and detours."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.branches import STEP_FEEDBACK, answer_to_step, close_case, step_failed


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


# The short answer to a detour while a question is pending, and the full one otherwise.
_BRIEF = {
    "out_of_scope": "utter_out_of_scope_brief",
    "bot_challenge": "utter_iamabot",
    "thanks": "utter_youre_welcome",
    "capabilities": "utter_capabilities_brief",
    "greet": None,
    "support_wait_time": "utter_support_response_time",
}
_FULL = {
    "out_of_scope": "utter_out_of_scope",
    "bot_challenge": "utter_iamabot",
    "thanks": "utter_youre_welcome",
    "capabilities": "utter_capabilities",
    "greet": "utter_greet",
    "support_wait_time": "utter_support_response_time",
}
# The question asked again after the detour.
_RESUME = {
    "step_feedback": "utter_resume_step",
    "browser_choice": "utter_ask_browser",
    "ticket_offer": "utter_resume_ticket_offer",
    "ticket_confirm": "utter_resume_ticket_confirm",
}


def resume_question(tracker: Tracker) -> Optional[str]:
    """The response that asks the pending question again, if one is pending."""
    return _RESUME.get(tracker.get_slot("pending") or "")


class ActionDetour(Action):
    """Small talk, off-topic questions, "are you a bot?", thanks: in the middle of a
    question, a short answer and the question again (the branch goes on); outside
    one, the full answer with the menu where it has one."""

    def name(self) -> Text:
        return "action_detour"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        pending = tracker.get_slot("pending")
        if intent == "out_of_scope" and pending == STEP_FEEDBACK:
            # "no mail from coinex" can read as off-topic; its words answer the step.
            answer = answer_to_step(tracker)
            if answer == "still_broken":
                return step_failed(dispatcher, tracker)
            if answer == "problem_solved":
                return close_case(dispatcher)
        resume = resume_question(tracker)
        if resume is None:
            dispatcher.utter_message(response=_FULL.get(intent, "utter_default"))
            return []
        brief = _BRIEF.get(intent)
        if brief:
            dispatcher.utter_message(response=brief)
        dispatcher.utter_message(response=resume)
        return []
