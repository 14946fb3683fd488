"""The step machine: each branch gives its steps in order, then offers a ticket."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.branches import (
    ActionContinueBranch,
    ActionDeclineTicket,
    ActionRouteTriage,
    ActionStartBranch,
)
from actions.context import ActionCloseCase
from tests.conftest import make_tracker, responses, slot_events

FIREFOX_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return responses(dispatcher), slot_events(events), dispatcher


async def walk(branch_intent, slots=None, metadata=None, max_turns=10):
    """Start a branch and answer "still broken" until the ticket is offered."""
    said, state, _ = await run(
        ActionStartBranch(), make_tracker(slots=slots, intent=branch_intent, metadata=metadata)
    )
    transcript = [said]
    slots = {**(slots or {}), **state}
    for _ in range(max_turns):
        if slots.get("pending") == "ticket_offer":
            break
        said, state, _ = await run(
            ActionContinueBranch(), make_tracker(slots=slots, intent="still_broken", metadata=metadata)
        )
        transcript.append(said)
        slots.update(state)
    return transcript, slots


async def test_browser_branch_asks_for_the_browser_when_unknown():
    said, state, _ = await run(ActionStartBranch(), make_tracker(intent="browser_issue"))
    assert said == ["utter_ask_browser"]
    assert state["pending"] == "browser_choice"
    assert state["branch"] == "browser"


async def test_browser_named_after_asking_gives_that_browsers_steps():
    slots = {"branch": "browser", "plan": ["clear_cache", "other_browser", "extensions"],
             "step": 0.0, "pending": "browser_choice", "browser": "edge"}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="inform"))
    assert said == ["utter_step_clear_cache_edge", "utter_did_that_help"]
    assert state["step"] == 0.0 and state["pending"] == "step_feedback"
    assert "steps_tried" not in state  # naming the browser is not a failed step


async def test_browser_branch_walks_cache_other_browser_extensions_then_ticket():
    transcript, slots = await walk("browser_issue", slots={"browser": "chrome"})
    assert transcript == [
        ["utter_step_clear_cache_chrome", "utter_did_that_help"],
        ["utter_step_other_browser_chrome", "utter_did_that_help"],
        ["utter_step_extensions", "utter_did_that_help"],
        ["utter_offer_ticket"],
    ]
    assert slots["steps_tried"] == [
        "Cleared the browser's cache and cookies",
        "Tried another browser and a private window",
        "Disabled browser extensions one by one",
    ]


async def test_browser_comes_from_the_widgets_user_agent():
    transcript, slots = await walk("browser_issue", metadata={"user_agent": FIREFOX_UA})
    assert transcript[0][0] == "utter_step_clear_cache_firefox"
    assert slots["browser"] == "firefox"


async def test_unlisted_browser_gets_generic_steps():
    transcript, _ = await walk("browser_issue", slots={"browser": "other"})
    assert transcript[0][0] == "utter_step_clear_cache_other"


async def test_app_branch_order():
    transcript, _ = await walk("app_issue")
    assert [t[0] for t in transcript] == [
        "utter_step_official_app", "utter_step_force_close", "utter_step_update_app",
        "utter_step_reinstall_app", "utter_offer_ticket",
    ]


async def test_2fa_time_sync_is_specific_to_the_phone():
    ios, _ = await walk("twofa_code_rejected", metadata={"user_agent": IPHONE_UA})
    assert ios[0][0] == "utter_step_twofa_time_sync_ios"
    android, _ = await walk("twofa_code_rejected", slots={"platform": "android"})
    assert android[0][0] == "utter_step_twofa_time_sync_android"
    unknown, _ = await walk("twofa_code_rejected")
    assert unknown[0][0] == "utter_step_twofa_time_sync"
    assert [t[0] for t in unknown][1:] == [
        "utter_step_twofa_code_delivery", "utter_step_twofa_backup_codes", "utter_step_twofa_reset_support",
    ]
    assert unknown[-1] == ["utter_step_twofa_reset_support", "utter_ask_hand_over"]


async def test_lost_2fa_goes_to_backup_codes_then_support():
    transcript, _ = await walk("twofa_lost_access")
    assert transcript == [
        ["utter_step_twofa_backup_codes", "utter_did_that_help"],
        ["utter_step_twofa_reset_support", "utter_ask_hand_over"],  # the ticket asked for at once
    ]


async def test_every_branch_ends_with_a_ticket_offer():
    for intent in ["connection_issue", "wrong_credentials", "forgot_password", "phishing_check",
                   "kyc_verification", "outage_check"]:
        transcript, slots = await walk(intent)
        assert transcript[-1] == ["utter_offer_ticket"], intent
        assert len(slots["steps_tried"]) == len(transcript) - 1
    # A branch whose last step sends the customer to support asks for the ticket with that step.
    transcript, slots = await walk("account_locked")
    assert transcript == [["utter_step_lock_explained", "utter_did_that_help"],
                          ["utter_step_lock_verification", "utter_ask_hand_over"]]
    assert slots["pending"] == "ticket_offer" and slots["step"] == 2.0


async def test_phishing_check_judges_every_address_first_and_records_the_worst():
    tracker = make_tracker(intent="phishing_check", text="is coinex-login.net or www.coinex.com the real one?")
    said, state, dispatcher = await run(ActionStartBranch(), tracker)
    # A warning answers the address check: straight on to what to do if details were typed there.
    assert said == ["utter_address_lookalike", "utter_address_official", "utter_step_phishing_exposed",
                    "utter_did_that_help"]
    assert dispatcher.messages[0]["address"] == "coinex-login.net"
    assert "adds a word to CoinEx's name" in dispatcher.messages[0]["reason"]
    assert state["address_verdict"] == "lookalike"
    tracker = make_tracker(intent="phishing_check", text="https://www.coinex.com/en/login is it safe?")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_address_official", "utter_anything_else"]
    assert state["address_verdict"] == "official"


async def test_a_telegram_account_gets_the_account_wording():
    tracker = make_tracker(intent="phishing_check", text="@coinex_support_bot wants my 2fa code, is it you?")
    said, state, dispatcher = await run(ActionStartBranch(), tracker)
    assert said[0] == "utter_handle_lookalike" and dispatcher.messages[0]["address"] == "@coinex_support_bot"
    assert state["address_verdict"] == "lookalike"


async def test_an_official_address_later_does_not_hide_an_earlier_warning():
    slots = {"branch": "phishing", "plan": ["check_url", "phishing_exposed"], "step": 1.0,
             "pending": "step_feedback", "address_verdict": "lookalike"}
    tracker = make_tracker(slots=slots, intent="phishing_check", text="and what about coinex.com?")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_address_official", "utter_did_that_help"]
    assert "address_verdict" not in state  # still lookalike


async def test_a_lookalike_asked_about_at_the_first_step_moves_to_the_exposure_step():
    slots = {"branch": "phishing", "plan": ["check_url", "phishing_exposed"], "step": 0.0,
             "pending": "step_feedback"}
    tracker = make_tracker(slots=slots, intent="phishing_check", text="the link was coinex-secure.net")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_address_lookalike", "utter_step_phishing_exposed", "utter_did_that_help"]
    assert state["address_verdict"] == "lookalike" and state["step"] == 1.0


async def test_still_broken_after_the_offer_offers_again_without_new_steps():
    slots = {"branch": "outage", "plan": ["status_page", "downdetector"], "step": 2.0,
             "pending": "ticket_offer", "steps_tried": ["a", "b"]}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="still_broken"))
    assert said == ["utter_offer_ticket"]
    assert "steps_tried" not in state


async def test_continue_without_a_branch_asks_for_the_problem():
    said, state, _ = await run(ActionContinueBranch(), make_tracker(intent="still_broken"))
    assert said == ["utter_no_active_problem"]
    assert state == {}


async def test_triage_without_a_message_checks_basics_first():
    slots = {"triage_symptom": "none", "platform": "ios", "uses_2fa": True}
    said, state, _ = await run(ActionRouteTriage(), make_tracker(slots=slots))
    assert state["branch"] == "general"
    assert state["plan"] == ["check_connection", "caps_lock", "force_close",  # no address bar in the app
                             "update_app", "twofa_time_sync", "status_page"]
    assert said == ["utter_step_check_connection", "utter_did_that_help"]
    assert state["triage_symptom"] is None


async def test_triage_symptom_leads_to_its_branch():
    said, state, _ = await run(ActionRouteTriage(),
                               make_tracker(slots={"triage_symptom": "account_locked"}))
    assert state["branch"] == "account_locked"
    assert said[0] == "utter_step_lock_explained"


async def test_solved_closes_the_case():
    slots = {"branch": "app", "plan": ["official_app"], "step": 0.0, "pending": "step_feedback"}
    said, state, _ = await run(ActionCloseCase(), make_tracker(slots=slots, intent="problem_solved"))
    assert said == ["utter_problem_solved", "utter_anything_else"]
    assert state["branch"] is None and state["pending"] is None and state["step"] == -1.0


async def test_solved_by_the_classifier_but_failed_in_words_is_handed_back_as_a_failed_step():
    slots = {"branch": "kyc", "plan": ["kyc_levels", "kyc_review"], "step": 1.0, "pending": "step_feedback"}
    tracker = make_tracker(slots=slots, intent="problem_solved", text="rejected twice now")
    dispatcher = CollectingDispatcher()
    events = await ActionCloseCase().run(dispatcher, tracker, {"slots": {}})
    assert responses(dispatcher) == []
    handed = [e for e in events if e.get("event") == "user"]
    assert handed and handed[0]["parse_data"]["intent"]["name"] == "still_broken"


async def test_declining_the_ticket_keeps_what_was_tried():
    slots = {"pending": "ticket_offer", "steps_tried": ["Updated the app"]}
    said, state, _ = await run(ActionDeclineTicket(), make_tracker(slots=slots, intent="deny"))
    assert said == ["utter_no_ticket", "utter_anything_else"]
    assert state == {"pending": None}


def tracker_with_clock(offset_s: float, received: float = 1_800_000_000.0, **kwargs):
    tracker = make_tracker(metadata={"client_time": (received + offset_s) * 1000}, **kwargs)
    tracker.events = [{"event": "user", "timestamp": received, "text": "code rejected"}]
    return tracker


async def test_2fa_advice_warns_about_a_wrong_device_clock():
    said, _, dispatcher = await run(ActionStartBranch(), tracker_with_clock(-130, intent="twofa_code_rejected"))
    assert said == ["utter_step_twofa_time_sync", "utter_clock_skew", "utter_did_that_help"]
    assert dispatcher.messages[1]["skew"] == "2 min 10 s behind"


async def test_a_clock_within_30_seconds_is_not_mentioned():
    said, _, _ = await run(ActionStartBranch(), tracker_with_clock(25, intent="twofa_code_rejected"))
    assert "utter_clock_skew" not in said
    said, _, _ = await run(ActionStartBranch(), tracker_with_clock(3600, intent="browser_issue",
                                                                   slots={"browser": "chrome"}))
    assert "utter_clock_skew" not in said  # only the time-sync step looks at the clock


# --- Context: how an answer is read depends on the step under way ---------------------
LOST_2FA = {"branch": "twofa_lost", "plan": ["twofa_backup_codes", "twofa_reset_support"], "step": 0.0,
            "pending": "step_feedback", "steps_tried": []}
BROWSER = {"branch": "browser", "plan": ["clear_cache", "other_browser", "extensions"], "step": 0.0,
           "pending": "step_feedback", "browser": "chrome", "steps_tried": []}


async def test_a_message_about_the_branch_under_way_continues_it():
    tracker = make_tracker(slots=LOST_2FA, intent="twofa_lost_access", text="I don't have backup codes")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_step_twofa_reset_support", "utter_ask_hand_over"]
    assert state["step"] == 2.0 and state["steps_tried"] == ["Has no 2FA backup codes"]


async def test_a_related_topic_continues_the_branch_instead_of_switching():
    slots = {"branch": "account_locked", "plan": ["lock_explained", "lock_verification"], "step": 2.0,
             "pending": "ticket_offer"}
    tracker = make_tracker(slots=slots, intent="kyc_verification",
                           text="where do I send my passport photo and selfie?")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_offer_ticket"] and state["branch"] == "account_locked"


async def test_another_branch_switches_and_says_so():
    tracker = make_tracker(slots=BROWSER, intent="twofa_code_rejected", text="now my 2fa code is wrong")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_switch_branch", "utter_step_twofa_time_sync", "utter_did_that_help"]
    assert state["branch"] == "twofa_code" and state["step"] == 0.0


async def test_a_step_already_done_is_skipped_at_the_start():
    tracker = make_tracker(slots={"browser": "chrome"}, intent="browser_issue",
                           text="I already cleared the cache in Chrome, the login button still does nothing")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_skip_tried", "utter_step_other_browser_chrome", "utter_did_that_help"]
    assert state["step"] == 1.0 and state["steps_tried"] == ["Cleared the browser's cache and cookies"]


async def test_a_step_not_done_is_not_skipped():
    tracker = make_tracker(slots={"browser": "chrome"}, intent="browser_issue",
                           text="i haven't cleared the cache yet, the page is blank")
    said, _, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_step_clear_cache_chrome", "utter_did_that_help"]


async def test_a_platform_named_after_the_generic_step_gives_its_version():
    slots = {"branch": "twofa_code", "plan": ["twofa_time_sync", "twofa_code_delivery"], "step": 0.0,
             "pending": "step_feedback", "platform": "android"}
    tracker = make_tracker(slots=slots, intent="inform", text="android",
                           entities=[{"entity": "platform", "value": "android"}])
    tracker.events = [{"event": "user", "text": "android"}, {"event": "slot", "name": "platform", "value": "android"}]
    said, state, _ = await run(ActionContinueBranch(), tracker)
    assert said == ["utter_step_twofa_time_sync_android", "utter_did_that_help"] and state["step"] == 0.0


async def test_a_detail_the_step_does_not_depend_on_is_noted():
    tracker = make_tracker(slots={**BROWSER, "platform": "web"}, intent="inform", text="on my laptop")
    said, state, _ = await run(ActionContinueBranch(), tracker)
    assert said == ["utter_noted", "utter_did_that_help"] and state == {}


async def test_yes_that_confirms_the_step_was_already_done_is_not_solved():
    slots = {"branch": "app", "plan": ["official_app", "force_close", "update_app", "reinstall_app"], "step": 0.0,
             "pending": "step_feedback", "steps_tried": []}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="affirm",
                                                                     text="yes from google play"))
    assert said == ["utter_step_force_close", "utter_did_that_help"] and state["step"] == 1.0
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="affirm", text="yes!"))
    assert said == ["utter_problem_solved", "utter_anything_else"] and state["pending"] is None


async def test_steps_said_done_further_on_are_never_explained():
    tracker = make_tracker(intent="app_issue", text="force closed it twice already and updated, still crashes")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_step_official_app", "utter_did_that_help"]  # not done: explained
    slots = {**state, "pending": "step_feedback"}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="still_broken", text="no"))
    assert said == ["utter_skip_tried", "utter_step_reinstall_app", "utter_did_that_help"]  # both skipped


async def test_a_step_that_sends_to_support_is_followed_by_the_ticket_question():
    slots = {"branch": "account_locked", "plan": ["lock_explained", "lock_verification"], "step": 0.0,
             "pending": "step_feedback"}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="still_broken", text="no"))
    assert said == ["utter_step_lock_verification", "utter_ask_hand_over"] and state["pending"] == "ticket_offer"


async def test_an_official_address_asked_about_is_answered_by_its_verdict_and_no_step_follows():
    tracker = make_tracker(intent="phishing_check", text="is www.coinex.com/login the real site?",
                           entities=[{"entity": "url", "value": "www.coinex.com/login"}])
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_address_official", "utter_anything_else"]
    assert state["branch"] is None and state["pending"] is None


async def test_yes_please_ticket_after_a_step_offers_the_ticket_instead_of_closing():
    slots = {"branch": "credentials", "plan": ["caps_lock", "check_url", "reset_password"], "step": 1.0,
             "pending": "step_feedback"}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="affirm",
                                                                     text="yes please ticket"))
    assert said == ["utter_offer_ticket"] and state["pending"] == "ticket_offer"


async def test_an_earlier_step_of_the_branch_said_done_continues_it_instead_of_switching():
    slots = {"branch": "credentials", "plan": ["caps_lock", "check_url", "reset_password"], "step": 2.0,
             "pending": "step_feedback", "steps_tried": []}
    tracker = make_tracker(slots=slots, intent="phishing_check", text="i am on coinex.com",
                           entities=[{"entity": "url", "value": "coinex.com"}])
    said, _, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_offer_ticket"]


async def test_yes_please_after_a_step_asks_for_more_help_the_next_step_comes():
    slots = {"branch": "app", "plan": ["official_app", "force_close", "update_app", "reinstall_app"], "step": 2.0,
             "pending": "step_feedback", "steps_tried": []}
    said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="affirm", text="yes please"))
    assert said == ["utter_step_reinstall_app", "utter_did_that_help"] and state["step"] == 3.0
    for text in ("yes", "yes it worked", "yes please, it works now"):
        said, state, _ = await run(ActionContinueBranch(), make_tracker(slots=slots, intent="affirm", text=text))
        assert said == ["utter_problem_solved", "utter_anything_else"] and state["pending"] is None, text


async def test_an_outage_seen_during_the_outage_branch_is_named_not_a_ticket():
    slots = {"branch": "outage", "plan": ["status_page", "downdetector"], "step": 1.0, "pending": "step_feedback"}
    tracker = make_tracker(slots=slots, intent="outage_check", text="downdetector shows lots of reports")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_outage_likely"] and state["pending"] is None and state["branch"] is None
    tracker = make_tracker(slots=slots, intent="still_broken", text="nothing on downdetector either")
    said, _, _ = await run(ActionContinueBranch(), tracker)
    assert said == ["utter_offer_ticket"]


async def test_a_documents_question_in_the_lock_branch_is_answered_then_the_offer_again():
    slots = {"branch": "account_locked", "plan": ["lock_explained", "lock_verification"], "step": 2.0,
             "pending": "ticket_offer"}
    tracker = make_tracker(slots=slots, intent="kyc_verification", text="do i need a passport")
    said, state, _ = await run(ActionStartBranch(), tracker)
    assert said == ["utter_verification_documents", "utter_resume_ticket_offer"] and state == {}
