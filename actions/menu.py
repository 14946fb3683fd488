"""What the assistant says outside the guide: the help menu and detours."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import live_status, playbook
from actions.answers import says, step_answer
from actions.branches import (
    answer_to_step,
    branch_beside_off_topic,
    frustration_answered,
    last_response,
    read_by_words,
    resume_question,
    step_affirmed,
    step_failed,
    step_found_answer,
    step_on_screen_said_done,
    step_worked,
)
from actions.context import hand_back
from loginhelp.contract import Pending, Slot


class ActionHelpMenu(Action):
    """Core fallback: show what the assistant can do instead of guessing a branch;
    while the browser is asked for ("ok sure"), ask for it again instead.

    The unclear message is reverted so it does not steer later predictions.
    """

    def name(self) -> Text:
        return "action_help_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        asking_browser = tracker.get_slot(Slot.PENDING) == Pending.BROWSER_CHOICE
        dispatcher.utter_message(response="utter_browser_needed" if asking_browser else "utter_default")
        return [UserUtteranceReverted()]


# The short answer to a detour while a question is pending, and the full one otherwise.
_BRIEF = {
    "out_of_scope": "utter_out_of_scope_brief",
    "bot_challenge": "utter_iamabot",
    "thanks": "utter_youre_welcome_brief",
    "capabilities": "utter_capabilities_brief",
    "greet": None,
    "support_wait_time": "utter_support_response_time",
    "share_screenshot": "utter_screenshot_outside_ticket",
}
_FULL = {
    "out_of_scope": "utter_out_of_scope",
    "bot_challenge": "utter_iamabot",
    "thanks": "utter_youre_welcome",
    "capabilities": "utter_capabilities",
    "greet": "utter_greet",
    "support_wait_time": "utter_support_response_time",
    "share_screenshot": "utter_screenshot_outside_ticket",
}


# After these, "how long will it take?" asks about the outage.
OUTAGE_BRANCH = "outage"
_SAID_OUTAGE = {"utter_outage_likely", "utter_wait_for_fix", "utter_status_incident", "utter_status_maintenance",
                "utter_status_degraded"}
# The greeting and its menu: a second "hi" right after them only needs a word that we're here.
_GREETINGS = {"utter_greet", "utter_still_here"}
# After these, a "no" means there is nothing more: a goodbye.
_ASKED_WHAT_ELSE = {"utter_anything_else", "utter_ask_how_to_help"}


def detour_answers_step(tracker: Tracker, intent: str) -> Optional[str]:
    """What a detour's words say about the step on screen: "thanks that helped" is
    problem_solved, "thanks, but no luck" still_broken, "yes thanks" affirm. An
    off-topic reading is read whole ("no mail from coinex"); other detours only by
    their statements ("are you a bot?" says nothing about the step)."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if intent == "out_of_scope" or step_found_answer(tracker):
        return answer_to_step(tracker)
    if step_on_screen_said_done(tracker) or says("hurry", text):
        return "still_broken"  # "can you speed it up please": a question, and an answer all the same
    said = " ".join(playbook.statements(text))
    answer = step_answer(said, message.get("intent_ranking") or ()) if said else None
    if answer is None and intent == "thanks" and says("plain_yes", said):
        return "affirm"
    return answer


class ActionDetour(Action):
    """Small talk, off-topic questions, "are you a bot?", thanks, goodbyes: in the
    middle of a question, a short answer and the question again (the branch goes
    on); outside one, the full answer with the menu where it has one. A detour whose
    words answer the step ("thanks, that helped") is that answer; "ok, I'll wait" to
    a step that says to wait closes the case with a word on when to come back. A yes
    or no with nothing pending gets a short "what can I help with?", not the whole
    menu (a no to that or to "anything else?" is a goodbye); so does a detail, noted."""

    def name(self) -> Text:
        return "action_detour"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        await live_status.refresh()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        pending = tracker.get_slot(Slot.PENDING)
        read = read_by_words(dispatcher, tracker)
        if read is None:
            read = frustration_answered(dispatcher, tracker)
        if read is not None:
            return read
        beside = branch_beside_off_topic(tracker) if intent == "out_of_scope" else None
        if beside is not None:
            return hand_back(tracker, domain, beside)
        if pending == Pending.STEP_FEEDBACK:
            answer = detour_answers_step(tracker, intent)
            if answer == "still_broken" and intent != "goodbye":  # "no thanks, bye" leaves, it does not fail
                return step_failed(dispatcher, tracker)
            if answer == "problem_solved":
                return step_worked(dispatcher, tracker)
            if answer == "affirm":
                return step_affirmed(dispatcher, tracker)
        if intent == "goodbye":
            dispatcher.utter_message(response="utter_goodbye")
            return []
        if intent == "thanks" and pending == Pending.STEP_FEEDBACK:
            # "ok thx will try": not yet a word on how it went, so no "did that help?" yet.
            dispatcher.utter_message(response="utter_welcome_try_step")
            return []
        if intent == "support_wait_time" and (last_response(tracker) in _SAID_OUTAGE
                                              or tracker.get_slot(Slot.BRANCH) == OUTAGE_BRANCH):
            # "how long will it take" after the word on an outage, or at a step of the outage
            # branch: the outage, not support's queue.
            dispatcher.utter_message(response="utter_outage_duration")
            resume = resume_question(tracker)
            if resume is not None:
                dispatcher.utter_message(response=resume)
            return []
        if intent == "inform" and pending is None:
            dispatcher.utter_message(response="utter_noted")
            dispatcher.utter_message(response="utter_ask_how_to_help")
            return []
        if intent in {"affirm", "deny"} and pending is None:
            text = (tracker.latest_message or {}).get("text") or ""
            finished = intent == "deny" and last_response(tracker) in _ASKED_WHAT_ELSE
            dispatcher.utter_message(response="utter_goodbye" if finished or says("will_wait", text)
                                     else "utter_ask_how_to_help")
            return []
        resume = resume_question(tracker)
        typed = not ((tracker.latest_message or {}).get("text") or "").startswith("/")
        if intent == "greet" and typed and resume is None and last_response(tracker) in _GREETINGS:
            # "hello?", "anyone there": the greeting and its menu are just above; say we're here.
            dispatcher.utter_message(response="utter_still_here")
            return []
        if resume is None:
            dispatcher.utter_message(response=_FULL.get(intent, "utter_default"))
            return []
        brief = _BRIEF.get(intent)
        if brief:
            dispatcher.utter_message(response=brief)
        dispatcher.utter_message(response=resume)
        return []
