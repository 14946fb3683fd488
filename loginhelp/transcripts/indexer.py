"""Keeps the conversation index (console database) in step with the tracker store.

The index is a cache: each refresh reads the tracker events with an id above the
``stable_id`` watermark, re-summarises every conversation they belong to from
all of its events, and moves the watermark. It is idempotent, so replicas that
refresh at the same time only duplicate work (PostgreSQL: an advisory lock lets
one replica do it at a time).

On PostgreSQL ids are handed out at insert but become visible at commit, so a
later id can be visible before an earlier one. A missing id therefore stops the
watermark ("hole") until it appears or ``hole_timeout`` seconds pass (a
rolled-back insert leaves a permanent hole). When the tracker's highest id is
below the watermark the tracker store was recreated and the index is rebuilt.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .events import TrackerReader
from .models import (
    conversation_intents,
    conversation_search,
    conversation_summaries,
    transcript_index_state,
)
from .summary import ConversationSummary, summarize

log = logging.getLogger(__name__)

#: pg_try_advisory_lock key: one replica refreshes at a time ("LHix").
_PG_LOCK_ID = 0x4C48_6978
_STATE_ID = 1
#: Conversations (re)indexed in one refresh after which PostgreSQL statistics are refreshed.
ANALYZE_AFTER = 1000
_SUMMARY_COLUMNS = (
    "channel", "started_at", "last_at", "turns", "sessions", "branch", "address_verdict", "base_outcome",
    "low_confidence_turns", "first_message", "event_count", "last_event_id",
)


@dataclass(frozen=True)
class IndexResult:
    conversations: int
    stable_id: int
    rebuilt: bool = False
    skipped: bool = False


@dataclass
class _State:
    stable_id: int = 0
    hole_id: int | None = None
    hole_since: float | None = None


def advance_watermark(
    stable_id: int, ids: Iterable[int], state: _State, now: float, hole_timeout: float
) -> _State:
    """The new watermark after seeing ``ids`` (ascending, all > stable_id); pure, for tests."""
    expected = stable_id + 1
    new = _State(stable_id)
    for event_id in ids:
        if event_id == expected:
            new.stable_id = expected
            expected += 1
            continue
        if state.hole_id == expected and state.hole_since is not None and now - state.hole_since >= hole_timeout:
            log.info("tracker event ids %s..%s never appeared; skipping them", expected, event_id - 1)
            new.stable_id = event_id
            expected = event_id + 1
            state = _State(stable_id)  # a later hole starts its own clock
            continue
        new.hole_id = expected
        new.hole_since = state.hole_since if state.hole_id == expected else now
        break
    return new


class TranscriptIndexer:
    def __init__(
        self,
        console_engine: Engine,
        reader: TrackerReader,
        threshold: float,
        *,
        hole_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = console_engine
        self._reader = reader
        self._threshold = threshold
        self._hole_timeout = hole_timeout
        self._clock = clock
        self._lock = threading.Lock()

    # --------------------------------------------------------------- public

    def refresh(self) -> IndexResult:
        with self._lock, self._replica_lock() as acquired:
            if not acquired:
                return IndexResult(0, self._load_state().stable_id, skipped=True)
            return self._refresh()

    def rebuild(self) -> IndexResult:
        with self._lock, self._replica_lock() as acquired:
            if not acquired:
                return IndexResult(0, self._load_state().stable_id, skipped=True)
            self._wipe()
            result = self._refresh()
            return IndexResult(result.conversations, result.stable_id, rebuilt=True)

    # -------------------------------------------------------------- helpers

    @contextmanager
    def _replica_lock(self) -> Iterator[bool]:
        """PostgreSQL: a session advisory lock so one replica refreshes at a time (others skip)."""
        if self._engine.dialect.name != "postgresql":
            yield True
            return
        with self._engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_ID}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
                    conn.commit()

    def _load_state(self) -> _State:
        with self._engine.connect() as conn:
            row = conn.execute(select(transcript_index_state).where(transcript_index_state.c.id == _STATE_ID)).first()
        return _State(row.stable_id, row.hole_id, row.hole_since) if row else _State()

    def _save_state(self, state: _State) -> None:
        values = dict(
            stable_id=state.stable_id, hole_id=state.hole_id, hole_since=state.hole_since, updated_at=self._clock()
        )
        with self._engine.begin() as conn:
            done = conn.execute(
                update(transcript_index_state).where(transcript_index_state.c.id == _STATE_ID).values(**values)
            ).rowcount
            if not done:
                conn.execute(insert(transcript_index_state).values(id=_STATE_ID, **values))

    def _wipe(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(conversation_search))
            conn.execute(delete(conversation_intents))
            conn.execute(delete(conversation_summaries))
            conn.execute(delete(transcript_index_state))

    def _refresh(self) -> IndexResult:
        state = self._load_state()
        top = self._reader.max_id()
        rebuilt = False
        if top < state.stable_id:
            log.warning("tracker store is behind the index (max id %s < %s); rebuilding", top, state.stable_id)
            self._wipe()
            state, rebuilt = _State(), True
        if top == state.stable_id:
            return IndexResult(0, state.stable_id, rebuilt)
        rows = self._reader.ids_after(state.stable_id)
        senders = {sender for _, sender in rows}
        new_state = advance_watermark(
            state.stable_id, (i for i, _ in rows), state, self._clock(), self._hole_timeout
        )
        count = self._index(senders)
        self._save_state(new_state)
        if count >= ANALYZE_AFTER and self._engine.dialect.name == "postgresql":
            self._analyze()
        return IndexResult(count, new_state.stable_id, rebuilt)

    def _analyze(self) -> None:
        """Fresh planner statistics after a bulk (re)build, before autovacuum gets to it."""
        with self._engine.begin() as conn:
            conn.execute(text("ANALYZE conversation_summaries, conversation_intents, conversation_search"))

    def _summaries(self, senders: set[str]) -> Iterator[list[ConversationSummary]]:
        batch: list[ConversationSummary] = []
        for sender, evs in self._reader.conversations(senders):
            if evs:
                batch.append(summarize(sender, evs, self._threshold))
            if len(batch) >= 400:
                yield batch
                batch = []
        if batch:
            yield batch

    def _index(self, senders: set[str]) -> int:
        count = 0
        for batch in self._summaries(senders):
            try:
                self._write(batch)
            except IntegrityError:  # another process inserted the same conversation first
                self._write(batch)
            count += len(batch)
        return count

    def _write(self, batch: list[ConversationSummary]) -> None:
        now = self._clock()
        cs = conversation_summaries
        cids = [s.conversation_id for s in batch]
        with self._engine.begin() as conn:
            existing = dict(conn.execute(select(cs.c.conversation_id, cs.c.id).where(cs.c.conversation_id.in_(cids))).all())
            rows = [
                {"conversation_id": s.conversation_id, "indexed_at": now, **{c: getattr(s, c) for c in _SUMMARY_COLUMNS}}
                for s in batch
            ]
            fresh = [r for r in rows if r["conversation_id"] not in existing]
            if fresh:
                conn.execute(insert(cs), fresh)
            changed = (*_SUMMARY_COLUMNS, "indexed_at")
            known = [
                {"row_id": existing[r["conversation_id"]], **{f"v_{c}": r[c] for c in changed}}
                for r in rows
                if r["conversation_id"] in existing
            ]
            if known:
                conn.execute(
                    update(cs).where(cs.c.id == bindparam("row_id")).values({c: bindparam(f"v_{c}") for c in changed}),
                    known,
                )
            ids = dict(conn.execute(select(cs.c.conversation_id, cs.c.id).where(cs.c.conversation_id.in_(cids))).all())
            conn.execute(delete(conversation_intents).where(conversation_intents.c.conversation_id.in_(cids)))
            intents = [{"conversation_id": s.conversation_id, "intent": i[:100]} for s in batch for i in s.intents]
            if intents:
                conn.execute(insert(conversation_intents), intents)
            self._write_search(conn, [(ids[s.conversation_id], s.search_text) for s in batch])

    @staticmethod
    def _write_search(conn: Connection, docs: list[tuple[int, str]]) -> None:
        ids = [doc_id for doc_id, _ in docs]
        if conn.dialect.name == "sqlite":
            conn.execute(
                text("DELETE FROM conversation_search WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": ids},
            )
            conn.execute(
                text("INSERT INTO conversation_search (rowid, body) VALUES (:id, :body)"),
                [{"id": i, "body": body} for i, body in docs],
            )
        else:
            conn.execute(delete(conversation_search).where(conversation_search.c.summary_id.in_(ids)))
            conn.execute(insert(conversation_search), [{"summary_id": i, "body": body} for i, body in docs])
