"""The support ticket: gather what the guide says support needs, confirm, store.

What the conversation already knows is pre-filled (contact, the customer's own
description, the steps that did not help, device and browser from the widget),
secrets are refused in every field, a duplicate for the same contact is offered
as an update instead, and a failing database never loses a ticket (the service
spools it and files it later).
"""
from __future__ import annotations

import functools
import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Text, cast

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import playbook
from actions.address_check import suspicious_address_shown
from actions.answers import only_details, says, step_answer, yes_no
from actions.branches import latest_intent, resume_question
from actions.channel_context import client_info
from actions.context import hand_back
from actions.live_agent import agent_available, queue_for_agent
from actions.secret_warnings import warn_about
from loginhelp.contact import InvalidContact, normalise_contact
from loginhelp.contract import ATTACHMENT_KEYS, BRANCH_QUESTIONS, Attachment, Metadata, Pending, RasaSlot, Slot
from loginhelp.secret_detection import secret_kinds
from loginhelp.tickets import ScreenshotDraft, TicketDraft, TicketService, normalise_reference
from loginhelp.tickets.service import is_database_unavailable

logger = logging.getLogger(__name__)

FIELDS_FILE = Path(__file__).with_name("ticket_fields.yml")
NONE = "none"  # what the "no message" / "nothing else" / "no screenshots" buttons map to
NO_ERROR_MESSAGE = "No error message shown"
NOTHING_TRIED = "Nothing tried yet"
NOT_GIVEN = "Not given"  # "no", "dont know" at the device or version question
MAX_CONTACT_ATTEMPTS = 3
# A yes or another request for a ticket typed at the contact question: no contact, no fault.
TICKET_WISHES = frozenset({"affirm", "contact_support"})
MAX_DECLINE_WORDS = 4
# An answer to the contact question read as a login problem, of this many words
# or more, is the customer describing the problem, not a mistyped address.
MIN_PROBLEM_WORDS = 4
MIN_PROBLEM_CONFIDENCE = 0.8
# "Samsung S23 with the app 3.9.1": the app or browser version given with the device.
VERSION_IN_TEXT = re.compile(
    r"\b(?:coinex\s+)?(?:app|chrome|firefox|safari|edge|brave|opera)\b\D{0,12}\d+(?:\.\d+)+", re.IGNORECASE
)
# Words that ask for a change ("change the email to ..."), not only name a field.
_CHANGE_WORDS = re.compile(r"\b(change|changed|edit|update|correct|replace|instead)\b", re.IGNORECASE)
# An error the customer quotes in their description: in quotes after "says"/"shows"
# ('it says "Incorrect account or password"') or an error code ("error 1003").
_QUOTED_ERROR = re.compile(
    r"\b(?:says?|said|shows?|showed|showing|displays?|message|error|reads?)\b\W{0,3}"
    r"(?:[\"“”«]([^\"“”«»]{2,120})[\"“”»]|(?<!\w)'([^']{2,120})'(?!\w))",
    re.IGNORECASE,
)
_ERROR_CODE = re.compile(r"\berror\s*(?:code\s*)?[:#]?\s*[a-z]{0,4}-?\d{2,6}\b|\b\d{3,6}\s+error\b", re.IGNORECASE)
STATUS_TEXT = {
    "open": "open and waiting for a support agent",
    "in_progress": "being worked on by a support agent",
    "resolved": "resolved",
    "closed": "closed",
}

_service: Optional[TicketService] = None


def ticket_service() -> TicketService:
    """One service per action server: its thread pool and spool are shared by all conversations."""
    global _service
    if _service is None:
        _service = TicketService()
    return _service


def use_ticket_service(service: Optional[TicketService]) -> None:
    """Point the actions at another service (tests, or another database)."""
    global _service
    _service = service


@lru_cache(maxsize=1)
def ticket_fields() -> Dict[str, Dict[str, Any]]:
    with FIELDS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["fields"]


TICKET_SLOTS = list(ticket_fields()) + [Slot.TICKET_CONTACT_ATTEMPTS, Slot.TICKET_FIELD, Slot.TICKET_DUPLICATE_REF]


def _cleared_ticket() -> List[EventType]:
    return [SlotSet(slot, None) for slot in TICKET_SLOTS] + [SlotSet(Slot.TICKET_CONTACT_ATTEMPTS, 0.0)]


DESCRIPTION_MESSAGES = 2


def error_quoted(text: Optional[str]) -> Optional[str]:
    """The error message ``text`` quotes word for word, or its error code; None for
    a paraphrase ("it says wrong password"), which support would ask about again."""
    if not text:
        return None
    quoted = _QUOTED_ERROR.search(text)
    if quoted:
        return (quoted.group(1) or quoted.group(2)).strip()
    code = _ERROR_CODE.search(text)
    return code.group(0) if code else None


