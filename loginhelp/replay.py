"""Play scripted conversations against a running assistant and read what comes back.

The conversation tests (tests/dialogue/) and the simulated-customer benchmark
(bench/dialogue.py) both judge what the customer sees: the messages of each REST
reply, recognised as the domain responses whose templates they render.
"""
from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

REPO = Path(__file__).resolve().parents[1]
DOMAIN_FILE = REPO / "domain.yml"
UNKNOWN = "?"

#: Replies that are noise whenever the customer did not give a wrong answer.
COMPLAINTS = frozenset({
    "utter_ticket_contact_invalid", "utter_ticket_contact_way_out", "utter_ticket_field_too_short",
    "utter_triage_rephrase",
})
#: The help menu (or "I didn't get that"): noise once a branch, the triage or the ticket is under way.
HELP_MENUS = frozenset({"utter_default", "utter_no_active_problem", "utter_rephrase_brief"})

Send = Callable[[str, str, Optional[Dict[str, Any]]], List[Dict[str, Any]]]


class ResponseMatcher:
    """Names the domain response a rendered message came from."""

    def __init__(self, responses: Dict[str, List[Dict[str, Any]]]) -> None:
        self._patterns: List[Tuple[int, str, re.Pattern]] = []
        for name, variants in responses.items():
            for variant in variants or []:
                text = variant.get("text")
                if not text:
                    continue
                parts = re.split(r"\{\w+\}", text)
                pattern = re.compile("(?s)" + ".+?".join(re.escape(p) for p in parts))
                literal = sum(len(p) for p in parts)
                self._patterns.append((literal, name, pattern))
        # The most literal template wins ("{reason}" alone matches anything).
        self._patterns.sort(key=lambda item: -item[0])

    @classmethod
    def from_domain(cls, path: Path = DOMAIN_FILE) -> "ResponseMatcher":
        with path.open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle).get("responses") or {})

    def names(self) -> set:
        """Every response name the domain defines."""
        return {name for _, name, _ in self._patterns}

    def name(self, text: str) -> str:
        for _, name, pattern in self._patterns:
            if pattern.fullmatch(text):
                return name
        return UNKNOWN


@lru_cache(maxsize=1)
def domain_matcher() -> ResponseMatcher:
    return ResponseMatcher.from_domain()


@dataclass(frozen=True)
class Expected:
    """One message the customer should see: a response, and text it must contain."""

    response: str
    contains: Tuple[str, ...] = ()

    @classmethod
    def parse(cls, item: Any) -> "Expected":
        if isinstance(item, str):
            return cls(item)
        return cls(str(item["response"]), tuple(str(s) for s in item.get("contains") or ()))


@dataclass(frozen=True)
class Turn:
    user: str
    bot: Tuple[Expected, ...] = ()
    complaint_expected: bool = False


@dataclass(frozen=True)
class Conversation:
    name: str
    turns: Tuple[Turn, ...]
    metadata: Optional[Dict[str, Any]] = None
    goal: Optional[str] = None
    source: str = ""

    @property
    def typed_only(self) -> bool:
        return not any(turn.user.startswith("/") for turn in self.turns)


def _turn(raw: Any) -> Turn:
    if isinstance(raw, str):
        return Turn(user=raw)
    return Turn(
        user=str(raw["user"]),
        bot=tuple(Expected.parse(item) for item in raw.get("bot") or ()),
        complaint_expected=bool(raw.get("complaint_expected", False)),
    )


def load_conversations(path: Path, key: str = "conversations") -> List[Conversation]:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return [
        Conversation(
            name=str(item["name"]),
            turns=tuple(_turn(t) for t in item["turns"]),
            metadata=item.get("metadata"),
            goal=item.get("goal"),
            source=path.name,
        )
        for item in raw.get(key) or []
    ]


@dataclass
class Message:
    response: str
    text: str


@dataclass
class Played:
    """What the assistant answered to each turn of a conversation."""

    conversation: Conversation
    replies: List[List[Message]] = field(default_factory=list)

    def mismatches(self) -> List[str]:
        """Every turn whose reply is not exactly the expected sequence, described."""
        problems = []
        for number, (turn, reply) in enumerate(zip(self.conversation.turns, self.replies), start=1):
            got = [m.response for m in reply]
            want = [e.response for e in turn.bot]
            missing_text = [
                f"{e.response} lacks {s!r}"
                for e, m in zip(turn.bot, reply)
                if e.response == m.response
                for s in e.contains
                if s not in m.text
            ]
            if got != want or missing_text:
                problems.append(
                    f"turn {number} {turn.user!r}:\n    expected {want}\n    got      {got}"
                    + "".join(f"\n    {p}" for p in missing_text)
                    + "".join(f"\n    ? {m.text[:160]!r}" for m in reply if m.response == UNKNOWN)
                )
        return problems

    def transcript(self) -> str:
        lines = []
        for turn, reply in zip(self.conversation.turns, self.replies):
            lines.append(f"you> {turn.user}")
            lines.extend(f"bot> [{m.response}] {m.text[:100]}" for m in reply)
        return "\n".join(lines)


def rest_sender(url: str, timeout: float = 60.0) -> Send:
    """A ``send`` for the REST channel at ``url`` (http://host:port)."""

    def send(sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"{url.rstrip('/')}/webhooks/rest/webhook", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"[]")

    return send


def play(conversation: Conversation, send: Send, sender: str,
         matcher: Optional[ResponseMatcher] = None) -> Played:
    """Type every turn of ``conversation`` as ``sender`` and name each message that comes back."""
    matcher = matcher or domain_matcher()
    played = Played(conversation)
    for turn in conversation.turns:
        raw = send(sender, turn.user, conversation.metadata)
        played.replies.append([
            Message(matcher.name(m.get("text") or ""), m.get("text") or "") for m in raw
        ])
    return played


@dataclass
class Noise:
    """Messages a customer should not have seen, counted per kind."""

    duplicates: int = 0
    complaints: int = 0
    help_menus: int = 0
    repeated_steps: int = 0

    @property
    def total(self) -> int:
        return self.duplicates + self.complaints + self.help_menus + self.repeated_steps


def is_step(response: str) -> bool:
    return response.startswith("utter_step_")


def noise(played: Played) -> Noise:
    """Duplicates within a reply, complaints the customer did not cause, help menus
    after the first turn, and a step of the guide sent a second time."""
    found = Noise()
    seen_steps: set = set()
    for number, (turn, reply) in enumerate(zip(played.conversation.turns, played.replies)):
        names = [m.response for m in reply]
        found.duplicates += len(names) - len(set(names))
        if not turn.complaint_expected:
            found.complaints += sum(1 for n in names if n in COMPLAINTS)
        if number > 0:
            found.help_menus += sum(1 for n in names if n in HELP_MENUS)
        for name in names:
            if is_step(name):
                found.repeated_steps += name in seen_steps
                seen_steps.add(name)
    return found


def first_turn_with(played: Played, response: str) -> Optional[int]:
    """The 1-based turn whose reply first contains ``response``."""
    for number, reply in enumerate(played.replies, start=1):
        if any(m.response == response for m in reply):
            return number
    return None


def unknown_responses(conversations: Sequence[Conversation], matcher: ResponseMatcher) -> List[str]:
    """Expected response names that the domain does not define (a typo in a script)."""
    known = matcher.names()
    return sorted({
        e.response for c in conversations for t in c.turns for e in t.bot if e.response not in known
    } | {c.goal for c in conversations if c.goal and c.goal not in known})
