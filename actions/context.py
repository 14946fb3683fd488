"""Reading an unclear answer by the question it answers.

When the classifier is unsure (``nlu_fallback``) while the assistant waits on a
question, the question narrows what the message can mean: after "Did that
help?" it worked, it did not, or it names the set-up; after "Shall I open a
ticket?" it is yes or no; in the triage it names a symptom, a platform or 2FA.
``action_read_in_context`` settles on that meaning and hands the message back to
the dialogue as if it had been classified so (the way Rasa's own two-stage
fallback hands back a clarified message), so the usual rules answer it. A
message that fits no answer gets "Sorry, I didn't quite get that" and the
pending question again (the help menu when no question is pending), and loses
nothing.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import live_status, playbook
from actions.address_check import suspicious_address_shown
from actions.answers import LEAD, says, step_answer, still_stuck, yes_no
from actions.branches import (
    SETUP_ENTITIES,
    answer_to_step,
    frustration_answered,
    in_branch,
    moving_on_intent,
    needed_after_plan,
    needed_next,
    resume_question,
    sentence_problem,
    settled_by_words,
    setup_entities,
    step_asked_about,
    step_on_screen,
    step_on_screen_said_done,
    step_worked,
    symptom_beside,
    twofa_kind_answered,
)
from loginhelp.contract import READ_IN_CONTEXT_KEY, Pending, RasaSlot, Slot

_TWOFA_INTENTS = {"twofa_code_rejected", "twofa_lost_access"}
YES_NO_QUESTIONS = {Pending.TICKET_OFFER, Pending.TICKET_CONFIRM, Pending.TICKET_DUPLICATE}
# A problem the classifier ranks first with at least this confidence is taken.
MIN_PROBLEM_CONFIDENCE = 0.2
# Opening a branch from an unclear first message asks for more.
MIN_OPENING_CONFIDENCE = 0.4
# A problem ranked this high outweighs words of doubt ("not sure, it says account locked").
SURE = 0.8
LOGIN_PROBLEM = "login_problem"


# Intents the classifier may half-see in an unclear message and that have their own answer mid-branch.
_DETOURS = {"out_of_scope", "bot_challenge", "capabilities", "support_wait_time"}
_CONTENDERS = {"contact_support"} | _DETOURS


# What words that settle a message's meaning (actions/branches.py) are handed back as;
# the action of that intent's rule answers them.
_SETTLED = {"outage": "outage_check", "wait": "goodbye", "documents": "kyc_verification",
            "lock_duration": "account_locked", "review_time": "kyc_verification", "start_over": "capabilities",
            "support_time": "support_wait_time", "what_next": "capabilities"}


def _top_problem(tracker: Tracker, least: float = MIN_PROBLEM_CONFIDENCE) -> Optional[str]:
    """The classifier's best login problem or detour, when it is a real contender:
    ranked first, confident enough, and clearly ahead of the runner-up."""
    problems = set(playbook.load().branch_for_intent) | _CONTENDERS
    ranking = _ranking(tracker)
    if not ranking or ranking[0].get("name") not in problems:
        return None
    first = ranking[0].get("confidence", 0.0)
    second = ranking[1].get("confidence", 0.0) if len(ranking) > 1 else 0.0
    return ranking[0]["name"] if first >= least and first >= LEAD * second else None


def _ranking(tracker: Tracker) -> List[Dict[str, Any]]:
    """The classifier's ranking of the latest message, best first, the fallback left out."""
    return [e for e in (tracker.latest_message or {}).get("intent_ranking") or []
            if e.get("name") != "nlu_fallback"]


def _ranked_among(tracker: Tracker, intent: str, places: int) -> bool:
    """``intent`` is among the classifier's first ``places`` intents (the fallback aside)."""
    return intent in [e.get("name") for e in _ranking(tracker)[:places]]


