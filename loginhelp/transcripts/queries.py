"""Listing, filtering and searching conversations: one indexed query on the console database.

Everything a filter needs sits next to the conversation index (tickets, reviews,
tags are in the same database), so a page is a single SELECT with EXISTS
sub-queries, a COUNT for the pager, and two small look-ups for the tags and
tickets of the rows shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Any, Iterator, Mapping

from sqlalchemy import Integer, and_, case, column, exists, func, not_, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement, Select

from ..contract import ADDRESS_VERDICTS
from ..db.timeutil import utcnow
from ..handoff.figures import figures, taken_by_agent
from ..handoff.models import live_conversations
from ..tickets.models import Ticket
from .models import conversation_intents, conversation_reviews, conversation_search, conversation_summaries, conversation_tags
from .summary import ABANDONED, AGENT, HANDED, OUTCOME_LABELS, OUTCOMES, SOLVED, TICKET, search_words

tickets = Ticket.__table__
cs = conversation_summaries

MAX_PER_PAGE = 200
MAX_SEARCH_TERMS = 8
_TAG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def normalise_tag(tag: str) -> str:
    """Tags are short lower-case labels (letters, digits, - and _); ValueError otherwise."""
    value = "-".join(tag.strip().lower().split())
    if not _TAG_RE.fullmatch(value):
        raise ValueError("A tag is 1-40 letters, digits, '-' or '_' (for example: wrong-branch).")
    return value


def search_terms(query: str) -> list[list[str]]:
    """Whitespace-separated terms, each split into words like the index ("coinex.com" -> coinex, com)."""
    terms = [search_words(chunk) for chunk in query.split()]
    return [t for t in terms if t][:MAX_SEARCH_TERMS]


def fts5_expression(terms: list[list[str]]) -> str:
    """SQLite FTS5: every term as a phrase, its last word a prefix; all terms required."""
    return " AND ".join('"' + " ".join(words) + '"*' for words in terms)


def tsquery_expression(terms: list[list[str]]) -> str:
    """PostgreSQL to_tsquery('simple', ...): the same semantics as fts5_expression."""
    return " & ".join("(" + " <-> ".join(words[:-1] + [words[-1] + ":*"]) + ")" for words in terms)


def _parse_bool(value: Any) -> bool | None:
    if value in (None, "", "any"):
        return None
    if isinstance(value, bool):
        return value
    text_value = str(value).strip().lower()
    if text_value in ("1", "yes", "true", "on"):
        return True
    if text_value in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"expected yes or no, got {value!r}")


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _day_start(day: date) -> float:
    return datetime.combine(day, time.min, tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class ConversationFilters:
    q: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    intent: str | None = None
    branch: str | None = None
    address_verdict: str | None = None
    has_ticket: bool | None = None
    outcome: str | None = None
    reviewed: bool | None = None
    tag: str | None = None
    low_confidence: bool | None = None

    @classmethod
    def from_mapping(cls, args: Mapping[str, Any]) -> tuple["ConversationFilters", list[str]]:
        """Filters from query-string style values; invalid ones are dropped and reported."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for f in fields(cls):
            raw = args.get(f.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                if f.name in ("has_ticket", "reviewed", "low_confidence"):
                    values[f.name] = _parse_bool(raw)
                elif f.name in ("date_from", "date_to"):
                    values[f.name] = _parse_date(raw)
                elif f.name == "outcome":
                    outcome = str(raw).strip().lower()
                    if outcome not in OUTCOMES:
                        raise ValueError(f"expected one of {', '.join(OUTCOMES)}")
                    values[f.name] = outcome
                elif f.name == "address_verdict":
                    verdict = str(raw).strip().lower()
                    if verdict not in ADDRESS_VERDICTS:
                        raise ValueError(f"expected one of {', '.join(ADDRESS_VERDICTS)}")
                    values[f.name] = verdict
                elif f.name == "tag":
                    values[f.name] = normalise_tag(str(raw))
                else:
                    values[f.name] = str(raw).strip()[:255]
            except ValueError as exc:
                errors.append(f"{f.name}: {exc}")
        return cls(**values), errors

    def to_query(self) -> dict[str, str]:
        """Back to query-string values (for pager and export links)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        return out

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


@dataclass(frozen=True)
class TicketLink:
    reference: str
    status: str


@dataclass
class ConversationRow:
    conversation_id: str
    channel: str | None
    started_at: float
    last_at: float
    turns: int
    sessions: int
    branch: str | None
    outcome: str
    address_verdict: str | None
    low_confidence_turns: int
    first_message: str | None
    reviewed_by: str | None
    tags: list[str] = field(default_factory=list)
    tickets: list[TicketLink] = field(default_factory=list)
    #: Live handoff figures (loginhelp/handoff/figures.py); None when no agent was asked for.
    wait_seconds: float | None = None
    handling_seconds: float | None = None

    @property
    def reviewed(self) -> bool:
        return self.reviewed_by is not None

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    def to_dict(self) -> dict[str, Any]:
        iso = lambda t: datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")  # noqa: E731
        return {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "started_at": iso(self.started_at),
            "last_activity_at": iso(self.last_at),
            "turns": self.turns,
            "sessions": self.sessions,
            "branch": self.branch,
            "outcome": self.outcome,
            "address_verdict": self.address_verdict,
            "low_confidence_turns": self.low_confidence_turns,
            "first_message": self.first_message,
            "reviewed": self.reviewed,
            "reviewed_by": self.reviewed_by,
            "tags": list(self.tags),
            "tickets": [{"reference": t.reference, "status": t.status} for t in self.tickets],
            "wait_seconds": _rounded(self.wait_seconds),
            "handling_seconds": _rounded(self.handling_seconds),
        }


def _rounded(seconds: float | None) -> float | None:
    return round(seconds, 1) if seconds is not None else None


@dataclass(frozen=True)
class ConversationPage:
    rows: list[ConversationRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class ConversationQuery:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._facets: tuple[float, dict[str, list[str]]] | None = None
        self._ticket_exists = exists().where(tickets.c.conversation_id == cs.c.conversation_id)
        self._agent_took = taken_by_agent(cs.c.conversation_id)
        self._outcome = case(
            (cs.c.base_outcome == SOLVED, SOLVED), (self._ticket_exists, TICKET), (self._agent_took, AGENT),
            else_=cs.c.base_outcome,
        )

    # ------------------------------------------------------------ conditions

    def _search(self, query: str) -> ColumnElement | None:
        terms = search_terms(query)
        if not terms:
            return None
        if self._engine.dialect.name == "sqlite":
            matches = (
                text("SELECT rowid FROM conversation_search WHERE conversation_search MATCH :fts")
                .bindparams(fts=fts5_expression(terms))
                .columns(column("rowid", Integer))
            )
            return cs.c.id.in_(matches)
        matches = select(conversation_search.c.summary_id).where(
            text("conversation_search.body_tsv @@ to_tsquery('simple', :tsq)").bindparams(tsq=tsquery_expression(terms))
        )
        return cs.c.id.in_(matches)

    def conditions(self, f: ConversationFilters) -> list[ColumnElement]:
        where: list[ColumnElement] = []
        if f.q:
            found = self._search(f.q)
            exact_id = cs.c.conversation_id == f.q.strip()  # a pasted sender id finds its conversation
            where.append(or_(exact_id, found) if found is not None else exact_id)
        if f.channel:
            where.append(cs.c.channel == f.channel)
        if f.date_from:
            where.append(cs.c.last_at >= _day_start(f.date_from))
        if f.date_to:
            where.append(cs.c.started_at < _day_start(f.date_to + timedelta(days=1)))
        if f.intent:
            where.append(
                exists().where(
                    conversation_intents.c.conversation_id == cs.c.conversation_id,
                    conversation_intents.c.intent == f.intent,
                )
            )
        if f.branch:
            where.append(cs.c.branch == f.branch)
        if f.address_verdict:
            where.append(cs.c.address_verdict == f.address_verdict)
        if f.has_ticket is not None:
            where.append(self._ticket_exists if f.has_ticket else not_(self._ticket_exists))
        if f.outcome == SOLVED:
            where.append(cs.c.base_outcome == SOLVED)
        elif f.outcome == TICKET:
            where.append(and_(cs.c.base_outcome != SOLVED, self._ticket_exists))
        elif f.outcome == AGENT:
            where.append(and_(cs.c.base_outcome != SOLVED, not_(self._ticket_exists), self._agent_took))
        elif f.outcome in (HANDED, ABANDONED):
            where.append(and_(cs.c.base_outcome == f.outcome, not_(self._ticket_exists), not_(self._agent_took)))
        marks = conversation_reviews.alias("review_marks")  # the page query also joins conversation_reviews
        reviewed = exists().where(marks.c.conversation_id == cs.c.conversation_id)
        if f.reviewed is not None:
            where.append(reviewed if f.reviewed else not_(reviewed))
        if f.tag:
            where.append(
                exists().where(conversation_tags.c.conversation_id == cs.c.conversation_id, conversation_tags.c.tag == f.tag)
            )
        if f.low_confidence is not None:
            where.append(cs.c.low_confidence_turns > 0 if f.low_confidence else cs.c.low_confidence_turns == 0)
        return where

    def _select(self, f: ConversationFilters) -> Select:
        return (
            select(
                cs.c.id, cs.c.conversation_id, cs.c.channel, cs.c.started_at, cs.c.last_at, cs.c.turns,
                cs.c.sessions, cs.c.branch, self._outcome.label("outcome"), cs.c.address_verdict, cs.c.low_confidence_turns,
                cs.c.first_message, conversation_reviews.c.reviewed_by,
            )
            .select_from(cs.outerjoin(conversation_reviews, conversation_reviews.c.conversation_id == cs.c.conversation_id))
            .where(*self.conditions(f))
        )

    # --------------------------------------------------------------- queries

    def page(self, f: ConversationFilters, page: int = 1, per_page: int = 50) -> ConversationPage:
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        page = max(1, page)
        stmt = self._select(f).order_by(cs.c.last_at.desc(), cs.c.id.desc()).limit(per_page).offset((page - 1) * per_page)
        count = select(func.count()).select_from(cs).where(*self.conditions(f))
        with self._engine.connect() as conn:
            total = conn.execute(count).scalar_one()
            rows = [self._row(r) for r in conn.execute(stmt)]
            self._decorate(conn, rows)
        return ConversationPage(rows, total, page, per_page)

    def iter_rows(self, f: ConversationFilters, batch: int = 1000) -> Iterator[ConversationRow]:
        """Every matching conversation, newest first, in keyset-paged batches (for exports)."""
        last: tuple[float, int] | None = None
        while True:
            stmt = self._select(f).order_by(cs.c.last_at.desc(), cs.c.id.desc()).limit(batch)
            if last is not None:
                stmt = stmt.where(or_(cs.c.last_at < last[0], and_(cs.c.last_at == last[0], cs.c.id < last[1])))
            with self._engine.connect() as conn:
                raw = conn.execute(stmt).all()
                rows = [self._row(r) for r in raw]
                self._decorate(conn, rows)
            yield from rows
            if len(raw) < batch:
                return
            last = (raw[-1].last_at, raw[-1].id)

    def get(self, conversation_id: str) -> ConversationRow | None:
        stmt = self._select(ConversationFilters()).where(cs.c.conversation_id == conversation_id)
        with self._engine.connect() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            rows = [self._row(row)]
            self._decorate(conn, rows)
        return rows[0]

    def facets(self, max_age: float = 30.0) -> dict[str, list[str]]:
        """Values present in the data, for the filter drop-downs (cached ``max_age`` seconds)."""
        now = monotonic()
        if self._facets is not None and now - self._facets[0] < max_age:
            return self._facets[1]
        found = self._load_facets()
        self._facets = (now, found)
        return found

    def forget_facets(self) -> None:
        self._facets = None

    def _load_facets(self) -> dict[str, list[str]]:
        with self._engine.connect() as conn:
            channels = conn.execute(select(cs.c.channel).where(cs.c.channel.is_not(None)).distinct()).scalars().all()
            branches = conn.execute(select(cs.c.branch).where(cs.c.branch.is_not(None)).distinct()).scalars().all()
            tags = conn.execute(select(conversation_tags.c.tag).distinct()).scalars().all()
            intents = conn.execute(select(conversation_intents.c.intent).distinct()).scalars().all()
        return {
            "channels": sorted(channels),
            "branches": sorted(branches),
            "tags": sorted(tags),
            "intents": sorted(intents),
        }

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _row(r: Any) -> ConversationRow:
        return ConversationRow(
            conversation_id=r.conversation_id,
            channel=r.channel,
            started_at=r.started_at,
            last_at=r.last_at,
            turns=r.turns,
            sessions=r.sessions,
            branch=r.branch,
            outcome=r.outcome,
            address_verdict=r.address_verdict,
            low_confidence_turns=r.low_confidence_turns,
            first_message=r.first_message,
            reviewed_by=r.reviewed_by,
        )

    @staticmethod
    def _decorate(conn: Any, rows: list[ConversationRow]) -> None:
        """Attach tags, tickets and live-handoff figures to the rows shown (three small IN queries)."""
        if not rows:
            return
        by_id = {r.conversation_id: r for r in rows}
        ids = list(by_id)
        for cid, tag in conn.execute(
            select(conversation_tags.c.conversation_id, conversation_tags.c.tag)
            .where(conversation_tags.c.conversation_id.in_(ids))
            .order_by(conversation_tags.c.tag)
        ):
            by_id[cid].tags.append(tag)
        for cid, ref, status in conn.execute(
            select(tickets.c.conversation_id, tickets.c.reference, tickets.c.status)
            .where(tickets.c.conversation_id.in_(ids))
            .order_by(tickets.c.created_at)
        ):
            by_id[cid].tickets.append(TicketLink(ref, status))
        lc = live_conversations
        now = utcnow()
        for live in conn.execute(
            select(lc.c.conversation_id, lc.c.queued_at, lc.c.claimed_at, lc.c.released_at)
            .where(lc.c.conversation_id.in_(ids))
        ):
            found = figures(live.queued_at, live.claimed_at, live.released_at, now)
            by_id[live.conversation_id].wait_seconds = found.wait_seconds
            by_id[live.conversation_id].handling_seconds = found.handling_seconds
