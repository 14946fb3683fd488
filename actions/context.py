"""Reading an unclear answer by the question it answers.

When the classifier is unsure (``nlu_fallback``) while the assistant waits on a
question, the question narrows what the message can mean: after "Did that
help?" it worked, it did not, or it names the set-up; after "Shall I open a
ticket?" it is yes or no; in the triage it names a symptom, a platform or 2FA.
``action_read_in_context`` settles on that meaning and hands the message back to
the dialogue as if it had been classified so (the way Rasa's own two-stage
fallback hands back a clarified message), so the usual rules answer it. A
message that fits no answer gets the help menu and loses nothing.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import playbook
from actions.answers import says, yes_no
from actions.branches import BROWSER_CHOICE, SETUP_ENTITIES, STEP_FEEDBACK, TICKET_OFFER, answer_to_step

YES_NO_QUESTIONS = {TICKET_OFFER, "ticket_confirm", "ticket_duplicate"}
# A problem the classifier ranks first with at least this confidence is taken.
MIN_PROBLEM_CONFIDENCE = 0.2


def _entities(tracker: Tracker) -> set:
    return {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}


def _top_problem(tracker: Tracker) -> Optional[str]:
    """The classifier's best login problem, when it is a real contender."""
    problems = set(playbook.load().branch_for_intent) | {"contact_support"}
    for entry in (tracker.latest_message or {}).get("intent_ranking") or []:
        if entry.get("name") == "nlu_fallback":
            continue
        if entry.get("name") in problems and entry.get("confidence", 0.0) >= MIN_PROBLEM_CONFIDENCE:
            return entry["name"]
        return None
    return None


def reading(tracker: Tracker) -> Optional[str]:
    """The intent an unclear message has in the current context, if any."""
    text = (tracker.latest_message or {}).get("text") or ""
    entities = _entities(tracker)
    if tracker.active_loop_name == "triage_form":
        asked = tracker.get_slot("requested_slot")
        if asked == "triage_symptom":
            return _top_problem(tracker) or ("deny" if says("unsure", text) or yes_no(text) == "deny" else None)
        if asked == "platform":
            return "inform" if entities & SETUP_ENTITIES else None
        if asked == "uses_2fa":
            return yes_no(text)
        return None
    pending = tracker.get_slot("pending")
    if pending == STEP_FEEDBACK:
        if entities & SETUP_ENTITIES:
            return "inform"
        return _top_problem(tracker) or answer_to_step(tracker)
    if pending == BROWSER_CHOICE:
        return "inform" if "browser" in entities else None
    if pending in YES_NO_QUESTIONS:
        return yes_no(text)
    return None


def slots_from_message(tracker: Tracker) -> List[EventType]:
    """The slots the unclear message filled (its entities): reverting it undoes them."""
    events: List[EventType] = []
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            events.insert(0, SlotSet(event["name"], event.get("value")))
    return events


def slot_for_intent(domain: Dict[Text, Any], tracker: Tracker, intent: str) -> List[EventType]:
    """What the form's ``from_intent`` mapping of the requested slot gives for ``intent``
    (slot mappings ran on the unclear message, not on its reading)."""
    loop, asked = tracker.active_loop_name, tracker.get_slot("requested_slot")
    if not loop or not asked:
        return []
    for mapping in ((domain.get("slots") or {}).get(asked) or {}).get("mappings") or []:
        intents = mapping.get("intent")
        intents = intents if isinstance(intents, list) else [intents]
        conditions = mapping.get("conditions") or []
        fits = any(c.get("active_loop") == loop and c.get("requested_slot") in (None, asked) for c in conditions)
        if mapping.get("type") == "from_intent" and intent in intents and (fits or not conditions):
            return [SlotSet(asked, mapping.get("value"))]
    return []


class ActionReadInContext(Action):
    """Re-read an unclear message by the question it answers, or show the help menu."""

    def name(self) -> Text:
        return "action_read_in_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = reading(tracker)
        if intent is None:
            dispatcher.utter_message(response="utter_default")
            return [UserUtteranceReverted()]
        message = copy.deepcopy(tracker.latest_message or {})
        message["intent"] = {"name": intent, "confidence": 1.0}
        message["read_in_context"] = True
        clarified = {
            "event": "user",
            "timestamp": time.time(),
            "text": message.get("text"),
            "parse_data": message,
            "input_channel": tracker.get_latest_input_channel(),
            "metadata": message.get("metadata") or {},
        }
        return (
            [UserUtteranceReverted(), ActionExecuted("action_listen"), clarified]
            + slots_from_message(tracker)
            + slot_for_intent(domain, tracker, intent)
        )