def _problem_of_this_branch(tracker: Tracker) -> Optional[str]:
    """The classifier's best problem, however close the runner-up, when it is about
    the branch under way: either way the branch goes on."""
    book = playbook.load()
    current = tracker.get_slot(Slot.BRANCH)
    ranking = _ranking(tracker)
    if not ranking:
        return None
    name = ranking[0].get("name")
    branch = book.branch_for_intent.get(name or "")
    if branch and ranking[0].get("confidence", 0.0) >= MIN_PROBLEM_CONFIDENCE and book.belongs_to(branch, current):
        return name
    return None


def _problem_named(tracker: Tracker, text: str) -> Optional[str]:
    """Outside any question: a branch its words open (playbook ``opens_at``), the
    branch whose steps the message says are done ("caps lock is off and I'm on the
    official site"), a clear contender (a problem, a request for support, or a detour
    such as "what do you do?"), or a vague login problem, also when only its words
    say so (with the symptom it names beside it, if it does)."""
    book = playbook.load()
    if book.branch_naming(text):
        # "i forgot the email I used": the words name a step that opens its branch
        # (action_start_branch goes there from any problem the classifier ranks).
        return next((e["name"] for e in _ranking(tracker) if e.get("name") in book.branch_for_intent), None)
    named = sentence_problem(tracker, SURE)
    if named is not None:
        # "Hello. I changed my phone. Now the authenticator codes are not accepted.": one
        # sentence names the problem surely, whatever the others half-say.
        return named
    for intent, branch in book.branch_for_intent.items():
        if book.steps_said_done(text, book.plan_for_branch(branch)):
            return intent
    ranking = _ranking(tracker)
    if ranking and ranking[0].get("name") == LOGIN_PROBLEM and ranking[0].get("confidence", 0.0) >= MIN_OPENING_CONFIDENCE:
        return symptom_beside(tracker) or LOGIN_PROBLEM
    top = _top_problem(tracker, MIN_OPENING_CONFIDENCE)
    if top is None and says("asks_if_real", text):
        return "bot_challenge"  # "hi is this the real coinex support?"
    if top is None and says("twofa_only", text):
        return "twofa_code_rejected"  # "two factor": a 2FA problem, the branch asks which
    if top is None and says("cannot_log_in", text):
        # "yo cant sign in, it keeps saying <something unclear>": a login problem all the same.
        return symptom_beside(tracker) or LOGIN_PROBLEM
    return top


def ticket_details(tracker: Tracker) -> set:
    """Entities of the latest message the ticket asks for: contact, device, platform, browser."""
    entities = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
    return entities & (SETUP_ENTITIES | {"email", "phone"})


