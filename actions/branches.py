"""Walking a branch of the guide: start it, move on when a step fails, close it.

The plan of the current branch lives in slots (``branch``, ``plan``, ``step``), so
every action here is a pure function of the tracker: any action-server replica
can serve the next message.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text
from urllib.parse import urlsplit

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import playbook
from actions.channel_context import client_info, clock_skew_seconds, describe_skew, platform_from_device

CLOCK_SKEW_LIMIT_S = 30

STEP_FEEDBACK = "step_feedback"
BROWSER_CHOICE = "browser_choice"
TICKET_OFFER = "ticket_offer"


def known_browser(tracker: Tracker) -> Optional[str]:
    """The browser the customer named, else the one their user agent reveals."""
    return tracker.get_slot("browser") or client_info(tracker).browser


def known_platform(tracker: Tracker) -> Optional[str]:
    """web/android/ios from the customer's words, their device, or the user agent."""
    return (
        tracker.get_slot("platform")
        or platform_from_device(tracker.get_slot("device"))
        or client_info(tracker).platform
    )


def present_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, branch: str, plan: List[str], index: int
) -> List[EventType]:
    """Explain step ``index`` of ``plan`` and ask if it helped; offer a ticket past the end."""
    book = playbook.load()
    events: List[EventType] = [
        SlotSet("branch", branch),
        SlotSet("plan", plan),
        SlotSet("step", float(index)),
    ]
    if index >= len(plan):
        dispatcher.utter_message(response="utter_offer_ticket")
        return events + [SlotSet("pending", TICKET_OFFER)]
    step = book.steps[plan[index]]
    browser = known_browser(tracker)
    response = book.response_for(step, browser, known_platform(tracker))
    if response is None:
        dispatcher.utter_message(response="utter_ask_browser")
        return events + [SlotSet("pending", BROWSER_CHOICE)]
    dispatcher.utter_message(response=response)
    if step.check_clock:
        skew = clock_skew_seconds(tracker)
        if skew is not None and abs(skew) > CLOCK_SKEW_LIMIT_S:
            dispatcher.utter_message(response="utter_clock_skew", skew=describe_skew(skew))
    dispatcher.utter_message(response="utter_did_that_help")
    if browser and not tracker.get_slot("browser"):
        events.append(SlotSet("browser", browser))
    return events + [SlotSet("pending", STEP_FEEDBACK)]


def url_verdict(dispatcher: CollectingDispatcher, url: Optional[str]) -> None:
    """Say whether a URL the customer asks about is on an official CoinEx domain."""
    if not url:
        return
    candidate = url.strip()
    if "://" not in candidate:
        candidate = "http://" + candidate
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        host = ""
    official = bool(host) and playbook.load().is_official_host(host)
    response = "utter_url_official" if official else "utter_url_not_official"
    dispatcher.utter_message(response=response, url=url.strip())


class ActionStartBranch(Action):
    """Open the branch of the guide that the customer's message points to."""

    def name(self) -> Text:
        return "action_start_branch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        book = playbook.load()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        branch = book.branch_for_intent.get(intent or "")
        if branch is None:
            dispatcher.utter_message(response="utter_no_active_problem")
            return [SlotSet("pending", None)]
        if branch == "phishing":
            url_verdict(dispatcher, next(tracker.get_latest_entity_values("url"), None))
        return [SlotSet("steps_tried", [])] + present_step(
            dispatcher, tracker, branch, book.plan_for_branch(branch), 0
        )


class ActionContinueBranch(Action):
    """The last step did not help (or the browser is now known): go on."""

    def name(self) -> Text:
        return "action_continue_branch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        book = playbook.load()
        branch = tracker.get_slot("branch")
        plan = list(tracker.get_slot("plan") or [])
        if not branch or not plan:
            dispatcher.utter_message(response="utter_no_active_problem")
            return []
        index = int(tracker.get_slot("step") or 0)
        pending = tracker.get_slot("pending")
        if pending == BROWSER_CHOICE:
            return present_step(dispatcher, tracker, branch, plan, index)
        events: List[EventType] = []
        if pending == STEP_FEEDBACK and 0 <= index < len(plan):
            tried = list(tracker.get_slot("steps_tried") or [])
            title = book.steps[plan[index]].title
            if title not in tried:
                tried.append(title)
            events.append(SlotSet("steps_tried", tried))
        next_index = index + 1 if pending != TICKET_OFFER else len(plan)
        return events + present_step(dispatcher, tracker, branch, plan, next_index)


class ActionRouteTriage(Action):
    """After the triage questions, open the branch that fits (basics first)."""

    def name(self) -> Text:
        return "action_route_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        book = playbook.load()
        platform = known_platform(tracker)
        branch = book.branch_for_triage(tracker.get_slot("triage_symptom"), platform)
        if branch == playbook.GENERAL_BRANCH:
            plan = book.general_plan(platform, tracker.get_slot("uses_2fa"))
        else:
            plan = book.plan_for_branch(branch)
        reset = [SlotSet("triage_symptom", None), SlotSet("steps_tried", [])]
        return reset + present_step(dispatcher, tracker, branch, plan, 0)


def _closed_case() -> List[EventType]:
    return [
        SlotSet("branch", None),
        SlotSet("plan", None),
        SlotSet("step", -1.0),
        SlotSet("pending", None),
        SlotSet("steps_tried", []),
    ]


class ActionCloseCase(Action):
    """The customer is back in: say so and forget the diagnosis."""

    def name(self) -> Text:
        return "action_close_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_problem_solved")
        dispatcher.utter_message(response="utter_anything_else")
        return _closed_case()


class ActionDeclineTicket(Action):
    """The customer does not want a ticket now; leave the door open."""

    def name(self) -> Text:
        return "action_decline_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_no_ticket")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending", None)]
