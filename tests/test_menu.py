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
    ("thanks", "ticket_confirm", ["utter_youre_welcome", "utter_resume_ticket_confirm"]),
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
    assert responses(dispatcher) == ["utter_step_lock_verification", "utter_did_that_help"]
