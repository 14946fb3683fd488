"""Conversation exports (CSV) and intent corrections as Rasa NLU training data; tickets: loginhelp.tickets.export."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..exports import csv_lines
from .queries import ConversationRow
from .review import Correction

CONVERSATION_COLUMNS = (
    "conversation_id", "channel", "started_at", "last_activity_at", "turns", "sessions", "branch", "outcome",
    "low_confidence_turns", "reviewed", "reviewed_by", "tags", "tickets", "first_message",
    "wait_seconds", "handling_seconds",
)


def conversations_csv(rows: Iterable[ConversationRow]) -> Iterator[str]:
    def flat(row: ConversationRow) -> list[Any]:
        d = row.to_dict()
        d["tags"] = ";".join(d["tags"])
        d["tickets"] = ";".join(f"{t['reference']} ({t['status']})" for t in d["tickets"])
        return [d[c] for c in CONVERSATION_COLUMNS]

    return csv_lines(CONVERSATION_COLUMNS, (flat(r) for r in rows))


def nlu_yaml(corrections: Iterable[Correction]) -> str:
    """Rasa 3.x NLU training data: one block per corrected intent, each message once."""
    by_intent: dict[str, list[str]] = {}
    for c in corrections:
        text = " ".join(c.text.split())
        if text and text not in by_intent.setdefault(c.correct_intent, []):
            by_intent[c.correct_intent].append(text)
    lines = [
        "# Intent corrections recorded in the agent console (loginhelp transcripts corrections).",
        "# Review, then merge into data/nlu/ and retrain.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in by_intent[intent])
    return "\n".join(lines) + "\n"