def problem_intents() -> set[str]:
    """Intents of a message that describes the login problem."""
    return set(playbook.load().branch_for_intent) | {"login_problem", "still_broken"}


def opening_message(tracker: Tracker) -> Optional[str]:
    """The customer's own words for the problem: the first login messages they typed
    (4 words or more) since the last case was closed or filed, before the steps
    began: the opening and, after a vague one, the triage answer ("I can't log in" /
    "the app freezes when I tap login")."""
    login_intents = problem_intents()
    found: List[str] = []
    branch_open = False
    pending = None
    for event in tracker.events or []:
        if event.get("event") == "slot" and event.get("name") == Slot.BRANCH:
            if branch_open and event.get("value") is None:
                found = []
            branch_open = event.get("value") is not None
        if event.get("event") == "slot" and event.get("name") == Slot.PENDING:
            pending = event.get("value")
        if event.get("event") != "user" or pending in BRANCH_QUESTIONS:
            continue  # "nope, caps lock is off" answers a step; it does not describe the problem
        text = (event.get("text") or "").strip()
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if (intent in login_intents and not text.startswith("/") and len(text.split()) >= 4
                and text not in found and not secret_kinds(text)):
            found.append(text)
    return " / ".join(found[:DESCRIPTION_MESSAGES]) or None


def _steps_shown(tracker: Tracker) -> List[str]:
    """The steps that did not help, and the one on screen when support was asked for
    (at the ticket offer, the step that sends the customer to support, if the plan ends so)."""
    tried = list(tracker.get_slot(Slot.STEPS_TRIED) or [])
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    step = tracker.get_slot(Slot.STEP)
    index = int(step) if step is not None else -1
    pending = tracker.get_slot(Slot.PENDING)
    steps = playbook.load().steps
    shown = None
    if pending == Pending.STEP_FEEDBACK and 0 <= index < len(plan):
        shown = steps[plan[index]]
    elif pending == Pending.TICKET_OFFER and plan and steps[plan[-1]].hands_over:
        shown = steps[plan[-1]]
    if shown is not None and not shown.listed_in(tried):
        tried.append(shown.title)
    return tried


def refuse_secret(value: Any, dispatcher: CollectingDispatcher) -> bool:
    """Tell the customer and return True when ``value`` holds a secret."""
    kinds = secret_kinds(str(value or ""))
    if not kinds:
        return False
    dispatcher.utter_message(response="utter_ticket_secret_refused")
    warn_about(dispatcher, kinds)
    return True


def answered(validate: Callable) -> Callable:
    """Validate a slot only when it holds an answer: a ``None`` was set by an action
    (the form's reset), not typed by the customer, and deserves no complaint."""
    slot = validate.__name__[len("validate_"):]

    @functools.wraps(validate)
    def wrapper(self, value, dispatcher, tracker, domain):
        if value is None:
            return {slot: None}
        return validate(self, value, dispatcher, tracker, domain)

    return wrapper


class ActionTicketStart(Action):
    """Open a ticket with everything the conversation already knows filled in."""

    def name(self) -> Text:
        return "action_ticket_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        at_offer = tracker.get_slot(Slot.PENDING) == Pending.TICKET_OFFER
        if at_offer and says("will_wait", text):
            # "ok, I'll wait" can read as a yes to the ticket offer: it declines it.
            return hand_back(tracker, domain, "deny")
        if at_offer and step_answer(text) == "problem_solved" and not says("support", text):
            # "yes works now thx": no ticket needed, the case is closed (by the rule for "it works").
            return hand_back(tracker, domain, "problem_solved") + [SlotSet(Slot.PENDING, None)]
        if suspicious_address_shown(tracker):
            # "someone on telegram @coinex_help wants to help me": a possible scam first.
            return hand_back(tracker, domain, "phishing_check")
        if says("wants_person", text) and agent_available(tracker):
            # "can I talk to a human", and one is free: the live chat instead of the ticket.
            queued = queue_for_agent(dispatcher, tracker, _steps_shown(tracker))
            if queued is not None:
                return queued
        prefill: Dict[str, Any] = {}
        for candidate in (tracker.get_slot(Slot.EMAIL), tracker.get_slot(Slot.PHONE)):
            if not candidate:
                continue
            try:
                contact = normalise_contact(str(candidate))
            except InvalidContact:
                continue
            prefill[Slot.TICKET_CONTACT] = contact.email or contact.phone
            break
        description = opening_message(tracker)
        if description:
            prefill[Slot.TICKET_DESCRIPTION] = description
        error = error_quoted(description) or error_quoted(text)  # "talk to a person, the app shows error 5001"
        if error:
            prefill[Slot.TICKET_ERROR_MESSAGE] = error
        steps_shown = _steps_shown(tracker)
        info = client_info(tracker)
        device = tracker.get_slot(Slot.DEVICE) or info.device
        if device:
            prefill[Slot.TICKET_DEVICE] = device
        if info.browser_version:
            prefill[Slot.TICKET_BROWSER_VERSION] = info.browser_version
        if says("wants_person", text):
            # "can I talk to a human": no one can join this chat (yet); say so before the ticket.
            dispatcher.utter_message(response="utter_no_live_agent")
        dispatcher.utter_message(response="utter_ticket_intro")
        return (
            [SlotSet(Slot.PENDING, None), SlotSet(Slot.STEPS_TRIED, steps_shown)]
            + _cleared_ticket()
            + [SlotSet(slot, value) for slot, value in prefill.items()]
        )


