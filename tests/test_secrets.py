"""Secrets a customer volunteers are recognised; ordinary login talk is not."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions.secret_warnings import ActionWarnSecret
from loginhelp.nlu.secret_guard import SecretGuard
from loginhelp.secret_detection import find_secrets, redact, secret_kinds
from tests.conftest import make_tracker, responses

SEED = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("my password is Hunter2!", ["password"]),
        ("pwd: s3cr3t-Pass", ["password"]),
        ("the 2fa code is 482913 but it says invalid", ["2fa_code"]),
        ("authenticator shows 482 913", ["2fa_code"]),
        ("482913", ["2fa_code"]),
        (f"my seed phrase is {SEED}", ["seed_phrase"]),
        ("key 0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", ["private_key"]),
        ("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", ["private_key"]),
        ("login bob@example.org password Test1234", ["password"]),
        ("here is my password so you can log in for me: hunter22", ["password"]),
        ("my pasword is coinex4life", ["password"]),
        ("my details: anna.k@example.com / Fake-Pass-99", ["password"]),
        ("my backup key is JBSWY3DPEHPK3PXP", ["2fa_code"]),
        ("the code is 48291355", ["2fa_code"]),
        ("pk: 5Kb8kLf9FAKEFAKEFAKEFAKE", ["private_key"]),
    ],
)
def test_secrets_are_found(text, kinds):
    assert secret_kinds(text) == kinds
    assert all(f"[redacted {k.replace('_', ' ')}]" in redact(text) for k in kinds)


@pytest.mark.parametrize(
    "text",
    [
        "my password is wrong",
        "it says the password is incorrect",
        "I can't log in, my 2FA code is rejected",
        "call me on +44 7700 900123",
        "my ticket is LH-7KQ2MX",
        "error code 1003 on the login page",
        "I have been trying to reset my password for an hour and nothing works at all",
        "I use Chrome 115.0.5790 on Windows 11",
        "sms code never comes to +44 7700 900456",
        "verification code doesn't arrive to +61 491 570 157",
        "code from 2019 still works?",
        "where do I find my private key?",
        "my password is not accepted",
    ],
)
def test_ordinary_messages_are_left_alone(text):
    assert find_secrets(text) == []
    assert redact(text) == text


def test_secret_guard_overrides_the_intent():
    message = Message(data={"text": "my password is Hunter2!", "intent": {"name": "wrong_credentials", "confidence": 0.9},
                            "intent_ranking": [{"name": "wrong_credentials", "confidence": 0.9}]})
    SecretGuard({}).process([message])
    assert message.get("intent") == {"name": "share_secret", "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == "share_secret"
    assert message.get("secret_kinds") == ["password"]


def test_secret_guard_leaves_other_messages():
    message = Message(data={"text": "my password is wrong", "intent": {"name": "wrong_credentials", "confidence": 0.9}})
    SecretGuard({}).process([message])
    assert message.get("intent")["name"] == "wrong_credentials"


async def test_warning_names_each_kind_and_returns_to_the_question():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"pending": "step_feedback"}, intent="share_secret",
        text=f"password is Hunter2!! and {SEED}", secret_kinds=["password", "seed_phrase"],
    )
    await ActionWarnSecret().run(dispatcher, tracker, {})
    assert responses(dispatcher) == [
        "utter_secret_password", "utter_secret_seed_phrase", "utter_did_that_help",
    ]


async def test_warning_when_only_the_classifier_saw_a_secret():
    dispatcher = CollectingDispatcher()
    await ActionWarnSecret().run(dispatcher, make_tracker(intent="share_secret", text="here is my pass"), {})
    assert responses(dispatcher) == ["utter_secret_password", "utter_secret_2fa_code"]


def test_no_response_asks_for_a_password_or_code(domain):
    """The assistant itself never asks for a secret."""
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant.get("text", "").lower()
            for phrase in ("enter your password", "send your password", "type your password",
                           "send me the code", "tell me your code", "your seed phrase is"):
                assert phrase not in text, (name, phrase)


@pytest.mark.parametrize("text, before, expected", [
    # a secret and a problem: warned, then helped with the problem
    ("the code 123456 from google authenticator is rejected", "twofa_code_rejected",
     ["utter_secret_2fa_code", "utter_step_twofa_time_sync", "utter_did_that_help"]),
    # a secret and nothing else to say: only the warning
    ("here is my 2fa code 551 204", "twofa_code_rejected", ["utter_secret_2fa_code"]),
    ("my password is Hunter2!", "wrong_credentials", ["utter_secret_password"]),
])
async def test_a_secret_with_a_problem_is_warned_about_then_helped(text, before, expected):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="share_secret", text=text, intent_before_secret={"name": before, "confidence": 0.8})
    await ActionWarnSecret().run(dispatcher, tracker, {})
    assert responses(dispatcher) == expected


async def test_a_secret_mid_branch_never_switches_the_branch():
    dispatcher = CollectingDispatcher()
    slots = {"branch": "app", "plan": ["official_app", "force_close"], "step": 0.0, "pending": "step_feedback"}
    tracker = make_tracker(slots=slots, intent="share_secret", text="my password is Summer2024! maybe thats the problem?",
                           intent_before_secret={"name": "wrong_credentials", "confidence": 0.7})
    await ActionWarnSecret().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_secret_password", "utter_did_that_help"]
