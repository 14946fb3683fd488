"""Walking a branch of the guide: start it, move on when a step fails, close it.

The plan of the current branch lives in slots (``branch``, ``plan``, ``step``), so
every action here is a pure function of the tracker: any action-server replica
can serve the next message.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import live_agent, live_status, playbook
from actions.address_check import addresses_shown, say_verdicts
from actions.answers import says, step_answer, still_stuck, yes_no
from actions.channel_context import client_info, clock_skew_seconds, describe_skew, platform_from_device
from loginhelp.contract import BRANCH_QUESTIONS, RESPONSE_KEY, SENTENCE_INTENTS_KEY, Pending, Slot
from loginhelp.secret_detection import INTENT_BEFORE_SECRET_KEY, SHARE_SECRET_INTENT

CLOCK_SKEW_LIMIT_S = 30
DOMAIN_FILE = Path(__file__).resolve().parents[1] / "domain.yml"



def known_browser(tracker: Tracker) -> Optional[str]:
    """The browser the customer named, else the one their user agent reveals."""
    return tracker.get_slot(Slot.BROWSER) or client_info(tracker).browser


def known_platform(tracker: Tracker) -> Optional[str]:
    """web/android/ios from the customer's words, their device, the browser they named
    ("cant login on chrome": the website), or the user agent. A phone's kind (Android,
    iPhone) from the device or the user agent outweighs a phone named without it ("the
    app") and a browser (a phone's own, read off its user agent)."""
    said = tracker.get_slot(Slot.PLATFORM)
    if said and said != playbook.UNKNOWN_PHONE:
        return said
    agent = client_info(tracker).platform
    kind = platform_from_device(tracker.get_slot(Slot.DEVICE)) or agent
    if kind in playbook.load().platform_versions:
        return kind
    return said or kind or (playbook.WEB if tracker.get_slot(Slot.BROWSER) else None)


def platform_in_use(tracker: Tracker) -> Optional[str]:
    """The platform the customer is having the problem on, as far as it is sure: the one
    they named, or the website when all else says a computer. A phone (its device or user
    agent) does not say whether the app or the website fails."""
    said = tracker.get_slot(Slot.PLATFORM)
    if said:
        return known_platform(tracker)
    return playbook.WEB if known_platform(tracker) == playbook.WEB else None


def twofa_method(tracker: Tracker) -> Optional[str]:
    """How the customer gets 2FA codes: as the latest message names it, else as noted before."""
    text = (tracker.latest_message or {}).get("text") or ""
    return playbook.load().twofa_method_named(text) or tracker.get_slot(Slot.TWOFA_METHOD)


def present_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, branch: str, plan: List[str], index: int
) -> List[EventType]:
    """Explain step ``index`` of ``plan`` and ask if it helped; offer a ticket past the end."""
    book = playbook.load()
    events: List[EventType] = [
        SlotSet(Slot.BRANCH, branch),
        SlotSet(Slot.PLAN, plan),
        SlotSet(Slot.STEP, float(index)),
    ]
    method = twofa_method(tracker)
    if method != tracker.get_slot(Slot.TWOFA_METHOD):
        events.append(SlotSet(Slot.TWOFA_METHOD, method))
    if index >= len(plan):
        dispatcher.utter_message(response="utter_offer_ticket")
        if live_agent.agent_available(tracker):
            dispatcher.utter_message(response="utter_offer_live_agent")
        return events + [SlotSet(Slot.PENDING, Pending.TICKET_OFFER)]
    step = book.steps[plan[index]]
    check = live_status.latest() if step.checks_status else None
    if check is not None:
        told = live_status.say_status(dispatcher, check)
        if told == live_status.CLEAR:
            return present_step(dispatcher, tracker, branch, plan, index + 1)
        if told == live_status.PROBLEM:
            dispatcher.utter_message(response="utter_did_that_help")
            return events + [SlotSet(Slot.PENDING, Pending.STEP_FEEDBACK)]
    browser = known_browser(tracker)
    response = book.response_for(step, browser, known_platform(tracker))
    if response is not None and step.if_needed and step.said_needed(tracker.latest_message.get("text") or ""):
        # "i typed my password on coinex-secure-login.com": no need to ask whether it concerns them.
        response = step.if_needed
    if response is None:
        dispatcher.utter_message(response="utter_ask_browser")
        return events + [SlotSet(Slot.PENDING, Pending.BROWSER_CHOICE)]
    dispatcher.utter_message(response=response)
    if step.hands_over:
        # The step is to go to support: what to ask next is whether to write the ticket, not "Did that help?".
        dispatcher.utter_message(response="utter_ask_hand_over")
        return events + [SlotSet(Slot.STEP, float(len(plan))), SlotSet(Slot.PENDING, Pending.TICKET_OFFER)]
    if step.check_clock:
        skew = clock_skew_seconds(tracker)
        if skew is not None and abs(skew) > CLOCK_SKEW_LIMIT_S:
            dispatcher.utter_message(response="utter_clock_skew", skew=describe_skew(skew))
    dispatcher.utter_message(response="utter_did_that_help")
    if browser and not tracker.get_slot(Slot.BROWSER):
        events.append(SlotSet(Slot.BROWSER, browser))
    return events + [SlotSet(Slot.PENDING, Pending.STEP_FEEDBACK)]


# A secret confuses the classifier; what it ranks first besides is taken from this confidence.
MIN_CONFIDENCE_BESIDE_SECRET = 0.15


