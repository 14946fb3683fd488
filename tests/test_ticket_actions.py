"""The ticket form's actions against real databases (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import tickets
from actions.tickets import (
    ActionAskTicketStepsTried,
    ActionScreenshotAtSummary,
    ActionTicketCancel,
    ActionTicketChange,
    ActionTicketStart,
    ActionTicketStatus,
    ActionTicketSubmit,
    ActionTicketSummary,
    ValidateTicketForm,
)
from loginhelp.tickets import TicketService
from tests.conftest import make_tracker, responses, slot_events

REFERENCE = re.compile(r"^LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$")
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/115.0.5790.110 Safari/537.36"
)
FILLED = {
    "ticket_contact": "anna.k@example.com",
    "ticket_description": "The login page reloads after I enter my password",
    "ticket_error_message": "No error message shown",
    "ticket_steps_tried": ["Cleared the browser's cache and cookies", "Restarted the laptop"],
    "ticket_device": "Windows 10",
    "ticket_browser_version": "Chrome 115.0.5790",
    "ticket_screenshots": [{"source": "telegram", "location": "AgACAgQAAxkB", "size_bytes": 48213,
                            "file_name": None, "mime_type": "image/jpeg"}],
    "branch": "browser",
}


@pytest.fixture
def service(database_url: str, tmp_path: Path):
    svc = TicketService(database_url, spool_dir=tmp_path / "spool")
    tickets.use_ticket_service(svc)
    yield svc
    tickets.use_ticket_service(None)
    svc.close()


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return responses(dispatcher), slot_events(events), dispatcher


def login_event(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "timestamp": 1.0, "parse_data": {"intent": {"name": intent}}}


async def test_start_prefills_what_the_conversation_knows():
    tracker = make_tracker(slots={"email": "Anna.K@Example.com", "device": None},
                           metadata={"user_agent": CHROME_UA}, intent="contact_support")
    tracker.events = [login_event("the login button does nothing when I click it", "browser_issue"),
                      login_event("/still_broken", "still_broken"),
                      login_event("talk to a human", "contact_support")]
    said, state, _ = await run(ActionTicketStart(), tracker)
    assert said == ["utter_ticket_intro"]
    assert state["ticket_contact"] == "Anna.K@example.com"  # the domain is case-insensitive, the local part not
    assert state["ticket_description"] == "the login button does nothing when I click it"
    assert state["ticket_device"] == "Windows 10"
    assert state["ticket_browser_version"] == "Chrome 115.0.5790"
    assert state["pending"] is None and state["ticket_error_message"] is None


async def test_start_takes_the_error_the_opening_message_quotes():
    tracker = make_tracker(intent="contact_support")
    tracker.events = [login_event('the app says "Incorrect account or password" every time', "wrong_credentials"),
                      login_event("talk to a human", "contact_support")]
    _, state, _ = await run(ActionTicketStart(), tracker)
    assert state["ticket_error_message"] == "Incorrect account or password"


async def test_ill_wait_read_as_a_yes_to_the_ticket_offer_is_handed_back_as_a_no():
    tracker = make_tracker(slots={"pending": "ticket_offer"}, intent="affirm", text="ok i'll wait")
    dispatcher = CollectingDispatcher()
    events = await ActionTicketStart().run(dispatcher, tracker, {})
    assert responses(dispatcher) == [] and [e["event"] for e in events[:3]] == ["rewind", "action", "user"]
    assert events[2]["parse_data"]["intent"] == {"name": "deny", "confidence": 1.0}


async def test_steps_question_lists_the_noted_steps():
    tracker = make_tracker(slots={"steps_tried": ["Updated the app", "Reinstalled the app"]})
    _, _, dispatcher = await run(ActionAskTicketStepsTried(), tracker)
    assert responses(dispatcher) == ["utter_ask_ticket_steps_tried_noted"]
    assert dispatcher.messages[0]["steps"] == "• Updated the app\n• Reinstalled the app"
    _, _, dispatcher = await run(ActionAskTicketStepsTried(), make_tracker())
    assert responses(dispatcher) == ["utter_ask_ticket_steps_tried"]


async def test_support_asked_during_a_step_lists_that_step_as_tried():
    tracker = make_tracker(
        slots={"branch": "browser", "plan": ["clear_cache", "other_browser", "extensions"], "step": 1.0,
               "pending": "step_feedback", "steps_tried": ["Cleared the browser's cache and cookies"]},
        intent="contact_support", text="can i talk to a human")
    _, state, _ = await run(ActionTicketStart(), tracker)
    assert state["steps_tried"] == [
        "Cleared the browser's cache and cookies", "Tried another browser and a private window"]


def test_slots_reset_by_an_action_are_not_validated():
    """The form's reset sets every field to None after the message: no complaint for those."""
    for method in ("validate_ticket_contact", "validate_ticket_description", "validate_ticket_device",
                   "validate_ticket_error_message", "validate_ticket_screenshots"):
        result, said, _ = validate(method, None)
        assert said == [] and list(result.values()) == [None]


