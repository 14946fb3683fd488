"""Exports: conversations and tickets as CSV or JSON, intent corrections as Rasa NLU training data."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Iterator

from ..tickets.repository import MAX_PAGE_SIZE, TicketRepository
from ..tickets.views import TicketView
from .queries import ConversationRow
from .review import Correction

CONVERSATION_COLUMNS = (
    "conversation_id", "channel", "started_at", "last_activity_at", "turns", "sessions", "branch", "outcome",
    "low_confidence_turns", "reviewed", "reviewed_by", "tags", "tickets", "first_message",
)
TICKET_COLUMNS = (
    "reference", "status", "category", "channel", "conversation_id", "contact_email", "contact_phone", "device",
    "browser_version", "description", "error_message", "steps_tried", "screenshots", "created_at", "updated_at",
    "last_note",
)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: customer text starting with = + - @ is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def conversations_csv(rows: Iterable[ConversationRow]) -> Iterator[str]:
    def flat(row: ConversationRow) -> list[Any]:
        d = row.to_dict()
        d["tags"] = ";".join(d["tags"])
        d["tickets"] = ";".join(f"{t['reference']} ({t['status']})" for t in d["tickets"])
        return [d[c] for c in CONVERSATION_COLUMNS]

    return _csv_lines(CONVERSATION_COLUMNS, (flat(r) for r in rows))


def json_array(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array streamed item by item (exports of 10,000s of rows stay small in memory)."""
    yield "["
    for i, item in enumerate(items):
        yield ("," if i else "") + "\n  " + json.dumps(item, ensure_ascii=False)
    yield "\n]\n"


def iter_tickets(repo: TicketRepository, status: str | None = None) -> Iterator[TicketView]:
    offset = 0
    while True:
        batch = repo.list(status=status, limit=MAX_PAGE_SIZE, offset=offset)
        yield from batch
        if len(batch) < MAX_PAGE_SIZE:
            return
        offset += MAX_PAGE_SIZE


def tickets_csv(items: Iterable[TicketView]) -> Iterator[str]:
    def flat(t: TicketView) -> list[Any]:
        d = t.to_dict()
        d["steps_tried"] = "; ".join(d["steps_tried"])
        d["screenshots"] = "; ".join(s["location"] for s in d["screenshots"])
        d["last_note"] = next((h["note"] for h in reversed(d["history"]) if h["note"]), None)
        return [d[c] for c in TICKET_COLUMNS]

    return _csv_lines(TICKET_COLUMNS, (flat(t) for t in items))


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