def latest_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the latest message; under ``share_secret``, what the rest of it asked."""
    message = tracker.latest_message or {}
    name = (message.get("intent") or {}).get("name")
    if name != SHARE_SECRET_INTENT:
        return name
    before = (message.get(INTENT_BEFORE_SECRET_KEY) or {}).get("name")
    if before and before != "nlu_fallback":
        return before
    for entry in message.get("intent_ranking") or []:
        if entry.get("name") not in (SHARE_SECRET_INTENT, "nlu_fallback"):
            return entry["name"] if entry.get("confidence", 0.0) >= MIN_CONFIDENCE_BESIDE_SECRET else name
    return name


# A problem the classifier ranks beside a vague "I can't log in" with this much is the symptom.
MIN_SYMPTOM_CONFIDENCE = 0.25
# A problem ranked second by this much, named beside a step said done that moves on to it,
# is where an opening message goes ("wrong password, but I just reset it").
MIN_ONWARD_CONFIDENCE = 0.1
MIN_ONWARD_SENTENCE_CONFIDENCE = 0.5
# A sentence of a long vague message names the symptom when the classifier is this sure of it.
MIN_SENTENCE_SYMPTOM_CONFIDENCE = 0.7


def symptom_beside(tracker: Tracker) -> Optional[str]:
    """The problem a vague login message also names, when the classifier gives it weight,
    in the whole message or, surely, in one of its sentences ("Good morning. I've tried
    since yesterday on Firefox. The page just reloads.")."""
    branch_intents = playbook.load().branch_for_intent
    message = tracker.latest_message or {}
    for entry in message.get("intent_ranking") or []:
        if entry.get("name") in branch_intents and float(entry.get("confidence") or 0.0) >= MIN_SYMPTOM_CONFIDENCE:
            return entry["name"]
    return sentence_problem(tracker, MIN_SENTENCE_SYMPTOM_CONFIDENCE)


def sentence_problem(tracker: Tracker, minimum: float) -> Optional[str]:
    """The problem one sentence of the latest message names with at least ``minimum``
    confidence (the surest, if several do)."""
    branch_intents = playbook.load().branch_for_intent
    named = [(float(s.get("confidence") or 0.0), s["name"])
             for s in (tracker.latest_message or {}).get(SENTENCE_INTENTS_KEY) or []
             if s.get("name") in branch_intents and float(s.get("confidence") or 0.0) >= minimum]
    return max(named)[1] if named else None


def last_response(tracker: Tracker) -> Optional[str]:
    """The response the assistant sent last (before the latest message)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get(RESPONSE_KEY)
    return None


def twofa_kind_answered(tracker: Tracker) -> Optional[str]:
    """The 2FA branch a short answer to "What's going wrong with 2FA?" picks ("rejected",
    "lost it"): however the classifier read it, the question was about 2FA."""
    text = (tracker.latest_message or {}).get("text") or ""
    if last_response(tracker) not in TWOFA_KIND_QUESTIONS or len(text.split()) > SHORT_ANSWER_WORDS:
        return None
    return "twofa_lost" if says("lost_access", text) else "twofa_code"


TWOFA_KIND_QUESTIONS = frozenset({"utter_ask_twofa_kind", "utter_ask_if_2fa_problem"})
# An answer to a question the assistant just asked is at most this long.
SHORT_ANSWER_WORDS = 4


def _step_index(tracker: Tracker) -> int:
    return int(tracker.get_slot(Slot.STEP) or 0)


def _next_untried(plan: List[str], start: int, tried: List[str], method: Optional[str] = None) -> int:
    """The first step from ``start`` on whose title is not among the steps tried and
    that fits the customer's way of getting 2FA codes."""
    book = playbook.load()
    index = start
    while index < len(plan) and (book.steps[plan[index]].listed_in(tried)
                                 or not book.steps[plan[index]].fits(method)):
        index += 1
    return index


def _with_titles(tried: List[str], steps: List[str], text: str = "") -> List[str]:
    """``tried`` with ``steps`` listed as ``text`` tells them (done, or not possible)."""
    book = playbook.load()
    return tried + [book.steps[sid].title_for(text) for sid in steps if not book.steps[sid].listed_in(tried)]


def open_branch(dispatcher: CollectingDispatcher, tracker: Tracker, branch: str,
                tried_before: Optional[List[str]] = None) -> List[EventType]:
    """Start ``branch`` from its first step the customer has not already done; every
    step they say they did (or ``tried_before``) is noted as tried and never explained."""
    book = playbook.load()
    plan = book.plan_on(branch, book.plan_for_branch(branch), platform_in_use(tracker))
    said = book.steps_said_done(tracker.latest_message.get("text") or "", plan)
    tried = _with_titles(list(tried_before or []), said, tracker.latest_message.get("text") or "")
    index = _next_untried(plan, 0, tried, twofa_method(tracker))
    named = book.steps_named(tracker.latest_message.get("text") or "", plan[index:])
    if named:  # "someone hacked my account": straight to the step for that
        index = plan.index(named[0])
    events: List[EventType] = []
    if branch == "phishing":
        # A warning about the address answers the check the first step would ask for:
        # straight on to what to do if details were typed there.
        verdicts = addresses_shown(tracker)
        events, warned = say_verdicts(dispatcher, tracker, verdicts)
        if verdicts and not warned:
            # Every address shown is CoinEx's: the verdict answers what the branch would check.
            dispatcher.utter_message(response="utter_anything_else")
            return events + _forget_diagnosis()
        warning_index = _after_warning_index(plan)
        if warned and warning_index is not None:
            index = max(index, warning_index)
    if index < len(plan) and any(sid in said and book.steps[sid].title in tried for sid in plan[:index]):
        # (a step skipped because it cannot be done, "no backup codes", was not "already tried")
        dispatcher.utter_message(response="utter_skip_tried")
    return events + [SlotSet(Slot.STEPS_TRIED, tried)] + present_step(dispatcher, tracker, branch, plan, index)


def named_before(tracker: Tracker, step: playbook.Step) -> bool:
    """Whether a message of the conversation named the problem ``step`` is for ("someone
    logged into my account, not me"): then "I didn't click any link" does not make it safe."""
    book = playbook.load()
    return any(event.get("event") == "user" and book.steps_named(event.get("text") or "", [step.id])
               for event in tracker.events or [])


def step_failed(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The step shown did not help: note it (and any the message says are done), and
    go on to the next step not yet tried."""
    book = playbook.load()
    branch = tracker.get_slot(Slot.BRANCH)
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    index = _step_index(tracker)
    if tracker.get_slot(Slot.PENDING) == Pending.TICKET_OFFER or index >= len(plan):
        last = book.steps[plan[-1]] if plan else None
        if last is not None and last.hands_over and says("asks_to_do", tracker.latest_message.get("text") or ""):
            # "how do i unfreeze it" at the offer after the step that sends to support: that is the answer.
            dispatcher.utter_message(response="utter_only_support_can")
            dispatcher.utter_message(response="utter_ask_hand_over")
            return []
        if tracker.get_slot(Slot.PENDING) == Pending.TICKET_OFFER and still_stuck(tracker.latest_message.get("text") or ""):
            # "still nothing" to the offer itself: understood, and the offer asked again briefly, not repeated.
            dispatcher.utter_message(response="utter_still_stuck_so_support")
            dispatcher.utter_message(response="utter_resume_ticket_offer")
            return []
        return present_step(dispatcher, tracker, branch, plan, len(plan))
    text = tracker.latest_message.get("text") or ""
    before = list(tracker.get_slot(Slot.STEPS_TRIED) or [])
    # "already cleared cache and cookies" while the connection is checked: the browser steps join.
    plan = book.joined_plan(branch, plan, index, text)
    # "yes, I'm in the official app": the steps ahead are the app's, not the website's.
    plan = book.plan_on(branch, plan, platform_in_use(tracker), index + 1)
    said = book.steps_said_done(text, plan[index + 1:])
    method = twofa_method(tracker)
    inferred: List[EventType] = []
    on_screen_methods = book.steps[plan[index]].methods
    if method is None and len(on_screen_methods) == 1 and book.steps_said_done(text, plan[index:index + 1]):
        # "my phone's time is automatic" to the clock step: codes from an authenticator,
        # so the step for SMS codes that never arrive is not the next one.
        method = next(iter(on_screen_methods))
        inferred = [SlotSet(Slot.TWOFA_METHOD, method)]
    # A step that turns out not to fit ("I use SMS codes" to the clock step) was not tried.
    shown = plan[index:index + 1] if book.steps[plan[index]].fits(method) else []
    tried = _with_titles(before, shown + said, text)
    next_index = _next_untried(plan, index + 1, tried, method)
    # "private window also blank": extensions are off there, so they are not the cause.
    while next_index < len(plan) and book.steps[plan[next_index]].said_ruled_out(text):
        next_index = _next_untried(plan, next_index + 1, tried, method)
    for sid in plan[index:next_index + 1]:
        step = book.steps[sid]
        if step.if_not_needed and step.said_not_needed(text) and not named_before(tracker, step):
            return [SlotSet(Slot.STEPS_TRIED, tried)] + close_case(dispatcher, step.if_not_needed)
    on_screen = book.steps[plan[index]]
    if (on_screen.if_needed and on_screen.said_needed(text) and not said and not says("still_failing", text)
            and not book.steps_said_done(text, plan[index:index + 1])):
        # "Oh no, I typed my password there" to the step for exactly that: do it now, not the next step.
        dispatcher.utter_message(response=on_screen.if_needed)
        dispatcher.utter_message(response="utter_did_that_help")
        return []
    if next_index < len(plan) and any(book.steps[sid].title in tried for sid in plan[index + 1:next_index]):
        dispatcher.utter_message(response="utter_skip_tried")
    elif next_index >= len(plan):
        plan, next_index = _gone_on(dispatcher, tracker, branch, plan, tried, method)
    return inferred + [SlotSet(Slot.STEPS_TRIED, tried)] + present_step(dispatcher, tracker, branch, plan, next_index)


def _gone_on(dispatcher: CollectingDispatcher, tracker: Tracker, branch: Optional[str], plan: List[str],
             tried: List[str], method: Optional[str]) -> Tuple[List[str], int]:
    """``plan`` with the steps of the branch it goes on with on the customer's platform
    (playbook ``goes_on``), and the index of the first of them not tried; the plan's end
    when there are none (then the ticket offer follows)."""
    book = playbook.load()
    platform = platform_in_use(tracker)
    going = book.going_on(branch or "", platform)
    if going is None or set(book.branches[going[0]]) & set(plan):
        return plan, len(plan)
    extended = plan + [sid for sid in book.plan_on(going[0], book.plan_for_branch(going[0]), platform)
                       if sid not in plan]
    index = _next_untried(extended, len(plan), tried, method)
    if index < len(extended):
        dispatcher.utter_message(response=going[1])
    return extended, index


def moving_on_intent(tracker: Tracker, places: int = 2, least: float = 0.3) -> Optional[str]:
    """A problem among the classifier's first ``places`` (with ``least`` confidence) whose
    branch the step on screen moves on to (playbook ``moves_on``), for an unclear message."""
    step = step_on_screen(tracker)
    if step is None:
        return None
    return _moved_on_to(step.id, _ranked(tracker)[:places], least)


# An off-topic reading this unsure, with the branch's own problem next, is about the branch.
BRANCH_BESIDE_OFF_TOPIC = 0.2


def branch_beside_off_topic(tracker: Tracker) -> Optional[str]:
    """The intent of the branch under way when an off-topic reading ranks it second
    ("how do i unfreeze it" in the lock branch: off-topic 0.67, a lock 0.26)."""
    ranked = _ranked(tracker)
    if not in_branch(tracker) or len(ranked) < 2 or ranked[0].get("name") != "out_of_scope":
        return None
    second = ranked[1]
    book = playbook.load()
    current = tracker.get_slot(Slot.BRANCH)
    branch = book.branch_for_intent.get(str(second.get("name")))
    if branch and second.get("confidence", 0.0) >= BRANCH_BESIDE_OFF_TOPIC and book.belongs_to(branch, current):
        return str(second["name"])
    return None


def _ranked(tracker: Tracker) -> List[Dict[str, Any]]:
    """The classifier's ranking of the latest message, without the fallback and the secret
    (which SecretGuard puts first whatever else the message says)."""
    return [e for e in (tracker.latest_message or {}).get("intent_ranking") or []
            if e.get("name") not in ("nlu_fallback", SHARE_SECRET_INTENT)]


def _moved_on_to(step_id: str, candidates: List[Dict[str, Any]], least: float) -> Optional[str]:
    """The first of ``candidates`` (``name``/``confidence`` entries), with ``least``
    confidence, whose branch step ``step_id`` moves on to (playbook ``moves_on``)."""
    book = playbook.load()
    for entry in candidates:
        branch = book.branch_for_intent.get(entry.get("name") or "")
        if branch in book.moves_on.get(step_id, frozenset()) and float(entry.get("confidence") or 0.0) >= least:
            return entry["name"]
    return None


def moved_on(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> Optional[List[EventType]]:
    """The branch the customer goes on with when the message names its problem after the
    step on screen (playbook ``moves_on``), the steps tried so far kept; None otherwise."""
    book = playbook.load()
    step = step_on_screen(tracker)
    branch = book.branch_for_intent.get(intent or "")
    current = tracker.get_slot(Slot.BRANCH)
    if step is not None and branch in (None, current) and step_on_screen_said_done(tracker):
        # "i reset it but it still says wrong password", read as the reset again: the step
        # is done, and the problem ranked next is where it moves on to.
        branch = book.branch_for_intent.get(moving_on_intent(tracker) or "")
    if step is None or branch is None or branch == current:
        return None
    if branch not in book.moves_on.get(step.id, frozenset()):
        return None
    tried = _with_titles(list(tracker.get_slot(Slot.STEPS_TRIED) or []), [step.id])
    return open_branch(dispatcher, tracker, branch, tried)


def step_on_screen_said_done(tracker: Tracker) -> bool:
    """Whether the latest message says the step on screen was done, or cannot be."""
    text = (tracker.latest_message or {}).get("text") or ""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    index = _step_index(tracker)
    return 0 <= index < len(plan) and bool(playbook.load().steps_said_done(text, plan[index:index + 1]))


def needed_after_plan(tracker: Tracker) -> Optional[str]:
    """At the ticket offer, the last step's "do it now" when the message says it concerns
    the customer after all ("i gave it to them" after the phishing step)."""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    if tracker.get_slot(Slot.PENDING) != Pending.TICKET_OFFER or not plan:
        return None
    step = playbook.load().steps[plan[-1]]
    text = (tracker.latest_message or {}).get("text") or ""
    return step.if_needed if step.if_needed and step.said_needed(text) else None


def needed_next(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """At a step, words saying the next step concerns the customer ("i gave it to them"
    after the warning about a scam call): that step now, in its do-it-now form."""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    index = _step_index(tracker)
    if tracker.get_slot(Slot.PENDING) != Pending.STEP_FEEDBACK or not 0 <= index < len(plan) - 1:
        return None
    upcoming = playbook.load().steps[plan[index + 1]]
    text = (tracker.latest_message or {}).get("text") or ""
    if not (upcoming.if_needed and upcoming.said_needed(text)):
        return None
    tried = _with_titles(list(tracker.get_slot(Slot.STEPS_TRIED) or []), plan[index:index + 1], text)
    return [SlotSet(Slot.STEPS_TRIED, tried)] + present_step(dispatcher, tracker, tracker.get_slot(Slot.BRANCH),
                                                             plan, index + 1)


def later_step_said_done(tracker: Tracker) -> bool:
    """Whether the latest message says a later step of the plan was done ("reinstalled too")."""
    text = (tracker.latest_message or {}).get("text") or ""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    return bool(playbook.load().steps_said_done(text, plan[_step_index(tracker) + 1:]))


def answer_to_step(tracker: Tracker) -> Optional[str]:
    """problem_solved or still_broken as the words of the latest message say, if
    they say: "I already did that" about the step on screen, or a later step said
    done, means it did not help, unless it says the customer is in ("changed my
    password, I'm back in")."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if step_found_answer(tracker):
        return "problem_solved"
    words = step_answer(text, message.get("intent_ranking") or ())
    step = step_on_screen(tracker)
    # A step whose success tells where the cause is ("private window works") worked when it works.
    solved = words == "problem_solved" and (says("logged_in", text) or (step is not None and bool(step.if_works)))
    if step_on_screen_said_done(tracker) and not solved:
        return "still_broken"  # "status page says all good": the step done, not the login fixed
    if words is None and later_step_said_done(tracker):
        return "still_broken"  # "reinstalled too": that step is done as well, and no better (step_failed skips it)
    return words


def step_found_answer(tracker: Tracker) -> bool:
    """The latest message says the step on screen found the answer ("found it in my
    gmail" to the step that searches the inboxes), and nothing still fails."""
    step = step_on_screen(tracker)
    text = (tracker.latest_message or {}).get("text") or ""
    return step is not None and step.said_solved(text) and not says("still_failing", text)


def step_on_screen(tracker: Tracker) -> Optional[playbook.Step]:
    """The step the customer was last asked to try, if a branch is under way."""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    index = _step_index(tracker)
    return playbook.load().steps[plan[index]] if 0 <= index < len(plan) else None


def step_affirmed(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """A yes to "Did that help?". It helped, unless it confirms the step was already
    done ("yes, from Google Play") or goes on to say it still fails ("yes i switched
    network, same"); a yes that asks for a ticket gets the ticket offer; a yes that asks
    for more ("yes please") is not "I'm in": the next step comes; a bare "ok" only
    acknowledges the step, and "yes cleared" or "ok i reset it" only says it was done,
    so the assistant asks whether it worked."""
    text = (tracker.latest_message or {}).get("text") or ""
    urgent = needed_next(dispatcher, tracker)
    if urgent is not None:  # "yes i called them" to the warning about a scam call
        return urgent
    step = step_on_screen(tracker)
    if step is not None and step.if_works and step_answer(text) == "problem_solved":
        return step_worked(dispatcher, tracker)  # "incognito works": said done, and it worked
    if says("just_did", text) and step_answer(text) is None and not says("still_failing", text):
        dispatcher.utter_message(response="utter_ask_step_result")  # "ok i reset it": done now, but did it help?
        return []
    if step_on_screen_said_done(tracker) or says("still_failing", text):
        return step_failed(dispatcher, tracker)
    if says("support", text):
        plan = list(tracker.get_slot(Slot.PLAN) or [])
        return present_step(dispatcher, tracker, tracker.get_slot(Slot.BRANCH), plan, len(plan))  # the ticket offer
    if says("request", text) and step_answer(text) != "problem_solved":
        return step_failed(dispatcher, tracker)
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    if says("did_it", text) or (playbook.load().steps_said_done(text, plan) and step_answer(text) is None):
        # "yes cleared", or "yes caps is off" about an earlier step: done, but did it help?
        dispatcher.utter_message(response="utter_ask_step_result")
        return []
    if says("acknowledge", text) or (says("will_try", text) and not says("will_wait", text)
                                      and step_answer(text) is None):
        dispatcher.utter_message(response="utter_ask_step_outcome")
        return []
    return step_worked(dispatcher, tracker)


# The question asked again after a short answer in the middle of it.
RESUME = {
    Pending.STEP_FEEDBACK: "utter_resume_step",
    Pending.BROWSER_CHOICE: "utter_ask_browser",
    Pending.TICKET_OFFER: "utter_resume_ticket_offer",
    Pending.TICKET_CONFIRM: "utter_resume_ticket_confirm",
}


def resume_question(tracker: Tracker) -> Optional[str]:
    """The response that asks the pending question again, if one is pending."""
    return RESUME.get(tracker.get_slot(Slot.PENDING) or "")


# Branches where "what documents do you need?" is answered in place: the guide lifts
# a lock with an ID photo and a selfie, and KYC asks for the same.
DOCUMENT_BRANCHES = frozenset({"kyc", "account_locked"})
# The questions after which the customer's words are read first (not inside the ticket form).
_READ_BY_WORDS = {None} | BRANCH_QUESTIONS


def outage_seen(text: str) -> bool:
    """The customer reports what the guide calls a confirmed outage ("downdetector shows
    lots of reports", "the status page says maintenance"): said, not asked, not denied,
    and not already over ("scheduled maintenance, it's back and I can log in")."""
    said = " ".join(playbook.statements(text))
    return (says("outage_seen", said) and not says("no_outage", said)
            and step_answer(text) != "problem_solved")


def settled_by_words(tracker: Tracker) -> Optional[str]:
    """What the words of the latest message settle, however the classifier read it:
    "outage" (the customer sees one: wait for CoinEx, no ticket yet), "wait" ("ok,
    I'll wait" to a step whose advice is to wait), "documents" (a question about the
    documents verification needs while a lock or KYC branch is under way),
    "lock_duration" (how long a lock lasts, asked in the lock branch), "support_time"
    (how long support takes, asked when support is what comes next), "what_next"
    ("ok so what now" at a step or the ticket offer), "start_over"
    ("start over", "menu": the diagnosis forgotten, the menu shown)."""
    if tracker.active_loop_name:
        return None
    pending = tracker.get_slot(Slot.PENDING)
    if pending not in _READ_BY_WORDS:
        return None
    text = (tracker.latest_message or {}).get("text") or ""
    if says("start_over", text):
        return "start_over"
    if outage_seen(text):
        return "outage"
    step = step_on_screen(tracker)
    if pending == Pending.STEP_FEEDBACK and step is not None and step.waits and says("will_wait", text):
        return "wait"
    if pending in {Pending.STEP_FEEDBACK, Pending.TICKET_OFFER}:
        branch = tracker.get_slot(Slot.BRANCH)
        if branch in DOCUMENT_BRANCHES and says("documents", text):
            return "documents"
        at_step = pending == Pending.STEP_FEEDBACK and step is not None
        if branch == "account_locked" and (says("lock_duration", text) or (at_step and says("how_long", text))):
            # A bare "how long?" at the lock step asks about the lock; at the ticket
            # offer, about support (below).
            return "lock_duration"
        if (branch == "kyc" and (at_step or says("about_review", text)) and says("how_long", text)
                and not says("support", text)):
            return "review_time"  # "how long does review take"
        if pending == Pending.TICKET_OFFER and says("how_long", text):
            return "support_time"  # "how long does a 2fa reset take" when support is what comes next
        if says("what_next", text):
            return "what_next"  # "ok so what now": what the step or the ticket is for
    return None


TWOFA_BRANCHES = frozenset({"twofa_code", "twofa_lost"})
# Questions answered in place, then the question pending is asked again.
QUESTIONS_ANSWERED = {"documents": "utter_verification_documents", "lock_duration": "utter_lock_duration",
                      "review_time": "utter_kyc_review_time",
                      "support_time": "utter_support_response_time", "what_next": "utter_ticket_what_next"}


# Words too common to show that a question is about the step.
_COMMON = frozenset({"your", "with", "that", "this", "what", "from", "have", "then", "again", "using", "newest",
                     "checked", "tried", "them", "there", "where", "which", "coinex", "password", "when", "will",
                     "into", "login", "about", "after", "before", "should", "would", "could", "they", "their",
                     "these", "those", "some", "just", "only", "also", "more", "most", "other", "than", "over",
                     "until", "each", "every", "it's", "don't", "can't", "like", "make", "sure", "first", "time",
                     "account", "help", "helped", "works", "work", "working", "here", "still"})


def asks_about_step(tracker: Tracker) -> bool:
    """A question that names something of the step on screen, in its title or in what it
    said ("what cache", "what do you mean caps lock", "what link?")."""
    text = ((tracker.latest_message or {}).get("text") or "").lower()
    step = step_on_screen(tracker)
    if step is None or not says("asks_about_step", text):
        return False
    if step_on_screen_said_done(tracker) or step_answer(text) is not None:
        return False  # "what backup codes?? never had any" answers the step
    words = step.title.lower() + " " + step_text(step.response)
    named = {w for w in re.findall(r"[a-z]{4,}", words) if w not in _COMMON}
    asked = {w for w in re.findall(r"[a-z]{4,}", text) if w not in _COMMON}
    return any(_same_word(a, n) for a in asked for n in named) or says("asks_meaning", text)


@lru_cache(maxsize=1)
def _responses() -> Dict[str, List[Dict[str, Any]]]:
    with DOMAIN_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("responses") or {}


def step_text(response: str) -> str:
    """What a step's response says, every variant of it (``utter_step_clear_cache_chrome``...), lower case."""
    return " ".join(str(variant.get("text") or "") for name, variants in _responses().items()
                    if name == response or name.startswith(response + "_") for variant in variants).lower()


def _same_word(one: str, other: str) -> bool:
    """One word is the other or another form of it ("link", "links"; "update", "updated")."""
    return one.startswith(other) or other.startswith(one)


def step_asked_about(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """What the step means (its ``explains`` response) or the step on screen again, when
    the message asks about it; None otherwise."""
    if tracker.get_slot(Slot.PENDING) != Pending.STEP_FEEDBACK or not asks_about_step(tracker):
        return None
    step = step_on_screen(tracker)
    if step is not None and step.explains:  # "what backup codes?": what they are, not the same words again
        dispatcher.utter_message(response=step.explains)
        dispatcher.utter_message(response="utter_did_that_help")
        return []
    dispatcher.utter_message(response="utter_step_again")
    return present_step_on_screen(dispatcher, tracker)


def names_fitting_method(tracker: Tracker) -> bool:
    """The message only says how the customer gets 2FA codes ("i use authy"), and the
    step on screen is the one for that way: a detail, not a result."""
    step = step_on_screen(tracker)
    text = (tracker.latest_message or {}).get("text") or ""
    method = playbook.load().twofa_method_named(text)
    return (tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK and step is not None and bool(step.methods)
            and not says("lost_access", text)  # "new phone, the authenticator is gone": lost 2FA
            and method is not None and step.fits(method) and step_answer(text) is None
            and not step_on_screen_said_done(tracker) and not says("still_failing", text)
            and not step_has_new_version(tracker))  # "google authenticator on my iphone": its iPhone version


def fits_problem(tracker: Tracker, branch: str, said_done: List[str]) -> bool:
    """The message names another branch's problem, and that branch starts at the step on
    screen ("i lost my phone" at the backup-codes step): the step is the answer, untried."""
    book = playbook.load()
    on_screen = step_on_screen(tracker)
    text = (tracker.latest_message or {}).get("text") or ""
    return (tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK and on_screen is not None
            and branch != tracker.get_slot(Slot.BRANCH) and book.branches.get(branch, ())[:1] == (on_screen.id,)
            and not said_done and step_answer(text) is None and not says("still_failing", text)
            and yes_no(text) is None and not addresses_shown(tracker)  # "yes its coinex.com": an answer
            and not step_on_screen_said_done(tracker))


def frustration_answered(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """"this is ridiculous", "you're not helping": an apology (at a step, with the way out
    to support), then the question that waits; None for other words, in a form, or when
    the words also say it works or ask for support."""
    text = (tracker.latest_message or {}).get("text") or ""
    if (tracker.active_loop_name or not says("frustrated", text) or says("worked", text)
            or says("support", text)):
        return None
    pending = tracker.get_slot(Slot.PENDING)
    at_step = pending in {Pending.STEP_FEEDBACK, Pending.BROWSER_CHOICE}
    dispatcher.utter_message(response="utter_sorry_frustrated_at_step" if at_step else "utter_sorry_frustrated")
    resume = resume_question(tracker)
    dispatcher.utter_message(response=resume or "utter_ask_how_to_help")
    return []


def read_by_words(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """Answer what the words settle (``settled_by_words``, a question about the step on
    screen, the way of getting 2FA codes the step is for), whatever the message was
    classified as; None when they settle nothing."""
    settled = settled_by_words(tracker)  # first: "what documents do you need" has its own answer
    if settled is None:
        again = step_asked_about(dispatcher, tracker)
        if again is not None:
            return again
    text = (tracker.latest_message or {}).get("text") or ""
    step = step_on_screen(tracker)
    if (tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK and step is not None
            and says("have_it", text) and "?" not in text and step_answer(text) is None
            and not says("still_failing", text)  # "i have backup codes, they dont work either"
            and not step_on_screen_said_done(tracker)):
        # "i have backup codes": what the step needs is at hand; it has yet to be tried.
        dispatcher.utter_message(response="utter_ask_step_outcome")
        return []
    if names_fitting_method(tracker):
        dispatcher.utter_message(response="utter_step_fits_method")
        dispatcher.utter_message(response="utter_did_that_help")
        return [SlotSet(Slot.TWOFA_METHOD, twofa_method(tracker))]
    if settled == "start_over":
        dispatcher.utter_message(response="utter_start_over")
        return _forget_diagnosis()
    if settled == "outage":
        dispatcher.utter_message(response="utter_outage_likely")
        return _forget_diagnosis()
    if settled == "wait":
        waiting = step_on_screen(tracker)
        dispatcher.utter_message(response=(waiting.waits if waiting else None) or "utter_wait_for_fix")
        return _forget_diagnosis()
    if settled == "what_next" and tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK:
        dispatcher.utter_message(response="utter_what_next_at_step")  # the step on screen is what's next
        return []
    if settled in QUESTIONS_ANSWERED:
        dispatcher.utter_message(response=QUESTIONS_ANSWERED[settled])
        asked_step = tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK
        dispatcher.utter_message(response="utter_did_that_help" if asked_step
                                 else "utter_resume_ticket_offer")
        return []
    return None


def in_branch(tracker: Tracker) -> bool:
    """A branch is under way: its steps were shown and not yet solved or filed."""
    return (bool(tracker.get_slot(Slot.BRANCH) and tracker.get_slot(Slot.PLAN))
            and tracker.get_slot(Slot.PENDING) in BRANCH_QUESTIONS)


def respond_to_problem(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[EventType]:
    """A message naming a problem, read in context. In a branch: words that say it
    worked close the case; a message about the branch (or a related one, or the
    step on screen), one that says steps of the plan are done, or one that says
    the step still fails continues it; anything else switches, saying so.
    Outside a branch it opens its branch."""
    read = read_by_words(dispatcher, tracker)
    if read is not None:
        return read
    book = playbook.load()
    branch = book.branch_for_intent.get(intent or "")
    if branch is None:
        dispatcher.utter_message(response="utter_no_active_problem")
        return [SlotSet(Slot.PENDING, None)]
    # "my account got hacked" reads like a lock: the words name the phishing branch's step for it.
    branch = twofa_kind_answered(tracker) or book.branch_naming(tracker.latest_message.get("text") or "") or branch
    if in_branch(tracker):
        current = tracker.get_slot(Slot.BRANCH)
        plan = list(tracker.get_slot(Slot.PLAN) or [])
        index = _step_index(tracker)
        on_screen = plan[index] if 0 <= index < len(plan) else None
        if answer_to_step(tracker) == "problem_solved":
            return step_worked(dispatcher, tracker)
        text = tracker.latest_message.get("text") or ""
        if (on_screen is not None and tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK
                and book.steps[on_screen].said_taken_up(text) and step_answer(text) is None):
            # "i signed up with my phone maybe" to the step that says to try the phone: try it, then tell.
            dispatcher.utter_message(response="utter_try_it")
            return []
        if branch == current == "phishing":
            verdicts = addresses_shown(tracker)
            if verdicts:
                return address_in_branch(dispatcher, tracker, verdicts)
        moving_on = moved_on(dispatcher, tracker, intent)
        if moving_on is not None:
            return moving_on
        if (says("just_did", text) and step_on_screen_said_done(tracker) and step_answer(text) is None
                and not says("still_failing", text)):
            # "ok done, changed password" to the step that says to change it: done now, but did it help?
            dispatcher.utter_message(response="utter_ask_step_result")
            return []
        later = book.steps_named(text, plan[index + 1:])
        if later:
            # "the email never arrives" at the reset step: that step's problem, not a 2FA code's.
            tried = _with_titles(list(tracker.get_slot(Slot.STEPS_TRIED) or []), plan[index:index + 1])
            return [SlotSet(Slot.STEPS_TRIED, tried)] + present_step(dispatcher, tracker, current, plan,
                                                                    plan.index(later[0]))
        # "i am on coinex.com": an earlier step of this branch, unless the message goes on to
        # another problem ("it's the official one. now it opens but my 2fa code is wrong").
        said_done = book.steps_said_done(text, plan) if not more_than_done(text, plan) else []
        # "I didn't type my password there" to the phishing step is about that step, not the password.
        about_step = on_screen is not None and (book.steps[on_screen].said_needed(text)
                                                or book.steps[on_screen].said_not_needed(text))
        # "no 2fa" at the lock step is an answer to that step, not a 2FA problem.
        no_twofa = branch in TWOFA_BRANCHES and says("no_2fa", text)
        # "i use sms, it comes but its rejected" in a 2FA branch: still 2FA, whatever else it reads like.
        names_method = current in TWOFA_BRANCHES and book.twofa_method_named(text) is not None
        joins = book.joined_plan(current, plan, index, text) != plan  # "already reinstalled the app"
        # "wifi is fine" at an app step: a step of the other branch done, and nothing more: this one goes on.
        theirs = book.plan_for_branch(branch) if branch in book.branches else []
        other_done = (branch != current and bool(book.steps_said_done(text, theirs))
                      and not more_than_done(text, theirs) and step_answer(text) != "problem_solved")
        if fits_problem(tracker, branch, said_done):
            # "i lost my phone" at the backup-codes step: the very case the step is for.
            dispatcher.utter_message(response="utter_step_fits_problem")
            dispatcher.utter_message(response="utter_did_that_help")
            return []
        if (book.belongs_to(branch, current) or on_screen in book.branches[branch] or said_done or about_step
                or no_twofa or names_method or joins or other_done or says("still_failing", text)):
            if tracker.get_slot(Slot.PENDING) == Pending.BROWSER_CHOICE:
                return present_step_on_screen(dispatcher, tracker)
            # "google authenticator on my iphone" to the clock step: its iPhone version, not the next step.
            if (step_has_new_version(tracker) and not says("still_failing", text)
                    and (on_screen is None or book.steps[on_screen].fits(twofa_method(tracker)))):
                return present_step(dispatcher, tracker, current, plan, index)
            return step_failed(dispatcher, tracker)
        dispatcher.utter_message(response="utter_switch_branch")
        return open_branch(dispatcher, tracker, branch)
    return open_first_branch(dispatcher, tracker, branch)


def open_first_branch(dispatcher: CollectingDispatcher, tracker: Tracker, branch: str) -> List[EventType]:
    """Open ``branch`` for the problem a conversation starts with. The platform the
    message names decides between the app's steps and the website's ("can't log in on
    the website, it just spins"); "whats 2fa" and a bare "2fa" ask which 2FA problem."""
    text = tracker.latest_message.get("text") or ""
    branch = playbook.load().for_platform(branch, next(tracker.get_latest_entity_values("platform"), None))
    if branch in TWOFA_BRANCHES and says("asks_what_2fa", text):
        dispatcher.utter_message(response="utter_what_is_2fa")
        dispatcher.utter_message(response="utter_ask_if_2fa_problem")
        return [SlotSet(Slot.PENDING, None)]
    if branch in TWOFA_BRANCHES and says("twofa_only", text):
        # Rejected codes and a lost 2FA device have different steps.
        dispatcher.utter_message(response="utter_ask_twofa_kind")
        return [SlotSet(Slot.PENDING, None)]
    onward = moved_on_at_opening(tracker, branch)
    if onward is not None:
        # "wrong password, but I just reset it yesterday": the reset is done, the wrong-password checks come.
        return open_branch(dispatcher, tracker, onward[0], _with_titles([], [onward[1]]))
    return open_branch(dispatcher, tracker, branch)


def moved_on_at_opening(tracker: Tracker, branch: str) -> Optional[Tuple[str, str]]:
    """The branch an opening message goes on to, with the step of ``branch`` it says is
    done, when that step moves on (playbook ``moves_on``) to a problem the classifier
    ranks second to ``branch``'s; None otherwise."""
    book = playbook.load()
    message = tracker.latest_message or {}
    # Its second problem, in the whole message's ranking or as a sentence of its own.
    candidates = _ranked(tracker)[:2] + [s for s in message.get(SENTENCE_INTENTS_KEY) or []
                                         if float(s.get("confidence") or 0.0) >= MIN_ONWARD_SENTENCE_CONFIDENCE]
    for sid in book.steps_said_done(message.get("text") or "", book.plan_for_branch(branch)):
        others = [c for c in candidates if book.branch_for_intent.get(c.get("name") or "") != branch]
        onward = _moved_on_to(sid, others, MIN_ONWARD_CONFIDENCE)
        if onward is not None:
            return book.branch_for_intent[onward], sid
    return None


def more_than_done(text: str, plan: List[str]) -> bool:
    """Whether ``text`` says steps of ``plan`` are done and then something else that is no
    answer to the step ("it's the official one. now it opens but my 2fa code is wrong")."""
    book = playbook.load()
    clauses = playbook.stated_clauses(text)
    done = [any(book.steps[sid].said_done(c) for sid in plan) for c in clauses]
    answers = ("affirm", "deny", "not_worked", "still_failing")
    return any(done) and any(not d and not any(says(kind, c) for kind in answers) for c, d in zip(clauses, done))


def _after_warning_index(plan: List[str]) -> Optional[int]:
    """Where in ``plan`` the step after a warning about an address is, if the plan has it."""
    after = playbook.load().after_address_warning
    return plan.index(after) if after in plan else None


def address_in_branch(dispatcher: CollectingDispatcher, tracker: Tracker, verdicts: List[Any]) -> List[EventType]:
    """Another address asked about in the phishing branch: its verdict, then the step for it
    (what to do if details were typed there, after a warning; the question again otherwise)."""
    events, warned = say_verdicts(dispatcher, tracker, verdicts)
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    warning_index = _after_warning_index(plan)
    if warned and warning_index is not None and _step_index(tracker) < warning_index:
        return events + present_step(dispatcher, tracker, tracker.get_slot(Slot.BRANCH), plan, warning_index)
    dispatcher.utter_message(response="utter_did_that_help")
    return events


SETUP_ENTITIES = {"platform", "device", "browser"}


def setup_entities(tracker: Tracker) -> set:
    """Platform, device or browser entities in the latest message."""
    entities = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
    return entities & SETUP_ENTITIES


def _slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """A slot's value as it was before the latest message set anything."""
    seen_user = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None if seen_user else tracker.get_slot(name)


def step_has_new_version(tracker: Tracker) -> bool:
    """Whether the platform, device or browser the latest message gave changes how the
    step on screen is explained (the iPhone version of the clock step)."""
    step = step_on_screen(tracker)
    if step is None or not setup_entities(tracker):
        return False
    if step.names_other_browser and "browser" in setup_entities(tracker):
        return False  # "firefox" at "try another browser": the one tried
    book = playbook.load()
    before = book.response_for(
        step,
        _slot_before_latest_message(tracker, Slot.BROWSER) or client_info(tracker).browser,
        _slot_before_latest_message(tracker, Slot.PLATFORM)
        or platform_from_device(_slot_before_latest_message(tracker, Slot.DEVICE))
        or client_info(tracker).platform,
    )
    now = book.response_for(step, known_browser(tracker), known_platform(tracker))
    return bool(now) and now != before


def present_step_on_screen(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The step on screen again (for the browser or platform now known, or asked about)."""
    plan = list(tracker.get_slot(Slot.PLAN) or [])
    return present_step(dispatcher, tracker, tracker.get_slot(Slot.BRANCH), plan, _step_index(tracker))


def detail_given(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """A platform, device or browser given after a step: the step for it, if it has one."""
    if step_has_new_version(tracker):
        return present_step_on_screen(dispatcher, tracker)
    dispatcher.utter_message(response="utter_noted")
    dispatcher.utter_message(response="utter_did_that_help")
    return []


class ActionStartBranch(Action):
    """Open the branch of the guide that the customer's message points to."""

    def name(self) -> Text:
        return "action_start_branch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        await live_status.refresh()
        return respond_to_problem(dispatcher, tracker, latest_intent(tracker))


class ActionContinueBranch(Action):
    """An answer to the step under way: it failed, or the browser or platform is now known."""

    def name(self) -> Text:
        return "action_continue_branch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        await live_status.refresh()
        read = read_by_words(dispatcher, tracker)
        if read is not None:
            return read
        book = playbook.load()
        branch = tracker.get_slot(Slot.BRANCH)
        plan = list(tracker.get_slot(Slot.PLAN) or [])
        if not branch or not plan:
            # "I already cleared the cache and still can't log in": the steps name the branch.
            text = tracker.latest_message.get("text") or ""
            for name, steps in book.branches.items():
                if book.steps_said_done(text, list(steps)):
                    return open_branch(dispatcher, tracker, name)
            dispatcher.utter_message(response="utter_no_active_problem")
            return []
        pending = tracker.get_slot(Slot.PENDING)
        if pending == Pending.BROWSER_CHOICE:
            return present_step_on_screen(dispatcher, tracker)
        answer = answer_to_step(tracker)
        if latest_intent(tracker) == "affirm" and pending == Pending.STEP_FEEDBACK:
            return step_affirmed(dispatcher, tracker)
        if latest_intent(tracker) == "inform" and pending == Pending.STEP_FEEDBACK and answer is None:
            if setup_entities(tracker):
                return detail_given(dispatcher, tracker)
            dispatcher.utter_message(response="utter_noted")
            dispatcher.utter_message(response="utter_did_that_help")
            return []
        if answer == "problem_solved" and pending == Pending.STEP_FEEDBACK:
            return step_worked(dispatcher, tracker)
        return step_failed(dispatcher, tracker)


class ActionRouteTriage(Action):
    """After the triage questions, open the branch that fits (basics first)."""

    def name(self) -> Text:
        return "action_route_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        await live_status.refresh()
        book = playbook.load()
        platform = known_platform(tracker)
        branch = book.branch_for_triage(tracker.get_slot(Slot.TRIAGE_SYMPTOM), platform)
        if branch == playbook.GENERAL_BRANCH:
            plan = book.general_plan(platform, tracker.get_slot(Slot.USES_2FA))
        else:
            plan = book.plan_for_branch(branch)
        # "i have 5g and wifi, both tried": steps the answers say are done are noted and skipped.
        text = (tracker.latest_message or {}).get("text") or ""
        said = book.steps_said_done(text, plan)
        tried = _with_titles([], said, text)
        index = _next_untried(plan, 0, tried, twofa_method(tracker))
        if index < len(plan) and any(book.steps[sid].title in tried for sid in said):
            dispatcher.utter_message(response="utter_skip_tried")
        reset = [SlotSet(Slot.TRIAGE_SYMPTOM, None), SlotSet(Slot.STEPS_TRIED, tried)]
        return reset + present_step(dispatcher, tracker, branch, plan, index)


def _forget_diagnosis() -> List[EventType]:
    return [
        SlotSet(Slot.BRANCH, None),
        SlotSet(Slot.PLAN, None),
        SlotSet(Slot.STEP, -1.0),
        SlotSet(Slot.PENDING, None),
        SlotSet(Slot.STEPS_TRIED, []),
    ]


def step_worked(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The step on screen worked: the case closes, with the step's own word when its
    success says where the cause is (playbook ``if_works``)."""
    step = step_on_screen(tracker) if in_branch(tracker) else None
    return close_case(dispatcher, (step.if_works if step else None) or "utter_problem_solved")


def close_case(dispatcher: CollectingDispatcher, response: str = "utter_problem_solved") -> List[EventType]:
    """Nothing more to do (the customer is back in, or their words make the next step
    pointless: "I didn't type anything there"): say ``response`` and forget the diagnosis."""
    dispatcher.utter_message(response=response)
    dispatcher.utter_message(response="utter_anything_else")
    return _forget_diagnosis()


class ActionStopSteps(Action):
    """A no to "Which browser are you using?": "no thanks, I'll wait" stops the steps
    here with the way back open; a bare "no" gets the question again, saying why."""

    def name(self) -> Text:
        return "action_stop_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if says("will_wait", text) or says("stops", text):
            return close_case(dispatcher, "utter_steps_stopped")
        dispatcher.utter_message(response="utter_browser_needed")
        return [SlotSet(Slot.PENDING, Pending.BROWSER_CHOICE)]


class ActionDeclineTicket(Action):
    """The customer does not want a ticket now; leave the door open."""

    def name(self) -> Text:
        return "action_decline_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_no_ticket")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet(Slot.PENDING, None)]