class ActionAskTicketStepsTried(Action):
    """Show the steps already noted from the conversation and ask for more."""

    def name(self) -> Text:
        return "action_ask_ticket_steps_tried"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        noted = list(tracker.get_slot(Slot.STEPS_TRIED) or [])
        if noted:
            listed = "\n".join(f"• {step}" for step in noted)
            dispatcher.utter_message(response="utter_ask_ticket_steps_tried_noted", steps=listed)
        else:
            dispatcher.utter_message(response="utter_ask_ticket_steps_tried")
        return []


def declined(tracker: Tracker) -> bool:
    """A short no ("no", "nothing else", "no screenshots", the button): nothing to add.
    A longer answer that starts with no ("no error, it just spins") is an answer."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    text = message.get("text") or ""
    short = len(text.split()) <= MAX_DECLINE_WORDS
    return short and (intent == "deny" or says("nothing_to_add", text))


def contact_in_message(tracker: Tracker) -> Optional[str]:
    """An email or phone number found anywhere in the latest message."""
    return next(tracker.get_latest_entity_values("email"), None) or next(
        tracker.get_latest_entity_values("phone"), None
    )


def only_a_device(tracker: Tracker) -> Optional[str]:
    """The device named by the latest message when that is all it says ("pixel 8")."""
    device = next(tracker.get_latest_entity_values("device"), None)
    return str(device) if device and only_details(tracker.latest_message or {}, {"device"}) else None


def other_contacts(tracker: Tracker, chosen: Optional[str]) -> List[str]:
    """The emails and phone numbers of the latest message other than the one chosen as the contact."""
    found = list(tracker.get_latest_entity_values("email")) + list(tracker.get_latest_entity_values("phone"))
    others: List[str] = []
    for value in found:
        try:
            parsed = normalise_contact(str(value))
        except InvalidContact:
            continue
        address = parsed.email or parsed.phone
        if address and address.lower() != str(chosen or "").lower() and address not in others:
            others.append(address)
    return others


def reads_as_problem(tracker: Tracker) -> bool:
    """Words about the problem typed where the contact was asked for: kept, not rejected."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    problems = problem_intents()
    # Summed over the ranking: "locked after the wrong password 5 times" is split
    # between the lock and the password, a problem either way.
    confidence = sum(float(r.get("confidence") or 0.0) for r in message.get("intent_ranking") or []
                     if r.get("name") in problems)
    return (confidence >= MIN_PROBLEM_CONFIDENCE and len(text.split()) >= MIN_PROBLEM_WORDS
            and not says("about_contact", text))


def screenshots_added(tracker: Tracker, links: bool) -> Optional[List[Attachment]]:
    """The ticket's screenshots with the files sent with the latest message (and, when
    ``links``, the links in it); None when it brought none."""
    message = tracker.latest_message or {}
    attachments = (message.get("metadata") or {}).get(Metadata.ATTACHMENTS) or []
    new: List[Attachment] = []
    for item in attachments if isinstance(attachments, list) else []:
        if isinstance(item, dict) and item.get("location"):
            new.append(cast(Attachment, {k: item.get(k) for k in ATTACHMENT_KEYS}))
    if links:
        for url in tracker.get_latest_entity_values("url"):
            new.append({"source": "url", "location": url})
    if not new:
        return None
    current = tracker.get_slot(Slot.TICKET_SCREENSHOTS)
    existing = current if isinstance(current, list) else []
    return existing + [s for s in new if s not in existing]


