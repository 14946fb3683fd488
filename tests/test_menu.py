"""Detours: a short answer and the pending question again, or the full answer."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.menu import ActionDetour
from tests.conftest import make_tracker, responses


async def said(intent, pending=None):
    dispatcher = CollectingDispatcher()
    await ActionDetour().run(dispatcher, make_tracker(slots={"pending": pending}, intent=intent), {})
    return responses(dispatcher)


@pytest.mark.parametrize("intent, full", [
    ("out_of_scope", "utter_out_of_scope"), ("bot_challenge", "utter_iamabot"), ("thanks", "utter_youre_welcome"),
    ("capabilities", "utter_capabilities"), ("greet", "utter_greet"),
])
async def test_outside_a_question_the_full_answer(intent, full):
    assert await said(intent) == [full]


@pytest.mark.parametrize("intent, pending, expected", [
    ("out_of_scope", "step_feedback", ["utter_out_of_scope_brief", "utter_resume_step"]),
    ("bot_challenge", "ticket_offer", ["utter_iamabot", "utter_resume_ticket_offer"]),
    ("thanks", "ticket_confirm", ["utter_youre_welcome_brief", "utter_resume_ticket_confirm"]),
    ("capabilities", "browser_choice", ["utter_capabilities_brief", "utter_ask_browser"]),
    ("greet", "step_feedback", ["utter_resume_step"]),
])
async def test_in_the_middle_of_a_question_a_short_answer_and_the_question_again(intent, pending, expected):
    assert await said(intent, pending) == expected


async def test_an_off_topic_reading_that_answers_the_step_goes_on_with_the_branch():
    dispatcher = CollectingDispatcher()
    slots = {"branch": "account_locked", "plan": ["lock_explained", "lock_verification"], "step": 0.0,
             "pending": "step_feedback"}
    await ActionDetour().run(dispatcher, make_tracker(slots=slots, intent="out_of_scope", text="no mail from coinex"), {})
    assert responses(dispatcher) == ["utter_step_lock_verification", "utter_ask_hand_over"]


APP_UPDATE = {"branch": "app", "plan": ["official_app", "force_close", "update_app", "reinstall_app"], "step": 2.0,
              "pending": "step_feedback", "steps_tried": []}
OUTAGE = {"branch": "outage", "plan": ["status_page", "downdetector"], "step": 0.0, "pending": "step_feedback"}


async def detour(slots, intent, text, events=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent=intent, text=text)
    tracker.events = events or []
    result = await ActionDetour().run(dispatcher, tracker, {})
    return responses(dispatcher), {e["name"]: e["value"] for e in result if e.get("event") == "slot"}


@pytest.mark.parametrize("intent, text", [
    ("thanks", "thanks that helped"), ("thanks", "thank you, that worked"), ("thanks", "thx its fixed"),
    ("thanks", "yes thanks"), ("greet", "hi again, it works now"),
])
async def test_a_detour_saying_the_step_worked_closes_the_case(intent, text):
    said, state = await detour(APP_UPDATE, intent, text)
    assert said == ["utter_problem_solved", "utter_anything_else"] and state["pending"] is None


async def test_thanks_saying_the_step_failed_gives_the_next_step():
    said, _ = await detour(APP_UPDATE, "thanks", "thanks, but no luck")
    assert said == ["utter_step_reinstall_app", "utter_did_that_help"]


@pytest.mark.parametrize("intent, text, expected", [
    ("thanks", "thank you", ["utter_welcome_try_step"]),
    ("thanks", "ok thanks", ["utter_welcome_try_step"]),  # may only acknowledge the step
    ("bot_challenge", "are you a bot? is this not working?", ["utter_iamabot", "utter_resume_step"]),
    ("goodbye", "no thanks, bye", ["utter_goodbye"]),
])
async def test_a_detour_saying_nothing_about_the_step_resumes_it(intent, text, expected):
    said, _ = await detour(APP_UPDATE, intent, text)
    assert said == expected


@pytest.mark.parametrize("intent, text", [("goodbye", "ok i'll wait and try later"), ("affirm", "ok I will wait")])
async def test_waiting_after_the_outage_step_closes_the_case_politely(intent, text):
    said, state = await detour(OUTAGE, intent, text)
    assert said == ["utter_wait_for_fix"] and state["pending"] is None and state["branch"] is None


async def test_an_outage_seen_is_named_as_such_not_a_ticket():
    said, state = await detour(OUTAGE, "out_of_scope", "downdetector shows lots of reports")
    assert said == ["utter_outage_likely"] and state["pending"] is None


async def test_a_documents_question_in_the_kyc_branch_is_answered_in_place():
    slots = {"branch": "kyc", "plan": ["kyc_levels", "kyc_review"], "step": 0.0, "pending": "step_feedback"}
    said, state = await detour(slots, "capabilities", "what documents do you need")
    assert said == ["utter_verification_documents", "utter_did_that_help"] and state == {}


@pytest.mark.parametrize("intent, text, last, expected", [
    ("affirm", "yes", None, "utter_ask_how_to_help"),
    ("deny", "no", None, "utter_ask_how_to_help"),
    ("affirm", "yes", "utter_anything_else", "utter_ask_how_to_help"),
    ("deny", "no thanks", "utter_anything_else", "utter_goodbye"),
])
async def test_yes_or_no_with_nothing_pending_gets_a_short_answer(intent, text, last, expected):
    events = [{"event": "bot", "text": "...", "metadata": {"utter_action": last}}] if last else []
    said, _ = await detour({"pending": None}, intent, text, events)
    assert said == [expected]