@pytest.mark.parametrize("text, entities, contact", [
    ("my email is maria.lopez@example.org", [{"entity": "email", "value": "maria.lopez@example.org"}],
     "maria.lopez@example.org"),
    ("you can reach me at +44 7911 123456", [{"entity": "phone", "value": "+44 7911 123456"}], "+447911123456"),
])
def test_contact_comes_from_the_entity_in_a_sentence(text, entities, contact):
    result, said, _ = validate("validate_ticket_contact", text, text=text, entities=entities)
    assert said == [] and result["ticket_contact"] == contact


@pytest.mark.parametrize("text, intent, stored", [
    ("no", "deny", "No error message shown"),
    ("/deny", "deny", "No error message shown"),
    ("no error, it just spins", "deny", "no error, it just spins"),
    ("none", "inform", "No error message shown"),
    ("no error", "inform", "No error message shown"),
    ("it says session expired", "inform", "it says session expired"),
])
def test_error_message_in_natural_words(text, intent, stored):
    result, said, _ = validate("validate_ticket_error_message", text, text=text, intent=intent)
    assert said == [] and result["ticket_error_message"] == stored


@pytest.mark.parametrize("text, error", [
    ("it says error 1003 when i log in", "error 1003"),
    ('the app says "Incorrect account or password" every time', "Incorrect account or password"),
    ("it shows 'Network error, try again'", "Network error, try again"),
    ("it says “Account frozen”", "Account frozen"),
    ("got a 403 error on the website", "403 error"),
    # A paraphrase is not the exact message: support still asks for it.
    ("it says wrong password", None),
    ("i can't log in, it doesn't work and i've tried everything", None),
    ("the 2fa code was rejected 3 times", None),
])
def test_an_error_quoted_in_the_description_fills_the_error_question(text, error):
    result, said, _ = validate("validate_ticket_description", text, text=text, intent="inform")
    assert said == [] and result["ticket_description"] == text
    assert result.get("ticket_error_message") == error


def test_device_answer_with_the_app_version_fills_both():
    text = "Samsung S23 with the app 3.9.1"
    result, said, _ = validate("validate_ticket_device", text, text=text, intent="inform")
    assert said == [] and result == {"ticket_device": text, "ticket_browser_version": "app 3.9.1"}


@pytest.mark.parametrize("text, entities, kept", [
    ("waited a day", [], False),
    ("restarted it twice", [], False),
    ("my dell laptop", [], True),
    ("huawei p30, updated yesterday", [{"entity": "device", "value": "huawei p30", "start": 0, "end": 10}], True),
])
def test_something_tried_at_the_device_question_goes_to_the_steps(text, entities, kept):
    slots = {"ticket_steps_tried": ["Cleared the browser's cache and cookies"]}
    result, said, _ = validate("validate_ticket_device", text, slots=slots, text=text, intent="inform",
                               entities=entities)
    if kept:
        assert said == [] and result["ticket_device"] == text
    else:
        assert said == ["utter_ticket_step_noted"] and result["ticket_device"] is None
        assert result["ticket_steps_tried"] == ["Cleared the browser's cache and cookies", text]


def test_a_device_at_the_version_question_is_the_device():
    text = "pixel 7"
    result, said, _ = validate("validate_ticket_browser_version", text, text=text, intent="inform",
                               entities=[{"entity": "device", "value": "pixel 7", "start": 0, "end": 7}])
    assert said == ["utter_ticket_device_noted"]
    assert result == {"ticket_browser_version": None, "ticket_device": "pixel 7"}


