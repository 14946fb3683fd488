"""An unclear message is read by the question it answers (actions/context.py)."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.context import ActionReadInContext, reading
from tests.conftest import make_tracker, responses

STEP = {"branch": "forgot_password", "plan": ["reset_password", "reset_not_arriving", "check_url"],
        "step": 1.0, "pending": "step_feedback"}


def unsure(text, slots=None, entities=None, ranking=None, **kwargs):
    return make_tracker(slots=slots, intent="nlu_fallback", text=text, entities=entities,
                        intent_ranking=ranking or [{"name": "nlu_fallback", "confidence": 1.0}], **kwargs)


@pytest.mark.parametrize("text, intent", [
    ("nothing in spam either", "still_broken"),
    ("ok, no email from them though", "still_broken"),
    ("done, i'm in", "problem_solved"),
    ("yep its back and i can log in", "problem_solved"),
    ("hmm", None),
    ("i can log in now, no problem", None),  # both sides: not guessed
])
def test_after_a_step(text, intent):
    assert reading(unsure(text, STEP)) == intent


def test_the_step_on_screen_said_done_did_not_help():
    slots = {**STEP, "plan": ["twofa_time_sync", "twofa_code_delivery"], "step": 0.0}
    assert reading(unsure("time was already on automatic", slots)) == "still_broken"


def test_a_device_after_a_step_is_a_detail():
    assert reading(unsure("samsung a52", STEP, entities=[{"entity": "device", "value": "samsung"}])) == "inform"


def test_a_problem_the_classifier_half_saw_is_taken():
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "kyc_verification", "confidence": 0.41}]
    assert reading(unsure("where do i send my passport photo", STEP, ranking=ranking)) == "kyc_verification"


@pytest.mark.parametrize("pending, text, intent", [
    ("ticket_offer", "yes pls do that", "affirm"),
    ("ticket_offer", "not now", "deny"),
    ("ticket_confirm", "send it pls", "affirm"),
    ("ticket_duplicate", "nah", "deny"),
    ("ticket_confirm", "what?", None),
    ("ticket_offer", "ok I will wait", "deny"),  # waiting is not a yes to the ticket
    ("ticket_offer", "how do i do that", "affirm"),  # how to reach support: by the ticket
])
def test_yes_or_no_questions(pending, text, intent):
    assert reading(unsure(text, {"pending": pending})) == intent


def test_triage_symptom_not_sure_means_no_message():
    tracker = unsure("no idea, nothing happens", {"requested_slot": "triage_symptom"}, active_loop="triage_form")
    assert reading(tracker) == "deny"


async def test_the_reading_replaces_the_message_and_fills_the_form_slot(domain):
    tracker = unsure("no idea, nothing happens", {"requested_slot": "triage_symptom"}, active_loop="triage_form")
    tracker.events = [{"event": "user", "text": "no idea, nothing happens"},
                      {"event": "slot", "name": "device", "value": None}]
    dispatcher = CollectingDispatcher()
    events = await ActionReadInContext().run(dispatcher, tracker, domain)
    assert [e["event"] for e in events] == ["rewind", "action", "user", "slot", "slot"]
    assert events[2]["parse_data"]["intent"] == {"name": "deny", "confidence": 1.0}
    assert events[-1] == {"event": "slot", "timestamp": None, "name": "triage_symptom", "value": "none"}
    assert responses(dispatcher) == []


async def test_nothing_fits_asks_the_pending_question_again_and_forgets_the_message(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadInContext().run(dispatcher, unsure("hmm", STEP), domain)
    assert responses(dispatcher) == ["utter_rephrase_brief", "utter_resume_step"]
    assert [e["event"] for e in events] == ["rewind"]


async def test_nothing_fits_and_no_question_pending_gets_the_help_menu(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadInContext().run(dispatcher, unsure("hmm"), domain)
    assert responses(dispatcher) == ["utter_default"] and [e["event"] for e in events] == ["rewind"]


def test_a_detour_half_seen_at_the_summary_is_taken():
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "support_wait_time", "confidence": 0.45},
               {"name": "ticket_status", "confidence": 0.2}]
    tracker = unsure("how long do they need usually?", {"pending": "ticket_confirm"}, ranking=ranking)
    assert reading(tracker) == "support_wait_time"


async def test_the_replaced_message_passes_rasas_event_schema(domain):
    """spaCy's entities carry confidence None, which Rasa refuses in an event."""
    from rasa.shared.core.events import Event
    from rasa.core.actions.action import RemoteAction

    tracker = unsure("on my iphone", {"requested_slot": "platform"}, active_loop="triage_form",
                     entities=[{"entity": "device", "value": "iphone", "start": 6, "end": 12,
                                "confidence": None, "extractor": "SpacyEntityExtractor"}])
    events = await ActionReadInContext().run(CollectingDispatcher(), tracker, domain)
    RemoteAction("action_read_in_context", None)._validate_action_result({"events": events, "responses": []})
    assert Event.from_parameters(events[2]).intent_name == "inform"


async def test_it_works_at_the_ticket_offer_closes_the_case_without_a_loop(domain):
    tracker = make_tracker(slots={"pending": "ticket_offer", "branch": "browser", "plan": ["clear_cache"]},
                           intent="problem_solved", text="oh wait, i can sign in again now, all good")
    dispatcher = CollectingDispatcher()
    events = await ActionReadInContext().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_problem_solved", "utter_anything_else"]
    assert {"event": "slot", "timestamp": None, "name": "pending", "value": None} in events


async def test_yes_please_at_the_ticket_offer_is_a_yes(domain):
    tracker = make_tracker(slots={"pending": "ticket_offer"}, intent="problem_solved",
                           text="Yes please, I would like that.")
    events = await ActionReadInContext().run(CollectingDispatcher(), tracker, domain)
    assert events[2]["parse_data"]["intent"]["name"] == "affirm"


