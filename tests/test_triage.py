"""The triage asks only what changes the route."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.triage import ValidateTriageForm
from tests.conftest import make_tracker

SLOTS = ["triage_symptom", "platform", "uses_2fa"]


async def required(slots, metadata=None):
    tracker = make_tracker(slots=slots, metadata=metadata, active_loop="triage_form")
    return await ValidateTriageForm().required_slots(SLOTS, CollectingDispatcher(), tracker, {})


async def test_first_question_is_what_the_screen_says():
    assert await required({}) == ["triage_symptom"]


async def test_no_message_asks_platform_and_2fa():
    assert await required({"triage_symptom": "none"}) == ["triage_symptom", "platform", "uses_2fa"]


async def test_known_platform_is_not_asked_again():
    assert await required({"triage_symptom": "none", "platform": "web"}) == ["triage_symptom", "uses_2fa"]
    assert await required({"triage_symptom": "none", "device": "iPhone 14"}) == ["triage_symptom", "uses_2fa"]
    ua = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
    assert await required({"triage_symptom": "browser"}, {"user_agent": ua}) == ["triage_symptom"]


@pytest.mark.parametrize("symptom", ["account_locked", "credentials", "kyc", "phishing", "twofa_lost"])
async def test_specific_symptoms_need_no_more_questions(symptom):
    assert await required({"triage_symptom": symptom}) == ["triage_symptom"]


async def test_platform_answer_from_a_device_name():
    tracker = make_tracker(slots={"requested_slot": "platform", "device": "Samsung Galaxy S23"})
    extracted = await ValidateTriageForm().extract_platform(CollectingDispatcher(), tracker, {})
    assert extracted == {"platform": "android"}


def test_unknown_platform_is_re_asked():
    dispatcher = CollectingDispatcher()
    result = ValidateTriageForm().validate_platform("toaster", dispatcher, make_tracker(), {})
    assert result == {"platform": None}
    assert dispatcher.messages[0]["response"] == "utter_triage_rephrase"


async def test_a_device_answering_web_or_app_fills_the_platform():
    """Rasa rejects the form when the asked slot gets no value: the device must fill it."""
    from actions.triage import ValidateTriageForm
    from rasa_sdk.executor import CollectingDispatcher
    from tests.conftest import make_tracker

    tracker = make_tracker(slots={"triage_symptom": "none", "requested_slot": "platform", "device": "iphone"},
                           intent="inform", text="on my iphone", active_loop="triage_form",
                           entities=[{"entity": "device", "value": "iphone"}])
    events = await ValidateTriageForm().run(CollectingDispatcher(), tracker, {"slots": {}, "forms": {
        "triage_form": {"required_slots": ["triage_symptom", "platform", "uses_2fa"]}}})
    assert {"event": "slot", "timestamp": None, "name": "platform", "value": "ios"} in events