def validate(method: str, value, slots=None, **tracker_kwargs):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, active_loop="ticket_form", **tracker_kwargs)
    result = getattr(ValidateTicketForm(), method)(value, dispatcher, tracker, {})
    return result, responses(dispatcher), dispatcher


def test_contact_is_normalised():
    result, said, _ = validate("validate_ticket_contact", "  anna.k@EXAMPLE.com ")
    assert result["ticket_contact"] == "anna.k@example.com" and result["email"] == "anna.k@example.com"
    result, _, _ = validate("validate_ticket_contact", "+44 7911 123456")
    assert result["ticket_contact"] == "+447911123456" and result["phone"] == "+447911123456"


def test_invalid_contact_is_re_asked_with_a_reason_then_a_way_out():
    result, said, dispatcher = validate("validate_ticket_contact", "anna.k@")
    assert result == {"ticket_contact": None, "ticket_contact_attempts": 1.0}
    assert said == ["utter_ticket_contact_invalid"] and dispatcher.messages[0]["reason"]
    result, said, _ = validate("validate_ticket_contact", "12", slots={"ticket_contact_attempts": 2.0})
    assert result["ticket_contact_attempts"] == 3.0
    assert said == ["utter_ticket_contact_invalid", "utter_ticket_contact_way_out"]


@pytest.mark.parametrize(
    "method, value",
    [
        ("validate_ticket_contact", "my password is Hunter2!"),
        ("validate_ticket_description", "cannot log in, password: Tr0ub4dor&3"),
        ("validate_ticket_error_message", "invalid code 482913"),
        ("validate_ticket_steps_tried", "typed my seed phrase legal winner thank year wave sausage worth useful legal winner thank yellow"),
        ("validate_ticket_device", "iphone, key 0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"),
        ("validate_ticket_browser_version", "chrome, pwd = letmein99"),
    ],
)
def test_secrets_are_refused_in_every_field(method, value):
    result, said, _ = validate(method, value)
    assert list(result.values()) == [None]
    assert said[0] == "utter_ticket_secret_refused"
    assert said[1].startswith("utter_secret_")


def test_a_contact_with_a_secret_keeps_the_contact_and_warns():
    email = [{"entity": "email", "value": "ana.r@gmail.com"}]
    result, said, _ = validate("validate_ticket_contact", "my email is ana.r@gmail.com and password Ana12345!",
                               text="my email is ana.r@gmail.com and password Ana12345!", entities=email)
    assert result["ticket_contact"] == "ana.r@gmail.com"
    assert said == ["utter_ticket_secret_left_out", "utter_secret_password"]


@pytest.mark.parametrize("value, kept", [
    ("ines.m@example.pt", False),
    ("my email is ines.m@example.pt", False),
    ("ines.m@example.pt account locked", True),
])
def test_the_contact_alone_is_no_description(value, kept):
    email = [{"entity": "email", "value": "ines.m@example.pt"}]
    result, said, _ = validate("validate_ticket_description", value, text=value, entities=email)
    assert (result["ticket_description"] == value) is kept
    assert said == ([] if kept else ["utter_ticket_description_not_contact"])


def test_steps_tried_merge_noted_and_typed():
    noted = {"steps_tried": ["Updated the app"]}
    assert validate("validate_ticket_steps_tried", "none", slots=noted)[0] == {"ticket_steps_tried": ["Updated the app"]}
    assert validate("validate_ticket_steps_tried", "restarted my phone", slots=noted)[0] == {
        "ticket_steps_tried": ["Updated the app", "restarted my phone"]}
    assert validate("validate_ticket_steps_tried", "none")[0] == {"ticket_steps_tried": ["Nothing tried yet"]}


def test_no_error_message_is_recorded_as_such():
    assert validate("validate_ticket_error_message", "none")[0] == {"ticket_error_message": "No error message shown"}


