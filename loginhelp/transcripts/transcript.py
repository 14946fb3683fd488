"""A conversation as agents read it: sessions of turns, each turn a customer message and what followed.

Customer text is passed through ``redact`` once more on the way out, so
conversations stored before the redacting tracker store was configured never
show a secret either. Nothing here is HTML: templates escape everything.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Sequence

from ..contract import READ_IN_CONTEXT_KEY, RasaSlot
from ..secret_detection import redact
from .events import StoredEvent
from .summary import FALLBACK_ACTIONS, is_low_confidence, user_intent

#: Bookkeeping actions that add nothing for a reader.
HIDDEN_ACTIONS = frozenset({"action_listen", "action_session_start"})


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


@dataclass
class Reply:
    time: float
    text: str | None
    buttons: list[dict[str, str]]
    response: str | None
    custom: Any = None
    image: str | None = None


@dataclass
class ActionRun:
    time: float
    name: str
    policy: str | None
    confidence: float | None


@dataclass
class SlotSet:
    time: float
    name: str
    value: Any


@dataclass
class LiveLine:
    """A line of the live chat with a support agent (live_messages), shown among the assistant's turns.

    ``sender`` is customer, agent or system; ``agent`` the agent's email, so the
    transcript says who wrote.
    """

    time: float
    n: int
    sender: str
    agent: str | None
    text: str


@dataclass
class Turn:
    #: Customer message number in the conversation (0 = what happened before the first message).
    number: int
    time: float
    event_id: int | None = None
    text: str | None = None
    intent: str | None = None
    confidence: float | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    input_channel: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    low_confidence: bool = False
    #: The intent the assistant read an unclear message as, by the question it answered
    #: (the message handed back to itself, actions/context.py): one turn, not two.
    read_as: str | None = None
    replies: list[Reply] = field(default_factory=list)
    actions: list[ActionRun] = field(default_factory=list)
    slots: list[SlotSet] = field(default_factory=list)
    loops: list[str | None] = field(default_factory=list)
    other_events: list[str] = field(default_factory=list)
    #: Live-chat lines written after this turn began and before the next one (by time).
    live: list[LiveLine] = field(default_factory=list)

    @property
    def is_message(self) -> bool:
        return self.event_id is not None


@dataclass
class Session:
    number: int
    started_at: float
    turns: list[Turn] = field(default_factory=list)


@dataclass
class Transcript:
    conversation_id: str
    sessions: list[Session]
    event_count: int

    @property
    def turns(self) -> list[Turn]:
        return [t for s in self.sessions for t in s.turns]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every turn with ISO times; empty pre-message turns left out."""
        sessions = []
        for session in self.sessions:
            turns = []
            for turn in session.turns:
                if not turn.is_message and not (turn.replies or turn.actions or turn.slots or turn.live):
                    continue
                item = asdict(turn)
                item["time"] = iso(turn.time)
                for key in ("replies", "actions", "slots", "live"):
                    for entry in item[key]:
                        entry["time"] = iso(entry["time"])
                turns.append(item)
            sessions.append({"number": session.number, "started_at": iso(session.started_at), "turns": turns})
        return {"conversation_id": self.conversation_id, "event_count": self.event_count, "sessions": sessions}


def _read_again(data: Dict[str, Any], turn: Turn) -> bool:
    """The message of ``turn`` handed back after being read in context (same text, flagged)."""
    parse_data = data.get("parse_data") or {}
    text = data.get("text")
    return (turn.is_message and bool(parse_data.get(READ_IN_CONTEXT_KEY))
            and (redact(text) if isinstance(text, str) else None) == turn.text)


def _entities(parse_data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for entity in parse_data.get("entities") or []:
        if isinstance(entity, dict):
            value = entity.get("value")
            found.append(
                {
                    "entity": entity.get("entity"),
                    "value": redact(value) if isinstance(value, str) else value,
                    "extractor": entity.get("extractor"),
                    "confidence": entity.get("confidence_entity", entity.get("confidence")),
                }
            )
    return found


def _buttons(data: dict[str, Any]) -> list[dict[str, str]]:
    payload = data.get("data") or {}
    buttons = payload.get("buttons") or payload.get("quick_replies") or []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in buttons
        if isinstance(b, dict)
    ]


