"""What a conversation amounted to, computed from its events (pure: no database, easy to test).

Definitions (agreed with the dialogue design):
- branch: the last non-empty value of the ``branch`` slot (action_close_case clears it afterwards);
- outcome: ``solved`` when action_close_case ran or the customer said problem_solved;
  ``ticket`` when a ticket carries this conversation id (decided at query time, the
  ticket database changes independently); ``agent`` when a support agent took the
  chat over in the console (decided at query time from the live-handoff tables, see
  loginhelp/handoff/figures.py); ``handed`` when the customer asked for
  support (contact_support) or accepted the ticket offer (affirm while the
  ``pending`` slot was ticket_offer); otherwise ``abandoned``;
- low-confidence turn: a customer message classified nlu_fallback or below the
  FallbackClassifier threshold, or a turn in which the help menu / utter_default ran.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..contract import READ_IN_CONTEXT_KEY, AddressVerdict, Pending, Slot, worse_verdict
from ..secret_detection import redact
from .events import StoredEvent

SOLVED = "solved"
TICKET = "ticket"
AGENT = "agent"
HANDED = "handed"
ABANDONED = "abandoned"
#: Outcomes in the order they win: a solved conversation stays solved even if a ticket exists.
OUTCOMES: tuple[str, ...] = (SOLVED, TICKET, AGENT, HANDED, ABANDONED)
OUTCOME_LABELS = {SOLVED: "solved", TICKET: "ticket", AGENT: "handed to an agent", HANDED: "handed to support",
                  ABANDONED: "abandoned"}
#: How the console shows the verdict on an address the customer showed.
ADDRESS_VERDICT_LABELS = {
    AddressVerdict.LOOKALIKE: "lookalike address",
    AddressVerdict.NOT_COINEX: "not a CoinEx address",
    AddressVerdict.OFFICIAL: "official address",
}

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_help_menu", "utter_default", "action_default_fallback"})
SOLVED_ACTION = "action_close_case"
SOLVED_INTENT = "problem_solved"
SUPPORT_INTENT = "contact_support"

_WORD_RE = re.compile(r"[^\W_]+")
PREVIEW_LENGTH = 160
#: Cap on the indexed words of one conversation (a runaway bot loop must not bloat the index).
MAX_SEARCH_CHARS = 50_000


def search_words(text: str) -> list[str]:
    """Lower-case words: the unit of full-text search on both SQLite and PostgreSQL."""
    return _WORD_RE.findall(text.lower())


def user_intent(data: dict[str, Any]) -> tuple[str | None, float | None]:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name")
    confidence = intent.get("confidence")
    try:
        confidence = float(confidence) if confidence is not None else None
    except (TypeError, ValueError):
        confidence = None
    return (name if isinstance(name, str) else None), confidence


def is_low_confidence(intent: str | None, confidence: float | None, threshold: float) -> bool:
    return intent == FALLBACK_INTENT or (confidence is not None and confidence < threshold)


@dataclass
class ConversationSummary:
    conversation_id: str
    channel: str | None = None
    started_at: float = 0.0
    last_at: float = 0.0
    turns: int = 0
    sessions: int = 0
    branch: str | None = None
    address_verdict: str | None = None
    base_outcome: str = ABANDONED
    low_confidence_turns: int = 0
    first_message: str | None = None
    event_count: int = 0
    last_event_id: int = 0
    intents: list[str] = field(default_factory=list)
    #: Normalised words of everything said, for the full-text index.
    search_text: str = ""


def summarize(conversation_id: str, events: Sequence[StoredEvent], threshold: float) -> ConversationSummary:
    """Fold a conversation's events (all sessions, id order) into its summary."""
    s = ConversationSummary(conversation_id=conversation_id, event_count=len(events))
    if not events:
        return s
    s.started_at = min(e.timestamp for e in events)
    s.last_at = max(e.timestamp for e in events)
    s.last_event_id = max(e.id for e in events)
    solved = handed = False
    pending: Any = None
    turn_open = turn_low = False
    words: list[str] = []
    for ev in events:
        data = ev.data
        kind = ev.type_name
        if kind == "session_started":
            s.sessions += 1
        elif kind == "user":
            intent, confidence = user_intent(data)
            reread = bool((data.get("parse_data") or {}).get(READ_IN_CONTEXT_KEY))
            if not reread:  # a message read again in context is the same turn, still low-confidence
                if turn_open and turn_low:
                    s.low_confidence_turns += 1
                turn_open = True
                s.turns += 1
                turn_low = is_low_confidence(intent, confidence, threshold)
            if intent and intent not in s.intents:
                s.intents.append(intent)
            if intent == SOLVED_INTENT:
                solved = True
            elif intent == SUPPORT_INTENT or (intent == "affirm" and pending == Pending.TICKET_OFFER):
                handed = True
            channel = data.get("input_channel")
            if s.channel is None and isinstance(channel, str) and channel:
                s.channel = channel[:64]
            text = data.get("text")
            if isinstance(text, str) and text and not reread:
                safe = redact(text)
                words.extend(search_words(safe))
                if s.first_message is None:
                    s.first_message = " ".join(safe.split())[:PREVIEW_LENGTH]
        elif kind == "bot":
            text = data.get("text")
            if isinstance(text, str):
                words.extend(search_words(text))
        elif kind == "action":
            name = data.get("name")
            if name in FALLBACK_ACTIONS and turn_open:
                turn_low = True
            elif name == SOLVED_ACTION:
                solved = True
        elif kind == "slot":
            name, value = data.get("name"), data.get("value")
            if name == Slot.BRANCH and isinstance(value, str) and value:
                s.branch = value[:40]
            elif name == Slot.PENDING:
                pending = value
            elif name == Slot.ADDRESS_VERDICT:
                s.address_verdict = worse_verdict(s.address_verdict, value)
    if turn_open and turn_low:
        s.low_confidence_turns += 1
    s.sessions = max(s.sessions, 1)
    s.base_outcome = SOLVED if solved else HANDED if handed else ABANDONED
    s.search_text = " ".join(words)[:MAX_SEARCH_CHARS]
    return s