async def test_screenshots_come_from_attachments_and_links():
    form = ValidateTicketForm()
    attachment = {"source": "telegram", "location": "AgACAgQ", "size_bytes": 1200, "mime_type": "image/jpeg"}
    tracker = make_tracker(slots={"requested_slot": "ticket_error_message"}, intent="share_screenshot",
                           metadata={"attachments": [attachment, {"bogus": True}, "junk"]})
    dispatcher = CollectingDispatcher()
    extracted = await form.extract_ticket_screenshots(dispatcher, tracker, {})
    assert extracted["ticket_screenshots"] == [{**attachment, "file_name": None}]
    assert dispatcher.messages[0]["count"] == 1
    tracker = make_tracker(slots={"requested_slot": "ticket_screenshots"}, intent="inform",
                           entities=[{"entity": "url", "value": "https://imgur.com/a/x1"}])
    extracted = await form.extract_ticket_screenshots(CollectingDispatcher(), tracker, {})
    assert extracted["ticket_screenshots"] == [{"source": "url", "location": "https://imgur.com/a/x1"}]
    assert await form.extract_ticket_screenshots(CollectingDispatcher(), make_tracker(intent="inform"), {}) == {}


async def test_summary_shows_every_field_and_waits_for_confirmation():
    said, state, dispatcher = await run(ActionTicketSummary(), make_tracker(slots=FILLED))
    assert said == ["utter_ticket_summary"] and state == {"pending": "ticket_confirm"}
    message = dispatcher.messages[0]
    assert message["contact"] == "anna.k@example.com" and message["screenshots"] == "1 attached"
    assert message["steps"] == "Cleared the browser's cache and cookies; Restarted the laptop"


async def submit(slots, sender="web-1", intent="affirm", channel="socketio"):
    tracker = make_tracker(slots=slots, intent=intent, sender_id=sender)
    tracker.events = [{"event": "user", "input_channel": channel, "text": "yes", "timestamp": 1.0}]
    return await run(ActionTicketSubmit(), tracker)


async def test_confirmed_ticket_is_stored_with_every_field(service):
    said, state, dispatcher = await submit({**FILLED, "pending": "ticket_confirm"})
    assert said == ["utter_ticket_created"]
    reference = dispatcher.messages[0]["reference"]
    assert REFERENCE.match(reference)
    assert state["ticket_last_ref"] == reference and state["ticket_contact"] is None
    stored = (await service.get(reference)).to_dict()
    assert stored["contact_email"] == "anna.k@example.com" and stored["contact_phone"] is None
    assert stored["description"] == FILLED["ticket_description"]
    assert stored["error_message"] == "No error message shown"
    assert stored["steps_tried"] == FILLED["ticket_steps_tried"]
    assert (stored["device"], stored["browser_version"]) == ("Windows 10", "Chrome 115.0.5790")
    assert stored["category"] == "browser" and stored["channel"] == "socketio"
    assert stored["conversation_id"] == "web-1" and stored["status"] == "open"
    assert stored["screenshots"][0]["location"] == "AgACAgQAAxkB"
    assert stored["screenshots"][0]["size_bytes"] == 48213


async def test_duplicate_for_the_same_contact_is_offered_then_merged(service):
    _, _, first = await submit({**FILLED, "pending": "ticket_confirm"}, sender="a")
    reference = first.messages[0]["reference"]
    again = {**FILLED, "ticket_contact": "Anna.K@example.com", "pending": "ticket_confirm",
             "ticket_error_message": "Session expired"}
    said, state, _ = await submit(again, sender="b")
    assert said == ["utter_ticket_duplicate_offer"]
    assert state == {"pending": "ticket_duplicate", "ticket_duplicate_ref": reference}
    said, _, _ = await submit({**again, **state}, sender="b", intent="affirm")
    assert said == ["utter_ticket_updated"]
    assert len(await service.list()) == 1
    assert "Session expired" in (await service.get(reference)).to_dict()["error_message"]


async def test_duplicate_declined_opens_a_second_ticket(service):
    await submit({**FILLED, "pending": "ticket_confirm"}, sender="a")
    said, state, _ = await submit({**FILLED, "pending": "ticket_confirm"}, sender="b")
    said, _, _ = await submit({**FILLED, **state}, sender="b", intent="deny")
    assert said == ["utter_ticket_created"]
    assert len(await service.list()) == 2