def _opens_session(ev: StoredEvent) -> bool:
    """Rasa starts a session with session_started_metadata, action_session_start and session_started."""
    if ev.type_name == "session_started":
        return True
    name = ev.data.get("name")
    return (ev.type_name == "action" and name == "action_session_start") or (
        ev.type_name == "slot" and name == RasaSlot.SESSION_STARTED_METADATA
    )


def build_transcript(conversation_id: str, events: Sequence[StoredEvent], threshold: float) -> Transcript:
    """Group events (all sessions, id order) into sessions and turns."""
    sessions: list[Session] = []
    turn_number = 0

    def new_session(started: float) -> Session:
        session = Session(number=len(sessions) + 1, started_at=started)
        session.turns.append(Turn(number=0, time=started))
        sessions.append(session)
        return session

    current: Session | None = None
    for ev in events:
        data = ev.data
        if current is None or (_opens_session(ev) and current.turns[-1].is_message):
            current = new_session(ev.timestamp)
        turn = current.turns[-1]
        kind = ev.type_name
        if kind == "user" and _read_again(data, turn):
            turn.read_as = user_intent(data)[0]
        elif kind == "user":
            turn_number += 1
            intent, confidence = user_intent(data)
            parse_data = data.get("parse_data") or {}
            text = data.get("text")
            metadata: Dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
            turn = Turn(
                number=turn_number,
                time=ev.timestamp,
                event_id=ev.id,
                text=redact(text) if isinstance(text, str) else None,
                intent=intent,
                confidence=confidence,
                ranking=[
                    {"name": r.get("name"), "confidence": r.get("confidence")}
                    for r in (parse_data.get("intent_ranking") or [])[:4]
                    if isinstance(r, dict)
                ],
                entities=_entities(parse_data),
                input_channel=data.get("input_channel"),
                metadata={k: v for k, v in metadata.items() if k not in ("model_id", "assistant_id")},
                low_confidence=is_low_confidence(intent, confidence, threshold),
            )
            current.turns.append(turn)
        elif kind == "bot":
            meta = data.get("metadata") or {}
            payload = data.get("data") or {}
            turn.replies.append(
                Reply(
                    time=ev.timestamp,
                    text=data.get("text"),
                    buttons=_buttons(data),
                    response=meta.get("utter_action") or meta.get("template"),
                    custom=payload.get("custom"),
                    image=payload.get("image"),
                )
            )
        elif kind == "action":
            name = str(data.get("name") or "")
            if name in FALLBACK_ACTIONS and turn.is_message:
                turn.low_confidence = True
            if name not in HIDDEN_ACTIONS:
                turn.actions.append(ActionRun(ev.timestamp, name, data.get("policy"), data.get("confidence")))
        elif kind == "slot":
            turn.slots.append(SlotSet(ev.timestamp, str(data.get("name")), data.get("value")))
        elif kind == "active_loop":
            turn.loops.append(data.get("name"))
        elif kind not in ("session_started", "user_featurization"):
            turn.other_events.append(kind)
    return Transcript(conversation_id=conversation_id, sessions=sessions, event_count=len(events))


def add_live_lines(transcript: Transcript | None, conversation_id: str, lines: Sequence[LiveLine]) -> Transcript | None:
    """Put each live-chat line after the last turn that began before it, so both read in time order.

    A chat with no assistant events (possible when the tracker store was
    pruned) becomes one session holding only the live lines. Customer text is
    redacted once more, like the assistant's turns.
    """
    if not lines:
        return transcript
    ordered = sorted(lines, key=lambda line: (line.time, line.n))
    if transcript is None:
        start = ordered[0].time
        transcript = Transcript(conversation_id, [Session(1, start, [Turn(number=0, time=start)])], 0)
    turns = transcript.turns
    for line in ordered:
        if line.sender == "customer":
            line = LiveLine(line.time, line.n, line.sender, line.agent, redact(line.text))
        target = turns[0]
        for turn in turns:
            if turn.time <= line.time:
                target = turn
            else:
                break
        target.live.append(line)
    return transcript