def test_a_problem_barely_ahead_of_another_reading_is_not_taken():
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "browser_issue", "confidence": 0.22},
               {"name": "still_broken", "confidence": 0.21}]
    tracker = unsure("not show any message, only not work", {"requested_slot": "triage_symptom"},
                     active_loop="triage_form", ranking=ranking)
    assert reading(tracker) == "deny"


def test_close_contenders_both_about_the_branch_under_way_continue_it():
    slots = {"branch": "phishing", "plan": ["check_url", "phishing_exposed"], "step": 0.0, "pending": "step_feedback"}
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "twofa_code_rejected", "confidence": 0.41},
               {"name": "phishing_check", "confidence": 0.34}]
    assert reading(unsure("i typed my password and a 2fa code on that page", slots, ranking=ranking)) == (
        "twofa_code_rejected")


def test_how_do_i_contact_them_after_the_last_step_is_a_request_for_support():
    slots = {"branch": "twofa_lost", "plan": ["twofa_backup_codes", "twofa_reset_support"], "step": 1.0,
             "pending": "step_feedback"}
    assert reading(unsure("ok how do i contact them", slots)) == "contact_support"


@pytest.mark.parametrize("text", ["!" * 4096, " " * 4096, "no " * 1365, "ticket " * 585, "yes please " * 372])
def test_answer_and_step_patterns_read_the_longest_message_without_runaway_backtracking(text):
    """A pattern with nested optional runs ('^\\W*(yes)?\\W*(please)?\\W*ticket') took minutes on
    a fuzzed 4,096-character message and timed out an action; every pattern must stay linear."""
    import time

    from actions import playbook
    from actions.answers import answer_patterns

    started = time.perf_counter()
    for patterns in answer_patterns().values():
        for pattern in patterns:
            pattern.search(text)
    playbook.load().steps_said_done(text, list(playbook.load().steps))
    assert time.perf_counter() - started < 2.0


OUTAGE = {"branch": "outage", "plan": ["status_page", "downdetector"], "step": 0.0, "pending": "step_feedback"}
OFFER = {"branch": "account_locked", "plan": ["lock_explained", "lock_verification"], "step": 2.0,
         "pending": "ticket_offer"}


@pytest.mark.parametrize("text, entities, intent", [
    ("iphone 13", [{"entity": "device", "value": "iphone 13"}], "affirm"),
    ("tom.baker@gmail.com", [{"entity": "email", "value": "tom.baker@gmail.com"}], "affirm"),
    ("hmm whatever", [], None),
])
def test_a_detail_the_ticket_needs_at_the_offer_is_a_yes(text, entities, intent):
    tracker = make_tracker(slots=OFFER, intent="inform", text=text, entities=entities,
                           intent_ranking=[{"name": "inform", "confidence": 0.9}])
    assert reading(tracker) == intent


async def test_an_inform_without_a_detail_at_the_offer_asks_it_again(domain):
    tracker = make_tracker(slots=OFFER, intent="inform", text="hmm whatever")
    dispatcher = CollectingDispatcher()
    await ActionReadInContext().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_rephrase_brief", "utter_resume_ticket_offer"]


def test_a_plain_yes_or_no_outside_any_question_is_read_so():
    assert reading(unsure("ok I will wait")) == "affirm"


@pytest.mark.parametrize("slots, text, intent", [
    (OUTAGE, "lots of people reporting it on downdetector", "outage_check"),  # answered as an outage
    (OUTAGE, "ok I will wait", "goodbye"),  # to a step that says to wait: told when to come back
    ({**OFFER, "branch": "kyc"}, "what do i need to send", "kyc_verification"),  # answered in the branch
])
def test_words_that_settle_the_meaning_are_handed_back_to_the_rule_that_answers_them(slots, text, intent):
    assert reading(unsure(text, slots)) == intent


async def test_the_way_of_getting_codes_is_filled_before_the_next_action_renders_its_response():
    from rasa_sdk.executor import CollectingDispatcher

    from actions.slot_mappings import ValidateSlotMappings

    action = ValidateSlotMappings()
    tracker = make_tracker(text="phone number changed, cant get sms code")
    assert await action.extract_twofa_method(CollectingDispatcher(), tracker, {}) == {"twofa_method": "sms"}
    tracker = make_tracker(slots={"twofa_method": "sms"}, text="still no sms")
    assert await action.extract_twofa_method(CollectingDispatcher(), tracker, {}) == {}
    assert await action.extract_twofa_method(CollectingDispatcher(), make_tracker(text="no luck"), {}) == {}


@pytest.mark.parametrize("text, intent", [
    ("two factor", "twofa_code_rejected"),  # only 2FA named: its branch asks which problem
    ("2fa help pls", "twofa_code_rejected"),
    ("blah", None),
])
def test_only_2fa_named_is_a_2fa_problem(text, intent):
    assert reading(unsure(text)) == intent


@pytest.mark.parametrize("text, intent", [
    ("rejected", "twofa_code_rejected"),
    ("lost it", "twofa_lost_access"),
    ("new phone", "twofa_lost_access"),
])
def test_a_short_answer_to_the_2fa_question_picks_the_2fa_branch(text, intent):
    tracker = unsure(text)
    tracker.events = [{"event": "bot", "text": "What's going wrong with 2FA?",
                       "metadata": {"utter_action": "utter_ask_twofa_kind"}}]
    assert reading(tracker) == intent


@pytest.mark.parametrize("text", ["done, changed it", "all done", "ok done"])
def test_saying_the_step_was_just_done_asks_how_it_went(text):
    assert reading(unsure(text, STEP)) == "affirm"