async def test_ticket_is_queued_when_the_database_is_down(tmp_path, sqlite_url):
    down = TicketService("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere",
                         spool_dir=tmp_path / "spool")
    tickets.use_ticket_service(down)
    try:
        said, state, dispatcher = await submit({**FILLED, "pending": "ticket_confirm"})
    finally:
        tickets.use_ticket_service(None)
        down.close()
    assert said == ["utter_ticket_queued"]
    reference = dispatcher.messages[0]["reference"]
    assert list((tmp_path / "spool").iterdir())
    back = TicketService(sqlite_url, spool_dir=tmp_path / "spool")
    try:
        assert await back.flush_spool() == 1
        assert (await back.get(reference)).description == FILLED["ticket_description"]
        assert await back.flush_spool() == 0 and len(await back.list()) == 1
    finally:
        back.close()


async def status(service, text, sender, entities):
    return await run(ActionTicketStatus(), make_tracker(intent="ticket_status", text=text,
                                                       sender_id=sender, entities=entities))


async def test_status_is_told_only_to_its_conversation_or_its_contact(service):
    _, _, dispatcher = await submit({**FILLED, "pending": "ticket_confirm"}, sender="owner")
    reference = dispatcher.messages[0]["reference"]
    await service.set_status(reference, "in_progress", note="looking at it", changed_by="agent@coinex.test")
    ref_entity = [{"entity": "ticket_ref", "value": reference.lower()}]

    said, _, d = await status(service, f"status of {reference}", "owner", ref_entity)
    assert said == ["utter_ticket_status"] and d.messages[0]["status_text"] == "being worked on by a support agent"

    said, _, d = await status(service, f"status of {reference}", "stranger", ref_entity)
    assert said == ["utter_ticket_not_found"]
    assert "status_text" not in d.messages[0]

    with_contact = ref_entity + [{"entity": "email", "value": "anna.k@example.com"}]
    said, _, _ = await status(service, "", "stranger", with_contact)
    assert said == ["utter_ticket_status"]
    wrong_contact = ref_entity + [{"entity": "email", "value": "eve@example.com"}]
    said, _, _ = await status(service, "", "stranger", wrong_contact)
    assert said == ["utter_ticket_not_found"]


async def test_status_asks_for_a_reference_and_rejects_bad_ones(service):
    said, state, _ = await status(service, "any news on my ticket?", "x", [])
    assert said == ["utter_ask_ticket_ref"] and state == {"pending": "ticket_ref_needed"}
    tracker = make_tracker(intent="inform", text="LH-0O1IL5", slots={"pending": "ticket_ref_needed"})
    said, state, _ = await run(ActionTicketStatus(), tracker)
    assert said == ["utter_ticket_ref_invalid", "utter_ask_ticket_ref"]
    assert state == {"pending": "ticket_ref_needed"}


async def test_cancel_stores_nothing(service):
    tracker = make_tracker(slots={**FILLED, "pending": "ticket_confirm"}, intent="cancel")
    said, state, _ = await run(ActionTicketCancel(), tracker)
    assert said == ["utter_ticket_cancelled"]
    assert state["ticket_contact"] is None and state["pending"] is None
    assert await service.list() == []
    said, _, _ = await run(ActionTicketCancel(), make_tracker(intent="cancel"))
    assert said == ["utter_nothing_to_cancel"]


@pytest.mark.parametrize(
    "text, field",
    [("change the email", "ticket_contact"), ("the error message is wrong", "ticket_error_message"),
     ("fix the browser version", "ticket_browser_version")],
)
async def test_change_clears_the_named_field(text, field):
    slots = {**FILLED, "pending": "ticket_confirm"}  # the summary on screen
    said, state, _ = await run(ActionTicketChange(), make_tracker(slots=slots, intent="ticket_change", text=text))
    assert said == [] and state[field] is None and state["pending"] == "ticket_editing"


async def test_a_change_with_no_ticket_under_way_says_so():
    said, state, _ = await run(ActionTicketChange(), make_tracker(intent="ticket_change", text="change the email"))
    assert said == ["utter_no_ticket_to_change"] and state.get("pending") is None
    said, _, dispatcher = await run(ActionTicketChange(), make_tracker(
        slots={"ticket_last_ref": "LH-7KQ2MX"}, intent="ticket_change", text="change the email"))
    assert said == ["utter_ticket_already_sent"] and dispatcher.messages[0]["reference"] == "LH-7KQ2MX"


