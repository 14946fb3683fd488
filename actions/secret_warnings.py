"""Advice when a customer volunteers a secret.

The assistant never asks for passwords or codes; when one is typed anyway it
explains why not to share it and what to do if it was real. When the rest of the
message describes a problem ("the code 123456 is rejected") the customer is then
helped with it; otherwise the assistant returns to the question it was waiting on.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import live_status, playbook
from actions.branches import in_branch, latest_intent, moved_on, respond_to_problem, step_failed
from loginhelp.contract import Pending, Slot
from loginhelp.secret_detection import PASSWORD, SECRET_KINDS_KEY, TWOFA_CODE, redact, secret_kinds

_ADVICE = {
    "password": "utter_secret_password",
    "2fa_code": "utter_secret_2fa_code",
    "seed_phrase": "utter_secret_seed_phrase",
    "private_key": "utter_secret_private_key",
}
# Fewer words than this besides the secret and the words naming it ("here is my
# password: X") describe no problem.
MIN_PROBLEM_WORDS = 2
_NAMING_A_SECRET = frozenset("""
    here is are was my the a an this that it it's its and or to for me you your i i'm of on in at with be
    so can please pls just now use try check
    code codes 2fa g2fa mfa otp sms token pin password pass passwd pw pwd passcode key keys private pk wif
    seed phrase recovery words mnemonic backup secret setup login account details email
""".split())
_STEP_FAILED_INTENTS = {"still_broken", "deny"}
_REDACTED = re.compile(r"\[redacted [^\]]*\]")


def warn_about(dispatcher: CollectingDispatcher, kinds: Iterable[str]) -> None:
    """Say, for each kind of secret, why not to share it and what to do now."""
    for kind in kinds:
        dispatcher.utter_message(response=_ADVICE.get(kind, "utter_secret_password"))


def words_besides_secrets(text: str) -> int:
    """Words that say something besides the secret: "here is my 2fa code 551 204" has
    none, "the code 123456 from google authenticator is rejected" has four."""
    words = re.findall(r"[a-z0-9']+", _REDACTED.sub(" ", redact(text)).lower())
    return sum(1 for word in words if word not in _NAMING_A_SECRET)


class ActionWarnSecret(Action):
    def name(self) -> Text:
        return "action_warn_secret"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        await live_status.refresh()
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        kinds = message.get(SECRET_KINDS_KEY) or secret_kinds(text)
        if not kinds:
            # The classifier saw a secret the patterns did not: warn about both.
            kinds = [PASSWORD, TWOFA_CODE]
        warn_about(dispatcher, kinds)
        if tracker.active_loop_name:
            return []
        intent = latest_intent(tracker)
        says_more = words_besides_secrets(text) >= MIN_PROBLEM_WORDS
        book = playbook.load()
        if says_more and not in_branch(tracker) and intent in book.branch_for_intent:
            return respond_to_problem(dispatcher, tracker, intent)
        # In a branch a secret never switches it: the message goes on with the step
        # when it is about this branch or says the step failed, else the step is asked about.
        moving_on = moved_on(dispatcher, tracker, intent) if says_more else None
        if moving_on is not None:
            return moving_on
        about_this_branch = book.belongs_to(book.branch_for_intent.get(intent or "", ""), tracker.get_slot(Slot.BRANCH))
        if says_more and in_branch(tracker) and (intent in _STEP_FAILED_INTENTS or about_this_branch):
            return step_failed(dispatcher, tracker)
        if tracker.get_slot(Slot.PENDING) == Pending.STEP_FEEDBACK:
            dispatcher.utter_message(response="utter_did_that_help")
        return []
