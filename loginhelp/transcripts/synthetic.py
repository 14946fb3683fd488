"""Conversations shaped exactly like the rows Rasa 3.6's SQL tracker store writes, for tests and benchmarks.

Not used by the console itself. ``ConversationWriter`` appends events the way a
real turn produces them (user -> user_featurization -> action -> bot... ->
slots -> action_listen); ``random_conversation`` draws a realistic mix of
branches and outcomes.
"""
from __future__ import annotations

import hashlib
import json
import random
from typing import Any, Iterable

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from ..contract import READ_IN_CONTEXT_KEY, Metadata, Pending, RasaSlot, Slot
from .events import events

_MODEL_META = {"model_id": "bench0000000000000000000000000000", "assistant_id": "coinex-loginhelp"}

DID_THAT_HELP = [
    {"title": "Yes, I'm in", "payload": "/problem_solved"},
    {"title": "No, still stuck", "payload": "/still_broken"},
]
TICKET_BUTTONS = [{"title": "Yes, open a ticket", "payload": "/affirm"}, {"title": "No thanks", "payload": "/deny"}]


class ConversationWriter:
    """Builds the event rows of one conversation (ids are assigned by the database)."""

    def __init__(self, sender_id: str, start: float, channel: str = "rest", metadata: dict[str, Any] | None = None):
        self.sender_id = sender_id
        self.clock = start
        self.channel = channel
        self.metadata = dict(metadata or {})
        self.rows: list[dict[str, Any]] = []
        self._message = 0

    def _tick(self, seconds: float = 0.001) -> float:
        self.clock += seconds
        return self.clock

    def _add(self, type_name: str, data: dict[str, Any], intent: str | None = None, action: str | None = None) -> None:
        data = {"event": type_name, "timestamp": self.clock, **data}
        self.rows.append(
            {
                "sender_id": self.sender_id,
                "type_name": type_name,
                "timestamp": self.clock,
                "intent_name": intent,
                "action_name": action,
                "data": json.dumps(data),
            }
        )

    def session_start(self, gap: float = 1.0) -> "ConversationWriter":
        self._tick(gap)
        meta = {"metadata": dict(_MODEL_META)}
        metadata_slot = {**meta, "name": RasaSlot.SESSION_STARTED_METADATA, "value": self.metadata}
        self._add("slot", metadata_slot, action="session_started_metadata")
        self._add("action", {**meta, "name": "action_session_start", "policy": None, "confidence": 1.0},
                  action="action_session_start")
        self._add("session_started", meta)
        self._add("slot", dict(metadata_slot), action="session_started_metadata")
        self._add("action", {**meta, "name": "action_listen", "policy": None, "confidence": None}, action="action_listen")
        return self

    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.97,
        entities: Iterable[dict[str, Any]] = (),
        gap: float = 8.0,
        ranking: list[dict[str, Any]] | None = None,
        read_in_context: bool = False,
    ) -> "ConversationWriter":
        """A customer message; ``read_in_context``: the assistant's hand-back of an unclear one."""
        self._tick(gap)
        self._message += 1
        message_id = hashlib.md5(f"{self.sender_id}:{self._message}".encode()).hexdigest()
        parse: dict[str, Any] = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": list(entities),
            "text": text,
            "message_id": message_id,
            "metadata": self.metadata,
            "intent_ranking": ranking or [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.01}],
        }
        if read_in_context:
            parse[READ_IN_CONTEXT_KEY] = True
        self._add(
            "user",
            {
                "metadata": {**self.metadata, **_MODEL_META},
                "text": text,
                "parse_data": parse,
                "input_channel": self.channel,
                "message_id": message_id,
            },
            intent=intent,
        )
        self._tick()
        self._add("user_featurization", {"metadata": dict(_MODEL_META), "use_text_for_featurization": False})
        return self

    def action(self, name: str, policy: str | None = "RulePolicy", confidence: float | None = 1.0) -> "ConversationWriter":
        self._tick()
        self._add("action", {"metadata": dict(_MODEL_META), "name": name, "policy": policy, "confidence": confidence,
                             "action_text": None, "hide_rule_turn": False}, action=name)
        return self

    def bot(self, text: str, buttons: list[dict[str, str]] | None = None, response: str | None = None) -> "ConversationWriter":
        self._tick()
        meta = {"utter_action": response, **_MODEL_META} if response else dict(_MODEL_META)
        self._add("bot", {"metadata": meta, "text": text, "data": {"elements": None, "quick_replies": None,
                  "buttons": buttons, "attachment": None, "image": None, "custom": None}})
        return self

    def slot(self, name: str, value: Any) -> "ConversationWriter":
        self._tick()
        self._add("slot", {"metadata": dict(_MODEL_META), "name": name, "value": value}, action=name)
        return self

    def listen(self) -> "ConversationWriter":
        return self.action("action_listen")


