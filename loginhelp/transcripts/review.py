"""What agents add to a conversation: reviewed mark, tags, notes and intent corrections."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..db.timeutil import utcnow
from ..secret_detection import redact
from .models import conversation_notes, conversation_reviews, conversation_tags, intent_corrections
from .queries import normalise_tag

MAX_NOTE_LENGTH = 5000
_INTENT_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class Note:
    id: int
    body: str
    author: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"body": self.body, "author": self.author, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class Correction:
    id: int
    conversation_id: str
    event_id: int
    text: str
    predicted_intent: str | None
    predicted_confidence: float | None
    correct_intent: str
    corrected_by: str
    corrected_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "event_id": self.event_id,
            "text": self.text,
            "predicted_intent": self.predicted_intent,
            "predicted_confidence": self.predicted_confidence,
            "correct_intent": self.correct_intent,
            "corrected_by": self.corrected_by,
            "corrected_at": self.corrected_at.isoformat(),
        }


@dataclass(frozen=True)
class Review:
    reviewed_by: str | None
    reviewed_at: datetime | None
    tags: list[str]
    notes: list[Note]
    corrections: dict[int, Correction]

    @property
    def reviewed(self) -> bool:
        return self.reviewed_by is not None


def validate_intent(intent: str, known: tuple[str, ...] = ()) -> str:
    value = intent.strip()
    if not _INTENT_RE.fullmatch(value):
        raise ValueError("An intent name is letters, digits and underscores.")
    if known and value not in known:
        raise ValueError(f"{value!r} is not an intent of the assistant's domain.")
    return value


class ReviewRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def review(self, conversation_id: str) -> Review:
        with self._engine.connect() as conn:
            mark = conn.execute(
                select(conversation_reviews).where(conversation_reviews.c.conversation_id == conversation_id)
            ).first()
            tags = conn.execute(
                select(conversation_tags.c.tag)
                .where(conversation_tags.c.conversation_id == conversation_id)
                .order_by(conversation_tags.c.tag)
            ).scalars().all()
            notes = conn.execute(
                select(conversation_notes)
                .where(conversation_notes.c.conversation_id == conversation_id)
                .order_by(conversation_notes.c.created_at, conversation_notes.c.id)
            ).all()
            corrections = conn.execute(
                select(intent_corrections).where(intent_corrections.c.conversation_id == conversation_id)
            ).all()
        return Review(
            reviewed_by=mark.reviewed_by if mark else None,
            reviewed_at=mark.reviewed_at if mark else None,
            tags=list(tags),
            notes=[Note(n.id, n.body, n.author, n.created_at) for n in notes],
            corrections={c.event_id: _correction(c) for c in corrections},
        )

    def set_reviewed(self, conversation_id: str, agent: str, reviewed: bool = True) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(conversation_reviews).where(conversation_reviews.c.conversation_id == conversation_id))
            if reviewed:
                conn.execute(
                    insert(conversation_reviews).values(
                        conversation_id=conversation_id, reviewed_by=agent, reviewed_at=utcnow()
                    )
                )

    def add_tag(self, conversation_id: str, tag: str, agent: str) -> str:
        value = normalise_tag(tag)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(conversation_tags).values(
                        conversation_id=conversation_id, tag=value, added_by=agent, added_at=utcnow()
                    )
                )
        except IntegrityError:
            pass  # already tagged
        return value

    def remove_tag(self, conversation_id: str, tag: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(conversation_tags).where(
                    conversation_tags.c.conversation_id == conversation_id, conversation_tags.c.tag == tag
                )
            )

    def add_note(self, conversation_id: str, body: str, agent: str) -> None:
        text = body.strip()
        if not text:
            raise ValueError("The note is empty.")
        if len(text) > MAX_NOTE_LENGTH:
            raise ValueError(f"A note has at most {MAX_NOTE_LENGTH} characters.")
        with self._engine.begin() as conn:
            conn.execute(
                insert(conversation_notes).values(
                    conversation_id=conversation_id, body=redact(text), author=agent, created_at=utcnow()
                )
            )

    def correct_intent(
        self,
        conversation_id: str,
        event_id: int,
        text: str,
        predicted_intent: str | None,
        predicted_confidence: float | None,
        correct_intent: str,
        agent: str,
    ) -> None:
        """Record (or replace) the right intent for one customer message."""
        values = dict(
            text=redact(" ".join(text.split())),
            predicted_intent=predicted_intent,
            predicted_confidence=predicted_confidence,
            correct_intent=correct_intent,
            corrected_by=agent,
            corrected_at=utcnow(),
        )
        match = (intent_corrections.c.conversation_id == conversation_id, intent_corrections.c.event_id == event_id)
        with self._engine.begin() as conn:
            if not conn.execute(update(intent_corrections).where(*match).values(**values)).rowcount:
                conn.execute(insert(intent_corrections).values(conversation_id=conversation_id, event_id=event_id, **values))

    def remove_correction(self, conversation_id: str, event_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(intent_corrections).where(
                    intent_corrections.c.conversation_id == conversation_id, intent_corrections.c.event_id == event_id
                )
            )

    def corrections(self) -> list[Correction]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(intent_corrections).order_by(intent_corrections.c.correct_intent, intent_corrections.c.id)
            ).all()
        return [_correction(r) for r in rows]


def _correction(row: Any) -> Correction:
    return Correction(
        id=row.id,
        conversation_id=row.conversation_id,
        event_id=row.event_id,
        text=row.text,
        predicted_intent=row.predicted_intent,
        predicted_confidence=row.predicted_confidence,
        correct_intent=row.correct_intent,
        corrected_by=row.corrected_by,
        corrected_at=row.corrected_at,
    )