def not_known(tracker: Tracker) -> bool:
    """A short "no", "dont know", "not sure" to a question about the set-up."""
    text = (tracker.latest_message or {}).get("text") or ""
    return declined(tracker) or (len(text.split()) <= MAX_DECLINE_WORDS and says("unsure", text))


class ValidateTicketForm(FormValidationAction):
    """Each validator runs only on an answer (see ``answered``)."""

    def name(self) -> Text:
        return "validate_ticket_form"

    async def extract_ticket_screenshots(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Files sent at any point of the form (Telegram photos) and, when asked, links."""
        shots = screenshots_added(tracker, links=tracker.get_slot(RasaSlot.REQUESTED_SLOT) == Slot.TICKET_SCREENSHOTS)
        if shots is None:
            return {}
        dispatcher.utter_message(response="utter_ticket_screenshot_received", count=len(shots))
        return {Slot.TICKET_SCREENSHOTS: shots}

    @answered
    def validate_ticket_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        kinds = secret_kinds(str(value or ""))
        found = contact_in_message(tracker)
        if kinds and found is None:
            refuse_secret(value, dispatcher)
            return {Slot.TICKET_CONTACT: None}
        try:
            contact = normalise_contact(str(found or value))
        except InvalidContact as invalid:
            if kinds:
                refuse_secret(value, dispatcher)
                return {Slot.TICKET_CONTACT: None}
            text = str(value or "").strip()
            if latest_intent(tracker) in TICKET_WISHES:
                # "ok yes please make a ticket" once the form has started: it is under way.
                dispatcher.utter_message(response="utter_ticket_under_way")
                return {Slot.TICKET_CONTACT: None}
            if reads_as_problem(tracker):
                dispatcher.utter_message(response="utter_ticket_noted_in_description")
                existing = str(tracker.get_slot(Slot.TICKET_DESCRIPTION) or "").strip()
                if text.lower() in existing.lower():
                    return {Slot.TICKET_CONTACT: None}
                description = f"{existing} / {text}" if existing else text
                return {Slot.TICKET_CONTACT: None, Slot.TICKET_DESCRIPTION: description}
            attempts = int(tracker.get_slot(Slot.TICKET_CONTACT_ATTEMPTS) or 0) + 1
            dispatcher.utter_message(response="utter_ticket_contact_invalid", reason=invalid.reason)
            if attempts >= MAX_CONTACT_ATTEMPTS:
                dispatcher.utter_message(response="utter_ticket_contact_way_out")
            return {Slot.TICKET_CONTACT: None, Slot.TICKET_CONTACT_ATTEMPTS: float(attempts)}
        chosen = contact.email or contact.phone
        if kinds:
            # "my email is a@b.c and password ...": the address kept, the secret left out.
            dispatcher.utter_message(response="utter_ticket_secret_left_out", contact=chosen)
            warn_about(dispatcher, kinds)
        events = {
            Slot.TICKET_CONTACT: chosen,
            Slot.EMAIL: contact.email or tracker.get_slot(Slot.EMAIL),
            Slot.PHONE: contact.phone or tracker.get_slot(Slot.PHONE),
        }
        existing = str(tracker.get_slot(Slot.TICKET_DESCRIPTION) or "").strip()
        others = [c for c in other_contacts(tracker, chosen) if c.lower() not in existing.lower()]
        if others and existing:
            # "reach me at a@b.c, i might have used x@y.z": the other address matters to support too.
            listed = ", ".join(others)
            dispatcher.utter_message(response="utter_ticket_other_contacts_noted", contact=chosen, others=listed)
            events[Slot.TICKET_DESCRIPTION] = f"{existing} / Other addresses given: {listed}"
        return events

    def _free_text(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if refuse_secret(text, dispatcher):
            return {slot: None}
        if len(text) < 2:
            dispatcher.utter_message(response="utter_ticket_field_too_short")
            return {slot: None}
        return {slot: text}

    def _elsewhere(self, slot: str, value: Any, dispatcher: CollectingDispatcher,
                   tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """An answer that belongs to another question ("galaxy a54" to "what's the error?",
        "app 3.9.2" to "what have you tried?"): noted there, and ``slot`` asked again; a
        bare "yes" is no answer. None when the answer is ``slot``'s own."""
        text = str(value or "").strip()
        if text != ((tracker.latest_message or {}).get("text") or "").strip():
            return None  # filled from the conversation (ActionTicketStart), not typed as this answer
        device = only_a_device(tracker) if slot != Slot.TICKET_DEVICE else None
        if device:
            dispatcher.utter_message(response="utter_ticket_device_noted", device=device)
            return {slot: None, Slot.TICKET_DEVICE: device}
        version = VERSION_IN_TEXT.fullmatch(text) if slot != Slot.TICKET_BROWSER_VERSION else None
        named = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        if version and not named & {"device", "platform"}:
            dispatcher.utter_message(response="utter_ticket_version_noted")
            return {slot: None, Slot.TICKET_BROWSER_VERSION: text}
        if len(text.split()) <= 2 and yes_no(text) == "affirm":
            dispatcher.utter_message(response="utter_ticket_field_too_short")
            return {slot: None}
        return None

    @answered
    def validate_ticket_description(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        message = tracker.latest_message or {}
        if str(value or "") == message.get("text") and only_details(message, {"email", "phone"}):
            # The address again ("ines.m@example.pt"): not what happens at the login.
            dispatcher.utter_message(response="utter_ticket_description_not_contact")
            return {Slot.TICKET_DESCRIPTION: None}
        elsewhere = self._elsewhere(Slot.TICKET_DESCRIPTION, value, dispatcher, tracker)
        if elsewhere is not None:
            return elsewhere
        events = self._free_text(Slot.TICKET_DESCRIPTION, value, dispatcher)
        error = error_quoted(events[Slot.TICKET_DESCRIPTION])
        if error and not tracker.get_slot(Slot.TICKET_ERROR_MESSAGE):
            events[Slot.TICKET_ERROR_MESSAGE] = error  # "it says error 1003": not asked again
        return events

    @answered
    def validate_ticket_error_message(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NONE or declined(tracker):
            return {Slot.TICKET_ERROR_MESSAGE: NO_ERROR_MESSAGE}
        return (self._elsewhere(Slot.TICKET_ERROR_MESSAGE, value, dispatcher, tracker)
                or self._free_text(Slot.TICKET_ERROR_MESSAGE, value, dispatcher))

    @answered
    def validate_ticket_steps_tried(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if isinstance(value, list):
            return {Slot.TICKET_STEPS_TRIED: value}
        noted = list(tracker.get_slot(Slot.STEPS_TRIED) or [])
        if value == NONE or declined(tracker):
            return {Slot.TICKET_STEPS_TRIED: noted or [NOTHING_TRIED]}
        elsewhere = self._elsewhere(Slot.TICKET_STEPS_TRIED, value, dispatcher, tracker)
        if elsewhere is not None:  # "pixel 8": the next question answered early, not a step tried
            return elsewhere
        extra = self._free_text(Slot.TICKET_STEPS_TRIED, value, dispatcher)[Slot.TICKET_STEPS_TRIED]
        return {Slot.TICKET_STEPS_TRIED: None if extra is None else noted + [extra]}

    @answered
    def validate_ticket_device(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NONE or not_known(tracker):
            return {Slot.TICKET_DEVICE: NOT_GIVEN}
        elsewhere = self._elsewhere(Slot.TICKET_DEVICE, value, dispatcher, tracker)
        if elsewhere is not None:  # "app 4.1" is the version, asked next: noted, and the device asked again
            return elsewhere
        version = VERSION_IN_TEXT.search(str(value))
        named = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        if not named & {"device", "platform"} and says("tried", str(value)):
            # "waited a day": what was tried, answered late, not a device.
            steps = tracker.get_slot(Slot.TICKET_STEPS_TRIED)
            noted = [s for s in steps if s != NOTHING_TRIED] if isinstance(steps, list) else []
            dispatcher.utter_message(response="utter_ticket_step_noted")
            return {Slot.TICKET_DEVICE: None, Slot.TICKET_STEPS_TRIED: noted + [str(value).strip()]}
        result = self._free_text(Slot.TICKET_DEVICE, value, dispatcher)
        if result[Slot.TICKET_DEVICE] and version and not tracker.get_slot(Slot.TICKET_BROWSER_VERSION):
            result[Slot.TICKET_BROWSER_VERSION] = version.group().strip()
            # "samsung s22, app 3.21": the device is what is left once the version is taken out.
            rest = (str(value)[:version.start()] + str(value)[version.end():]).strip(" ,;/-")
            if rest and named & {"device", "platform"}:
                result[Slot.TICKET_DEVICE] = rest
        return result

    @answered
    def validate_ticket_browser_version(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NONE or not_known(tracker):
            return {Slot.TICKET_BROWSER_VERSION: NOT_GIVEN}
        # "pixel 7": the device (the last question) given again or corrected, not a version.
        return (self._elsewhere(Slot.TICKET_BROWSER_VERSION, value, dispatcher, tracker)
                or self._free_text(Slot.TICKET_BROWSER_VERSION, value, dispatcher))

    @answered
    def validate_ticket_screenshots(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if isinstance(value, list):
            return {Slot.TICKET_SCREENSHOTS: value}
        current = tracker.get_slot(Slot.TICKET_SCREENSHOTS)
        if value == NONE or declined(tracker) or says("no_screenshot", str(value)):
            return {Slot.TICKET_SCREENSHOTS: current if isinstance(current, list) else []}
        # "chrome 120" is no screenshot: say what the question wants rather than file it as none.
        dispatcher.utter_message(response="utter_ticket_screenshot_not_found")
        return {Slot.TICKET_SCREENSHOTS: None}


def _summary_values(tracker: Tracker) -> Dict[str, str]:
    steps = tracker.get_slot(Slot.TICKET_STEPS_TRIED) or []
    shots = tracker.get_slot(Slot.TICKET_SCREENSHOTS) or []
    return {
        "contact": tracker.get_slot(Slot.TICKET_CONTACT) or "-",
        "description": tracker.get_slot(Slot.TICKET_DESCRIPTION) or "-",
        "error_message": tracker.get_slot(Slot.TICKET_ERROR_MESSAGE) or "-",
        "steps": "; ".join(steps) if isinstance(steps, list) else str(steps),
        "device": tracker.get_slot(Slot.TICKET_DEVICE) or "-",
        "browser_version": tracker.get_slot(Slot.TICKET_BROWSER_VERSION) or "-",
        "screenshots": f"{len(shots)} attached" if shots else "none",
    }


class ActionTicketSummary(Action):
    """Show the whole ticket and ask to send, change or cancel it."""

    def name(self) -> Text:
        return "action_ticket_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_ticket_summary", **_summary_values(tracker))
        return [SlotSet(Slot.PENDING, Pending.TICKET_CONFIRM)]


def build_draft(tracker: Tracker) -> TicketDraft:
    contact = tracker.get_slot(Slot.TICKET_CONTACT) or ""
    email = contact if "@" in contact else None
    phone = None if email else (contact or None)
    shots = [
        ScreenshotDraft(
            source=str(s.get("source") or "chat"),
            location=str(s["location"]),
            file_name=s.get("file_name"),
            mime_type=s.get("mime_type"),
            size_bytes=s.get("size_bytes") if isinstance(s.get("size_bytes"), int) else None,
        )
        for s in (tracker.get_slot(Slot.TICKET_SCREENSHOTS) or [])
        if isinstance(s, dict) and s.get("location")
    ]
    steps = tracker.get_slot(Slot.TICKET_STEPS_TRIED) or []
    return TicketDraft(
        email=email,
        phone=phone,
        description=tracker.get_slot(Slot.TICKET_DESCRIPTION) or "",
        error_message=tracker.get_slot(Slot.TICKET_ERROR_MESSAGE),
        steps_tried=list(steps) if isinstance(steps, list) else [str(steps)],
        device=tracker.get_slot(Slot.TICKET_DEVICE),
        browser_version=tracker.get_slot(Slot.TICKET_BROWSER_VERSION),
        screenshots=shots,
        category=tracker.get_slot(Slot.BRANCH) or "general",
        channel=tracker.get_latest_input_channel() or "unknown",
        conversation_id=tracker.sender_id,
    )


def _after_filing(reference: str) -> List[EventType]:
    return _cleared_ticket() + [
        SlotSet(Slot.TICKET_LAST_REF, reference),
        SlotSet(Slot.PENDING, None),
        SlotSet(Slot.BRANCH, None),
        SlotSet(Slot.PLAN, None),
        SlotSet(Slot.STEP, -1.0),
        SlotSet(Slot.STEPS_TRIED, []),
    ]


class ActionTicketSubmit(Action):
    """Store the confirmed ticket, or add it to the contact's open ticket."""

    def name(self) -> Text:
        return "action_ticket_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        service = ticket_service()
        draft = build_draft(tracker)
        contact = tracker.get_slot(Slot.TICKET_CONTACT)
        if tracker.get_slot(Slot.PENDING) == Pending.TICKET_DUPLICATE:
            reference = tracker.get_slot(Slot.TICKET_DUPLICATE_REF)
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent == "affirm" and reference:
                return await self._add_to(dispatcher, service, reference, draft, contact)
            return await self._create(dispatcher, service, draft, contact)
        try:
            open_tickets = await service.find_open_for_contact(email=draft.email, phone=draft.phone)
        except Exception as error:  # the duplicate check must never block filing
            logger.warning("duplicate check failed: %s", error)
            open_tickets = []
        if open_tickets:
            reference = open_tickets[0].reference
            dispatcher.utter_message(response="utter_ticket_duplicate_offer", reference=reference)
            return [SlotSet(Slot.PENDING, Pending.TICKET_DUPLICATE), SlotSet(Slot.TICKET_DUPLICATE_REF, reference)]
        return await self._create(dispatcher, service, draft, contact)

    async def _create(self, dispatcher, service, draft, contact) -> List[EventType]:
        result = await service.create(draft)
        response = "utter_ticket_created" if result.stored else "utter_ticket_queued"
        dispatcher.utter_message(response=response, reference=result.reference, contact=contact)
        return _after_filing(result.reference)

    async def _add_to(self, dispatcher, service, reference, draft, contact) -> List[EventType]:
        try:
            await service.append_details(reference, draft)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            # Keep the details: file them as a ticket that points at the original;
            # the service spools it until the database is back.
            draft.description = f"Further details for {reference}: {draft.description}"
            return await self._create(dispatcher, service, draft, contact)
        dispatcher.utter_message(response="utter_ticket_updated", reference=reference, contact=contact)
        return _after_filing(reference)


class ActionTicketChange(Action):
    """Clear the field the customer wants to change so the form asks it again."""

    def name(self) -> Text:
        return "action_ticket_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        editing = {Pending.TICKET_CONFIRM, Pending.TICKET_CHANGE_FIELD, Pending.TICKET_EDITING}
        pending = tracker.get_slot(Slot.PENDING)
        if pending not in editing and not form_was_active(tracker, "ticket_form"):
            text = tracker.latest_message.get("text") or ""
            if pending == Pending.STEP_FEEDBACK and not _CHANGE_WORDS.search(text):
                # "im sure its the right email" to a step: an answer to it, not a ticket to edit.
                return hand_back(tracker, domain, "still_broken")
            # "change the email to ..." with no ticket on screen: say what can be done instead.
            sent = tracker.get_slot(Slot.TICKET_LAST_REF)
            if sent:
                dispatcher.utter_message(response="utter_ticket_already_sent", reference=sent)
            else:
                dispatcher.utter_message(response="utter_no_ticket_to_change")
            resume = resume_question(tracker)
            if resume is not None:
                dispatcher.utter_message(response=resume)
            return [SlotSet(Slot.TICKET_FIELD, None)]
        fields = ticket_fields()
        field = tracker.get_slot(Slot.TICKET_FIELD)
        if field not in fields:
            words = set(re.findall(r"[a-z]+", (tracker.latest_message.get("text") or "").lower()))
            matches = [f for f, spec in fields.items() if words & set(spec["keywords"])]
            field = matches[0] if len(matches) == 1 else None
        if field is None:
            buttons = [
                {"title": spec["label"], "payload": "/ticket_change" + json.dumps({"ticket_field": name})}
                for name, spec in fields.items()
            ] + [{"title": "Cancel the ticket", "payload": "/cancel"}]
            dispatcher.utter_message(response="utter_ask_ticket_field", buttons=buttons)
            return [SlotSet(Slot.TICKET_FIELD, None), SlotSet(Slot.PENDING, Pending.TICKET_CHANGE_FIELD)]
        events: List[EventType] = [SlotSet(field, None), SlotSet(Slot.TICKET_FIELD, None)]
        if field == Slot.TICKET_CONTACT:
            events.append(SlotSet(Slot.TICKET_CONTACT_ATTEMPTS, 0.0))
        return events + [SlotSet(Slot.PENDING, Pending.TICKET_EDITING)]


def form_was_active(tracker: Tracker, form: str) -> bool:
    """Whether ``form`` was active when the latest message came (the cancel rule
    deactivates it before this action runs)."""
    if tracker.active_loop_name == form:
        return True
    seen_user = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "active_loop":
            return event.get("name") == form
    return False


class ActionTicketCancel(Action):
    """Drop the ticket being gathered; nothing is stored."""

    def name(self) -> Text:
        return "action_ticket_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        gathering = form_was_active(tracker, "ticket_form") or tracker.get_slot(Slot.PENDING) in {
            Pending.TICKET_OFFER, Pending.TICKET_CONFIRM, Pending.TICKET_DUPLICATE,
            Pending.TICKET_CHANGE_FIELD, Pending.TICKET_EDITING,
        } or any(tracker.get_slot(slot) for slot in ticket_fields())
        dispatcher.utter_message(response="utter_ticket_cancelled" if gathering else "utter_nothing_to_cancel")
        return _cleared_ticket() + [SlotSet(Slot.PENDING, None)]


class ActionTicketSolved(Action):
    """"It works now" typed while the ticket is gathered: no ticket is needed. Only when
    the words say so; a message the classifier alone reads as solved ("it worked once,
    then the same error") is handed back to the form as an answer."""

    def name(self) -> Text:
        return "action_ticket_solved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if step_answer(text) != "problem_solved" and not says("logged_in", text):
            # The form's text mappings skip a message read as solved (domain.yml, not_an_answer).
            asked = tracker.get_slot(RasaSlot.REQUESTED_SLOT)
            mappings = ((domain.get("slots") or {}).get(asked) or {}).get("mappings") or []
            typed = any(m.get("type") == "from_text" for m in mappings)
            return hand_back(tracker, domain, "inform") + ([SlotSet(asked, text)] if typed else [])
        dispatcher.utter_message(response="utter_ticket_not_needed")
        dispatcher.utter_message(response="utter_anything_else")
        return ([ActiveLoop(None), SlotSet(RasaSlot.REQUESTED_SLOT, None)] + _cleared_ticket()
                + [SlotSet(Slot.PENDING, None)])


class ActionTicketStatus(Action):
    """Tell a ticket's status, only to its own conversation or to its contact."""

    def name(self) -> Text:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        typed = next(tracker.get_latest_entity_values("ticket_ref"), None)
        asked = tracker.get_slot(Slot.PENDING) == Pending.TICKET_REF_NEEDED
        if typed is None and asked and latest_intent(tracker) == "deny":
            # "i dont have it": where the answer will come from instead.
            dispatcher.utter_message(response="utter_ticket_ref_missing")
            return [SlotSet(Slot.PENDING, None)]
        if typed is None and asked:
            typed = (message.get("text") or "").strip() or None
        if typed is None:
            typed = tracker.get_slot(Slot.TICKET_LAST_REF)  # "my ticket": the one filed here
        if typed is None:
            dispatcher.utter_message(response="utter_ask_ticket_ref")
            return [SlotSet(Slot.PENDING, Pending.TICKET_REF_NEEDED)]
        reference = normalise_reference(str(typed))
        if reference is None:
            dispatcher.utter_message(response="utter_ticket_ref_invalid", ref=str(typed)[:40])
            dispatcher.utter_message(response="utter_ask_ticket_ref")
            return [SlotSet(Slot.PENDING, Pending.TICKET_REF_NEEDED)]
        contact = next(tracker.get_latest_entity_values("email"), None) or next(
            tracker.get_latest_entity_values("phone"), None
        )
        try:
            view = await ticket_service().status_for(
                reference, conversation_id=tracker.sender_id, contact=contact
            )
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            dispatcher.utter_message(response="utter_ticket_status_unavailable")
            return [SlotSet(Slot.PENDING, None)]
        if view is None:
            dispatcher.utter_message(response="utter_ticket_not_found", reference=reference)
        else:
            dispatcher.utter_message(
                response="utter_ticket_status",
                reference=view.reference,
                status_text=STATUS_TEXT.get(view.status, view.status),
                updated=view.updated_at.strftime("%d %b %Y %H:%M UTC"),
            )
        return [SlotSet(Slot.PENDING, None)]


class ActionScreenshotInForm(Action):
    """"no screenshot" or "i have a screenshot" while another question of the ticket
    waits: no screenshots noted (that question is then not asked), or how to send one.
    A sent file is attached by the form itself (extract_ticket_screenshots)."""

    def name(self) -> Text:
        return "action_screenshot_in_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if screenshots_added(tracker, links=False) is not None:
            return []
        if says("no_screenshot", text):
            current = tracker.get_slot(Slot.TICKET_SCREENSHOTS)
            dispatcher.utter_message(response="utter_ticket_no_screenshots")
            return [SlotSet(Slot.TICKET_SCREENSHOTS, current if isinstance(current, list) else [])]
        dispatcher.utter_message(response="utter_ticket_screenshot_how")
        return []


class ActionScreenshotAtSummary(Action):
    """A screenshot sent (or one mentioned) at "Shall I send it?": attached to the
    ticket, or how to attach one; then the question again."""

    def name(self) -> Text:
        return "action_screenshot_at_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        shots = screenshots_added(tracker, links=True)
        events: List[EventType] = []
        if shots is not None:
            dispatcher.utter_message(response="utter_ticket_screenshot_received", count=len(shots))
            events.append(SlotSet(Slot.TICKET_SCREENSHOTS, shots))
        elif says("no_screenshot", text):
            dispatcher.utter_message(response="utter_ticket_no_screenshots")
        else:
            dispatcher.utter_message(response="utter_ticket_screenshot_how")
        dispatcher.utter_message(response="utter_resume_ticket_confirm")
        return events