def reading(tracker: Tracker) -> Optional[str]:
    """The intent an unclear message has in the current context, if any."""
    text = (tracker.latest_message or {}).get("text") or ""
    setup = setup_entities(tracker)
    # "someone on telegram @CoinExSupportDesk says they can unlock my account": a
    # possible scam, whatever else it half-says, at any question but the triage's own.
    suspicious = suspicious_address_shown(tracker)
    if tracker.active_loop_name == "triage_form":
        asked = tracker.get_slot(RasaSlot.REQUESTED_SLOT)
        if asked == Slot.TRIAGE_SYMPTOM and suspicious:
            return "phishing_check"
        if asked == Slot.TRIAGE_SYMPTOM:
            if playbook.load().only_platform_named(text):
                return "inform"  # "its the app not the website": where, not what (validate_triage_symptom)
            # "i dont know, no idea what is wrong": unsure, whatever problem the classifier half-sees in it.
            top = _top_problem(tracker)
            unsure = says("unsure", text) or yes_no(text) == "deny"
            if top is not None and not (unsure and _ranking(tracker)[0].get("confidence", 0.0) < SURE):
                return top
            return "deny" if unsure else None
        if asked == Slot.PLATFORM:
            named = setup or tracker.get_slot(Slot.PLATFORM) or playbook.load().platform_named(text)
            return "inform" if named else None
        if asked == Slot.USES_2FA:
            intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
            return "affirm" if intent in _TWOFA_INTENTS and yes_no(text) != "deny" else yes_no(text)
        return None
    if suspicious:
        return "phishing_check"
    settled = settled_by_words(tracker)
    if settled:
        return _SETTLED[settled]
    pending = tracker.get_slot(Slot.PENDING)
    if says("support", text) and pending not in {Pending.TICKET_CONFIRM, Pending.TICKET_DUPLICATE}:
        return "contact_support"
    kind = twofa_kind_answered(tracker) if pending is None else None
    if kind is not None:
        return playbook.load().intent_for(kind)
    if pending is None:
        # Nothing asked: a problem it names, a plain wish for help ("i need help": what the
        # assistant can do), else a plain yes or no ("ok I will wait").
        # An email, phone or device alone ("my email: dana.k@gmail.com") is a detail, not nonsense.
        return (_problem_named(tracker, text) or ("capabilities" if says("help_request", text) else yes_no(text))
                or ("inform" if ticket_details(tracker) else None))
    if pending == Pending.STEP_FEEDBACK:
        step = step_on_screen(tracker)
        if step is not None and ((step.if_needed and step.said_needed(text))
                                 or (step.if_not_needed and step.said_not_needed(text))):
            # "I clicked and typed my password" to the phishing step: an answer to that step.
            return "still_broken"
        moving = moving_on_intent(tracker)
        if moving is not None:
            # "i reset it but it still says wrong password" at the reset step: the wrong-password checks.
            return moving
        trying = says("will_try", text) and not says("will_wait", text)
        if (trying or says("just_did", text)) and step_answer(text) is None and not says("still_failing", text):
            # "i have them somewhere, let me look", "done, changed it": to be asked how it went.
            return "affirm"
        if step_answer(text) == "problem_solved" and _ranked_among(tracker, "problem_solved", 2):
            # "changed my password, I'm back in": the words say it worked and the
            # classifier half-agrees, whatever problem it ranks first.
            return "problem_solved"
        answer = answer_to_step(tracker)
        if answer == "still_broken" and step_on_screen_said_done(tracker):
            return answer
        top = _top_problem(tracker)
        if top == "contact_support":
            top = None  # a request for support says so in words (checked above), not only by a half-guess
        return (top or _problem_of_this_branch(tracker) or answer
                or ("inform" if setup else None) or yes_no(text))  # "ys": a yes the classifier missed
    if pending == Pending.TICKET_REF_NEEDED and any(c.isdigit() for c in text) and len(text.split()) <= 4:
        return "inform"  # "CX-12345": a reference, if not one of ours (the status action says so)
    if pending == Pending.BROWSER_CHOICE:
        return "inform" if "browser" in setup or says("unsure", text) else None
    if pending in YES_NO_QUESTIONS:
        # A clear yes or no answers the question; "I can sign in again now" ends it;
        # a detour the classifier half-saw gets its short answer and the question again.
        # At the ticket offer "ok, I'll wait" is a no, and a detail the ticket needs
        # ("iphone 13", an email) a yes.
        detour = _top_problem(tracker)
        at_offer = pending == Pending.TICKET_OFFER
        return (("deny" if at_offer and says("will_wait", text) else None)
                or ("affirm" if at_offer and says("asks_how", text) else None)  # "how do I do that?"
                or yes_no(text) or ("problem_solved" if step_answer(text) == "problem_solved" else None)
                or (detour if detour in _DETOURS else None)
                or ("affirm" if at_offer and ticket_details(tracker) else None))
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
    loop, asked = tracker.active_loop_name, tracker.get_slot(RasaSlot.REQUESTED_SLOT)
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
        await live_status.refresh()
        upset = frustration_answered(dispatcher, tracker)
        if upset is not None:  # "seriously??", "you are not helping"
            return upset + [UserUtteranceReverted()]
        intent = reading(tracker)
        classified = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == classified == "problem_solved":
            # Handing it back unchanged would come straight back here.
            return step_worked(dispatcher, tracker)
        again = step_asked_about(dispatcher, tracker) if intent is None else None
        if again is not None:  # "why would that matter": a question about the step
            return again
        now = needed_next(dispatcher, tracker) if intent is None else None
        if now is not None:  # "i gave it to them" at the warning about a scam call: what to do now
            return [UserUtteranceReverted()] + now
        urgent = needed_after_plan(tracker) if intent is None else None
        if urgent is not None:  # "i gave it to them" at the offer after the phishing step: what to do now
            dispatcher.utter_message(response=urgent)
            dispatcher.utter_message(response="utter_resume_ticket_offer")
            return [UserUtteranceReverted()]
        if intent is None or intent == classified:
            # While a question waits, say so briefly and ask it again; else the menu.
            resume = resume_question(tracker)
            asked = tracker.get_slot(RasaSlot.REQUESTED_SLOT)
            if tracker.active_loop_name == "triage_form" and asked:
                # "i tried both wifi and 5g" to "website or app?": the triage question again, not the menu.
                dispatcher.utter_message(response="utter_triage_rephrase")
                dispatcher.utter_message(response=f"utter_ask_{asked}")
            elif resume:
                text = (tracker.latest_message or {}).get("text") or ""
                at_offer = tracker.get_slot(Slot.PENDING) == Pending.TICKET_OFFER
                still = at_offer and still_stuck(text)
                # "resubmitted 3 times, still rejected" at the offer: understood, not "didn't get that".
                dispatcher.utter_message(response="utter_still_stuck_so_support" if still else "utter_rephrase_brief")
                dispatcher.utter_message(response=resume)
            else:
                dispatcher.utter_message(response="utter_default")
            return [UserUtteranceReverted()]
        asked_browser = tracker.get_slot(Slot.PENDING) == Pending.BROWSER_CHOICE
        if intent == "inform" and asked_browser and "browser" not in setup_entities(tracker):
            # "idk" to "which browser?": the steps worded for any browser.
            return hand_back(tracker, domain, intent) + [SlotSet(Slot.BROWSER, playbook.OTHER_BROWSER)]
        return hand_back(tracker, domain, intent)


