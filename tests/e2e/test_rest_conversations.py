"""Whole conversations through the running servers: NLU, rules, actions and storage together."""
from __future__ import annotations

import re
import sqlite3

import pytest

from loginhelp.servers import RasaStack

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/115.0.5790.110 Safari/537.36"
)
REFERENCE = re.compile(r"LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RasaStack(tmp_path_factory.mktemp("stack")).start()
    yield running
    running.stop()


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies):
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def test_browser_branch_escalates_to_a_prefilled_ticket(stack):
    web = {"user_agent": CHROME_UA}
    say = lambda text: stack.send("e2e-browser", text, web)  # noqa: E731

    first = say("the login button does nothing when i click it")
    assert "Clear Chrome's cache" in texts(first)  # the browser came from the user agent
    assert buttons(first) == ["/problem_solved", "/still_broken"]
    assert "different browser" in texts(say("/still_broken"))
    assert "extensions" in texts(say("/still_broken"))
    offer = say("/still_broken")
    assert "support ticket" in texts(offer) and "/affirm" in buttons(offer)

    asked = say("/affirm")
    assert "email address or phone number" in texts(asked)
    invalid = texts(say("12"))
    assert "phone number" in invalid and "country code" in invalid  # re-asked with the reason
    assert "error message" in texts(say("anna.k@example.com")).lower()
    steps = say("/deny")
    assert "Cleared the browser's cache and cookies" in texts(steps)  # pre-filled steps
    shots = say("/deny")
    assert "screenshot" in texts(shots).lower()  # device and browser were not asked
    summary = say("/deny")
    assert "Chrome 115.0.5790" in texts(summary) and "Windows 10" in texts(summary)
    done = say("/affirm")
    reference = REFERENCE.search(texts(done)).group()

    db = sqlite3.connect(stack.workdir / "loginhelp.db")
    row = db.execute("SELECT contact_email, description, category, channel, conversation_id, steps_tried, status "
                     "FROM tickets WHERE reference = ?", (reference,)).fetchone()
    assert row[0] == "anna.k@example.com"
    assert row[1] == "the login button does nothing when i click it"
    assert row[2:5] == ("browser", "rest", "e2e-browser")
    assert "Disabled browser extensions one by one" in row[5] and row[6] == "open"

    status = stack.send("e2e-browser", f"what's the status of {reference}")
    assert "open and waiting" in texts(status)
    stranger = stack.send("e2e-stranger", f"what's the status of {reference}")
    assert "can't find ticket" in texts(stranger) and "open and waiting" not in texts(stranger)


@pytest.mark.parametrize("message, contact", [
    ("please open a ticket, my email is mia.k@example.com", "mia.k@example.com"),
    ("could you raise a ticket? my phone is +44 7911 123456", "+447911123456"),
])
def test_ticket_asked_for_with_the_contact_in_the_same_sentence(stack, message, contact):
    """Typed, not tapped: the request opens the form and the contact is not asked again."""
    sender = f"e2e-typed-{contact[-4:]}"
    say = lambda text: texts(stack.send(sender, text, {"user_agent": CHROME_UA}))  # noqa: E731
    asked = say(message)
    assert "email address or phone number" not in asked
    assert "what happens when you try to log in" in asked
    replies = [say("the page reloads after i enter my password")]
    while "Here's your ticket" not in replies[-1] and len(replies) < 6:  # error message, steps, screenshots
        replies.append(say("/deny"))
    assert "Here's your ticket" in replies[-1] and contact in replies[-1]
    assert not any("email address or phone number" in reply for reply in replies)


def test_volunteered_password_is_warned_about(stack):
    replies = stack.send("e2e-secret", "my password is Tr0ub4dor&3 and it still fails")
    assert "never share your password" in texts(replies)


def test_gibberish_gets_the_menu_not_a_branch(stack):
    replies = stack.send("e2e-fallback", "qwxz plmokn vvv")
    assert "talk to a person" in buttons(replies)
    assert "Did that help?" not in texts(replies)


def test_vague_problem_is_triaged_basics_first(stack):
    say = lambda text: stack.send("e2e-triage", text)  # noqa: E731
    assert "What does the screen say" in texts(say("i can't log in"))
    assert "website or in the mobile app" in texts(say("/deny"))
    assert "two-factor" in texts(say('/inform{"platform": "android"}'))
    first = say("/affirm")
    assert "speed test" in texts(first)  # connection first, as the guide advises


@pytest.mark.parametrize("message", ["my password is Tr0ub4dor&3xyz", "here is my 2fa code 551 204",
                                     "pk: 5Kb8kLf9FAKEFAKEFAKEFAKE"])
def test_secrets_are_warned_about_even_when_the_classifier_is_unsure(stack, message, domain):
    warnings = {v["text"] for name, variants in domain["responses"].items()
                if name.startswith("utter_secret_") for v in variants}
    replies = [r.get("text") for r in stack.send("e2e-secret-2", message)]
    assert replies and set(replies) <= warnings