def write_rows(engine: Engine, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    """Insert event rows the way Rasa would (tests and benchmarks only)."""
    with engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            conn.execute(insert(events), rows[start : start + chunk])


# ------------------------------------------------------------ random traffic

_BRANCHES = {
    "browser": ("browser_issue", ["the login page is blank in chrome", "login button does nothing on firefox",
                                  "site keeps loading forever in safari"], ["clear_cache", "other_browser", "extensions"]),
    "app": ("app_issue", ["the coinex app crashes when I log in", "app says network error on my iphone"],
            ["official_app", "force_close", "update_app", "reinstall_app"]),
    "twofa_code": ("twofa_code_rejected", ["my google authenticator code is always wrong", "2fa code invalid"],
                   ["time_sync", "code_delivery", "backup_codes"]),
    "twofa_lost": ("twofa_lost_access", ["I lost my phone with the authenticator", "changed phone, no 2fa app"],
                   ["backup_codes", "twofa_reset_support"]),
    "account_locked": ("account_locked", ["my account is locked", "it says account frozen after too many tries"],
                       ["lock_explained", "lock_verification"]),
    "kyc": ("kyc_verification", ["kyc verification pending for a week", "identity check failed"], ["kyc_levels", "kyc_review"]),
    "credentials": ("wrong_credentials", ["it says wrong password but I am sure it is right", "incorrect email or password"],
                    ["caps_lock", "check_url", "reset_password"]),
    "forgot_password": ("forgot_password", ["I forgot my password", "the reset email never arrives"],
                        ["reset_password", "reset_not_arriving"]),
    "phishing": ("phishing_check", ["is coinex-login.net the real site?", "got an email asking me to verify my account"],
                 ["check_url", "phishing_exposed"]),
    "connection": ("connection_issue", ["coinex.com won't load at all", "connection timed out"],
                   ["check_connection", "status_page"]),
    "outage": ("outage_check", ["is coinex down right now?", "is there maintenance today"], ["status_page", "downdetector"]),
}
_STEP_TEXT = ("Try this: {step}. Clear the cookies for coinex.com, sync the clock of your phone, and make sure you "
              "typed the address yourself rather than following a link.")
_CHANNELS = (("socketio", 0.55), ("rest", 0.25), ("telegram", 0.2))
_FALLBACK_TEXTS = ("asdf qwer", "hmm the thing with the stuff", "can u do it", "why", "??")
_CHATTER = ("hi", "hello there", "good morning", "hey")


def _channel(rng: random.Random) -> str:
    pick = rng.random()
    total = 0.0
    for name, weight in _CHANNELS:
        total += weight
        if pick <= total:
            return name
    return _CHANNELS[-1][0]


def random_conversation(rng: random.Random, sender_id: str, start: float) -> ConversationWriter:
    """One plausible conversation: greeting, a branch walked step by step, and an outcome.

    About 30 events on average, as Rasa really stores them (session start 5,
    each customer turn 6-11), so 10,000 conversations are ~300,000 events. Outcomes:
    ~45% solved, ~20% ticket offer accepted, ~10% asked for support, ~25%
    abandoned; ~15% have a fallback turn, ~10% a second session.
    """
    channel = _channel(rng)
    agent = rng.choice(("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
                        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1) Safari/604.1"))
    w = ConversationWriter(sender_id, start, channel, {Metadata.USER_AGENT: agent} if channel == "socketio" else {})
    w.session_start()
    if rng.random() < 0.3:
        w.user(rng.choice(_CHATTER), "greet", rng.uniform(0.9, 0.999)).action("utter_greet")
        w.bot("Hi, I'm CoinEx's login helper. Tell me what happens when you try to sign in.", response="utter_greet").listen()
    if rng.random() < 0.15:
        w.user(rng.choice(_FALLBACK_TEXTS), "nlu_fallback", 0.55,
               ranking=[{"name": "nlu_fallback", "confidence": 0.55}, {"name": "login_problem", "confidence": 0.31}])
        w.action("action_help_menu").bot("Sorry, I didn't get that. Pick the problem that fits best:", response="utter_default")
        w._add("rewind", {"metadata": dict(_MODEL_META)})
        w.listen()
    branch = rng.choice(sorted(_BRANCHES))
    intent, texts, plan = _BRANCHES[branch]
    confidence = rng.uniform(0.6, 0.99) if rng.random() > 0.1 else rng.uniform(0.3, 0.54)
    chrome = {"entity": "browser", "value": "chrome", "start": 0, "end": 6, "extractor": "SpacyEntityExtractor"}
    entities = [chrome] if branch == "browser" else []
    w.user(rng.choice(texts), intent, confidence, entities).action("action_start_branch")
    w.bot(_STEP_TEXT.format(step=plan[0].replace("_", " ")), response=f"utter_step_{plan[0]}")
    w.bot("Did that help?", DID_THAT_HELP, "utter_did_that_help")
    w.slot(Slot.STEPS_TRIED, []).slot(Slot.BRANCH, branch).slot(Slot.PLAN, plan).slot(Slot.STEP, 0.0)
    w.slot(Slot.PENDING, Pending.STEP_FEEDBACK).listen()
    fate = rng.random()
    steps = min(len(plan) - 1, rng.choices((0, 1, 2), weights=(6, 3, 1))[0])
    for index in range(1, steps + 1):
        w.user(rng.choice(("no", "still not working", "nope, same error")), "still_broken", rng.uniform(0.8, 0.99))
        w.action("action_continue_branch")
        w.bot(_STEP_TEXT.format(step=plan[index].replace("_", " ")), response=f"utter_step_{plan[index]}")
        w.bot("Did that help?", DID_THAT_HELP, "utter_did_that_help")
        w.slot(Slot.BRANCH, branch).slot(Slot.STEP, float(index)).slot(Slot.PENDING, Pending.STEP_FEEDBACK).listen()
    if fate < 0.45:
        w.user(rng.choice(("yes it worked", "I'm in, thanks", "that fixed it")), "problem_solved", rng.uniform(0.85, 0.99))
        w.action("action_close_case").bot("Great, glad you're back in!", response="utter_problem_solved")
        w.slot(Slot.BRANCH, None).slot(Slot.PENDING, None).listen()
    elif fate < 0.75:
        w.user("still broken", "still_broken", 0.95).action("action_continue_branch")
        w.bot("Shall I put together a support ticket with you?", TICKET_BUTTONS, "utter_offer_ticket")
        w.slot(Slot.PENDING, Pending.TICKET_OFFER).listen()
        if fate < 0.65:
            w.user("yes please", "affirm", 0.97).action("utter_ticket_placeholder")
            w.bot("I'll gather a support ticket with you here.", response="utter_ticket_placeholder").listen()
    elif fate < 0.85:
        w.user("I want to talk to a human", "contact_support", 0.93).action("utter_ticket_placeholder")
        w.bot("I'll gather a support ticket with you here.", response="utter_ticket_placeholder").listen()
    if rng.random() < 0.1:
        w.session_start(gap=3 * 3600)
        w.user("hello again, same problem", "login_problem", 0.7).action("action_start_branch")
        w.bot("Let's try again.", response="utter_triage_intro").listen()
    return w