def hand_back(tracker: Tracker, domain: Dict[Text, Any], intent: str) -> List[EventType]:
    """The latest message again, as if it had been classified ``intent``: the dialogue
    then answers it by that intent's rule (Rasa's two-stage fallback does the same)."""
    message = copy.deepcopy(tracker.latest_message or {})
    message["intent"] = {"name": intent, "confidence": 1.0}
    message[READ_IN_CONTEXT_KEY] = True
    for entity in message.get("entities") or []:
        if entity.get("confidence") is None:  # spaCy's entities have none; Rasa's schema wants a number
            entity.pop("confidence", None)
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


class ActionCloseCase(Action):
    """The customer is back in: say so and forget the diagnosis. Never when the words say
    the step failed ("rejected twice now" can read as solved): the message is handed back
    as a failed step, and the branch goes on."""

    def name(self) -> Text:
        return "action_close_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if in_branch(tracker) and step_answer(text) == "still_broken":
            return hand_back(tracker, domain, "still_broken")
        if in_branch(tracker) and says("in_a_place", text) and step_answer(text) is None:
            # "im in turkey": where the customer is, not "I'm in"; noted, and the question again.
            dispatcher.utter_message(response="utter_noted")
            resume = resume_question(tracker)
            if resume is not None:
                dispatcher.utter_message(response=resume)
            return [UserUtteranceReverted()]
        if in_branch(tracker) and step_answer(text) is None and (
                says("did_it", text) or says("will_try", text) or step_on_screen_said_done(tracker)):
            # "ok reinstalling now": a promise to try, not a result; a yes to "Did that help?" asks.
            # "cleared it": the step done, not the login fixed; read as a yes to "Did that help?", which asks.
            return hand_back(tracker, domain, "affirm")
        return step_worked(dispatcher, tracker)
