"""One object the console and the CLI share: index refresh, listing, transcripts, reviews."""
from __future__ import annotations

import logging
import threading
import time
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db.engine import make_engine, tracker_database_url
from ..handoff.errors import LiveNotFound
from ..handoff.repository import LiveRepository
from .config import fallback_threshold
from .events import TrackerReader, make_tracker_engine
from .indexer import IndexResult, TranscriptIndexer
from .queries import ConversationFilters, ConversationPage, ConversationQuery, ConversationRow
from .review import ReviewRepository
from .transcript import LiveLine, Transcript, add_live_lines, build_transcript

log = logging.getLogger(__name__)

#: Live messages read per query when a transcript gathers its live chat.
_LIVE_PAGE = 500


class TranscriptService:
    def __init__(
        self,
        console_engine: Engine,
        tracker_engine: Engine,
        *,
        threshold: float | None = None,
        refresh_interval: float = 2.0,
    ) -> None:
        self.console_engine = console_engine
        self.tracker_engine = tracker_engine
        self.threshold = fallback_threshold() if threshold is None else threshold
        self.reader = TrackerReader(tracker_engine)
        self.indexer = TranscriptIndexer(console_engine, self.reader, self.threshold)
        self.query = ConversationQuery(console_engine)
        self.reviews = ReviewRepository(console_engine)
        self.live = LiveRepository(console_engine)
        self.refresh_interval = refresh_interval
        #: Why the last refresh failed (shown as a banner); None when it worked.
        self.last_error: str | None = None
        self._last_refresh = 0.0
        self._throttle = threading.Lock()

    @classmethod
    def from_urls(cls, console_url: str, tracker_url: str | None = None, **kwargs: object) -> "TranscriptService":
        return cls(make_engine(console_url), make_tracker_engine(tracker_url or tracker_database_url()), **kwargs)  # type: ignore[arg-type]

    def dispose(self) -> None:
        self.console_engine.dispose()
        self.tracker_engine.dispose()

    def refresh(self, force: bool = False) -> IndexResult | None:
        """Bring the index up to date, at most every ``refresh_interval`` seconds unless forced.

        A tracker store that cannot be read leaves the (stale) index usable and
        records why in ``last_error``.
        """
        with self._throttle:
            now = time.monotonic()
            if not force and now - self._last_refresh < self.refresh_interval:
                return None
            self._last_refresh = now
        try:
            result = self.indexer.refresh()
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            reason = detail[0] if detail else type(exc).__name__
            self.last_error = f"The tracker store could not be read ({reason}); the list may be out of date."
            log.warning("conversation index refresh failed: %s", exc)
            return None
        self.last_error = None
        return result

    def page(self, filters: ConversationFilters, page: int = 1, per_page: int = 50) -> ConversationPage:
        self.refresh()
        return self.query.page(filters, page, per_page)

    def iter_rows(self, filters: ConversationFilters) -> Iterator[ConversationRow]:
        self.refresh()
        return self.query.iter_rows(filters)

    def summary(self, conversation_id: str) -> ConversationRow | None:
        return self.query.get(conversation_id)

    def transcript(self, conversation_id: str, with_live: bool = True) -> Transcript | None:
        """The assistant's turns with the live chat (agent, customer and system lines) in between, by time.

        ``with_live=False``: the assistant's part alone (the live chat page shows the live part below it).
        """
        events = self.reader.conversation(conversation_id)
        built = build_transcript(conversation_id, events, self.threshold) if events else None
        if not with_live:
            return built
        return add_live_lines(built, conversation_id, self.live_lines(conversation_id))

    def live_lines(self, conversation_id: str) -> list[LiveLine]:
        """Every stored live-chat message of the conversation; none when it never asked for an agent."""
        lines: list[LiveLine] = []
        while True:
            try:
                batch = self.live.messages_after(conversation_id, lines[-1].n if lines else 0, limit=_LIVE_PAGE)
            except LiveNotFound:
                return []
            lines.extend(
                LiveLine(m.created_at.timestamp(), m.n, m.sender, m.agent_email, m.text) for m in batch
            )
            if len(batch) < _LIVE_PAGE:
                return lines