async def test_a_field_named_at_a_step_with_no_ticket_answers_the_step():
    step = {"branch": "credentials", "plan": ["caps_lock", "check_url"], "step": 0.0, "pending": "step_feedback"}
    dispatcher = CollectingDispatcher()
    events = await ActionTicketChange().run(dispatcher, make_tracker(
        slots=step, intent="ticket_change", text="im sure its the right email"), {})
    handed = [e for e in events if e.get("event") == "user"]
    assert dispatcher.messages == [] and handed[0]["parse_data"]["intent"]["name"] == "still_broken"
    said, state, _ = await run(ActionTicketChange(), make_tracker(
        slots=step, intent="ticket_change", text="change the email"))
    assert said == ["utter_no_ticket_to_change", "utter_resume_step"] and "pending" not in state


async def test_change_without_a_field_asks_which():
    said, state, dispatcher = await run(ActionTicketChange(), make_tracker(
        slots={**FILLED, "pending": "ticket_confirm"}, intent="ticket_change", text="change something"))
    assert said == ["utter_ask_ticket_field"] and state["pending"] == "ticket_change_field"
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert '/ticket_change{"ticket_field": "ticket_device"}' in payloads and "/cancel" in payloads
    said, state, _ = await run(ActionTicketChange(), make_tracker(
        slots={**FILLED, "ticket_field": "ticket_device", "pending": "ticket_change_field"}, intent="ticket_change"))
    assert state["ticket_device"] is None and state["pending"] == "ticket_editing"


def test_the_description_is_the_customers_words_before_the_steps_since_the_last_case():
    tracker = make_tracker(slots={"branch": "account_locked"})
    tracker.events = [
        login_event("my old problem with the app crashing", "app_issue"),
        {"event": "slot", "name": "branch", "value": "app"},
        {"event": "slot", "name": "branch", "value": None},  # solved
        login_event("hello, i can't log in to my account", "login_problem"),
        login_event("my password is Hunter2secret! is that why", "account_locked"),
        login_event("my account has been locked since yesterday", "account_locked"),
        {"event": "slot", "name": "branch", "value": "account_locked"},
        {"event": "slot", "name": "pending", "value": "step_feedback"},
        login_event("where do i send my id photo", "kyc_verification"),
    ]
    assert tickets.opening_message(tracker) == (
        "hello, i can't log in to my account / my account has been locked since yesterday")


@pytest.mark.parametrize("slot", ["ticket_device", "ticket_browser_version"])
@pytest.mark.parametrize("answer", ["dont know", "no", "not sure", "none"])
def test_a_device_or_version_not_known_is_recorded_as_not_given(slot, answer):
    result, said, _ = validate(f"validate_{slot}", answer, text=answer)
    assert result[slot] == "Not given" and said == []


def test_text_at_the_screenshot_question_is_not_filed_as_no_screenshots():
    result, said, _ = validate("validate_ticket_screenshots", "chrome 120", text="chrome 120", intent="inform")
    assert result == {"ticket_screenshots": None} and said == ["utter_ticket_screenshot_not_found"]
    result, said, _ = validate("validate_ticket_screenshots", "cant take one rn", text="cant take one rn")
    assert result == {"ticket_screenshots": []} and said == []


async def test_a_screenshot_sent_at_the_summary_is_attached_and_the_question_asked_again():
    attachment = {"source": "telegram", "location": "AgACAgQ", "size_bytes": 1200, "mime_type": "image/jpeg"}
    tracker = make_tracker(slots={**FILLED, "pending": "ticket_confirm"}, intent="share_screenshot",
                           metadata={"attachments": [attachment]})
    said, state, _ = await run(ActionScreenshotAtSummary(), tracker)
    assert said == ["utter_ticket_screenshot_received", "utter_resume_ticket_confirm"]
    assert len(state["ticket_screenshots"]) == len(FILLED["ticket_screenshots"]) + 1
    said, state, _ = await run(ActionScreenshotAtSummary(),
                               make_tracker(slots=FILLED, intent="share_screenshot", text="no screenshot"))
    assert said == ["utter_ticket_no_screenshots", "utter_resume_ticket_confirm"] and state == {}
    said, _, _ = await run(ActionScreenshotAtSummary(),
                           make_tracker(slots=FILLED, intent="share_screenshot", text="i have a screenshot"))
    assert said == ["utter_ticket_screenshot_how", "utter_resume_ticket_confirm"]
