"""The conversation index, filters and search, on SQLite and on the real PostgreSQL."""
from __future__ import annotations

import random
from typing import Callable

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.events import events
from loginhelp.transcripts.indexer import _State, advance_watermark
from loginhelp.transcripts.models import conversation_summaries
from loginhelp.transcripts.queries import ConversationFilters, fts5_expression, search_terms, tsquery_expression
from loginhelp.transcripts.service import TranscriptService
from loginhelp.transcripts.synthetic import DID_THAT_HELP, ConversationWriter, random_conversation

from .helpers import T0, ticket_for

DAY = 86400.0


def solved(cid: str, start: float, channel: str = "rest", text: str = "login page blank in chrome") -> ConversationWriter:
    w = ConversationWriter(cid, start, channel).session_start()
    w.user(text, "browser_issue", 0.9).action("action_start_branch").bot("Clear the cache.")
    w.bot("Did that help?", DID_THAT_HELP).slot("branch", "browser").slot("pending", "step_feedback").listen()
    return w.user("yes it worked", "problem_solved", 0.98).action("action_close_case").bot("Great").listen()


def abandoned(cid: str, start: float, channel: str = "socketio", text: str = "my authenticator code is wrong",
              confidence: float = 0.9) -> ConversationWriter:
    w = ConversationWriter(cid, start, channel).session_start()
    w.user(text, "twofa_code_rejected", confidence).action("action_start_branch").bot("Sync the clock of your phone.")
    return w.slot("branch", "twofa_code").slot("pending", "step_feedback").listen()


def handed(cid: str, start: float) -> ConversationWriter:
    w = ConversationWriter(cid, start, "telegram").session_start()
    return w.user("I want a human", "contact_support", 0.95).action("utter_ticket_placeholder").bot("Ticket...").listen()


def ids(service: TranscriptService, **filters: object) -> list[str]:
    parsed, errors = ConversationFilters.from_mapping(filters)
    assert not errors
    return [r.conversation_id for r in service.page(parsed, 1, 200).rows]


@pytest.fixture
def seeded(service: TranscriptService, write: Callable[..., None], tickets: TicketRepository) -> TranscriptService:
    write(
        solved("s1", T0),
        abandoned("a1", T0 + DAY, text="2fa code keeps failing", confidence=0.4),
        handed("h1", T0 + 2 * DAY),
        abandoned("t1", T0 + 3 * DAY, channel="rest", text="locked out after the coinex.com update"),
        solved("st", T0 + 4 * DAY, channel="telegram", text="chrome shows a white page"),
    )
    ticket_for(tickets, "t1")
    ticket_for(tickets, "st")  # solved wins over ticket
    return service


def test_list_newest_first_with_every_column(seeded: TranscriptService) -> None:
    page = seeded.page(ConversationFilters(), 1, 50)
    assert page.total == 5
    assert [r.conversation_id for r in page.rows] == ["st", "t1", "h1", "a1", "s1"]
    rows = {r.conversation_id: r for r in page.rows}
    assert (rows["s1"].channel, rows["s1"].turns, rows["s1"].branch, rows["s1"].outcome) == ("rest", 2, "browser", "solved")
    assert rows["t1"].outcome == "ticket" and [t.reference for t in rows["t1"].tickets]
    assert rows["st"].outcome == "solved" and rows["st"].tickets
    assert rows["h1"].outcome == "handed" and rows["a1"].outcome == "abandoned"
    assert rows["a1"].low_confidence_turns == 1 and rows["s1"].low_confidence_turns == 0
    assert rows["s1"].started_at < rows["s1"].last_at


FILTER_CASES = [
    ({"channel": "telegram"}, ["st", "h1"]),
    ({"outcome": "solved"}, ["st", "s1"]),
    ({"outcome": "ticket"}, ["t1"]),
    ({"outcome": "handed"}, ["h1"]),
    ({"outcome": "abandoned"}, ["a1"]),
    ({"has_ticket": "yes"}, ["st", "t1"]),
    ({"has_ticket": "no"}, ["h1", "a1", "s1"]),
    ({"branch": "twofa_code"}, ["t1", "a1"]),
    ({"intent": "contact_support"}, ["h1"]),
    ({"intent": "problem_solved"}, ["st", "s1"]),
    ({"low_confidence": "yes"}, ["a1"]),
    ({"low_confidence": "no"}, ["st", "t1", "h1", "s1"]),
    ({"date_from": "2024-11-27", "date_to": "2024-11-28"}, ["h1", "a1"]),
    ({"date_to": "2024-11-26"}, ["s1"]),
    ({"q": "chrome"}, ["st", "s1"]),
    ({"q": "CHROM"}, ["st", "s1"]),  # prefix, any case
    ({"q": "coinex.com update"}, ["t1"]),  # every term must match
    ({"q": "authenticator code"}, []),  # the phrase is not in a1's text ("2fa code keeps failing")
    ({"q": "sync the clock"}, ["t1", "a1"]),  # the assistant's words are searchable too
    ({"q": "white page", "channel": "telegram", "outcome": "solved"}, ["st"]),
    ({"q": "h1"}, ["h1"]),  # a conversation id
    ({"q": "!!!"}, []),
]


def test_filters(seeded: TranscriptService) -> None:
    """Every filter alone and combined (one seeded database, many queries)."""
    got = {str(filters): ids(seeded, **filters) for filters, _ in FILTER_CASES}
    assert got == {str(filters): expected for filters, expected in FILTER_CASES}


def test_review_and_tag_filters(seeded: TranscriptService) -> None:
    seeded.reviews.set_reviewed("a1", "agent@coinex.test")
    seeded.reviews.add_tag("a1", "Wrong Branch", "agent@coinex.test")
    seeded.reviews.add_tag("h1", "wrong-branch", "agent@coinex.test")
    assert ids(seeded, reviewed="yes") == ["a1"]
    assert ids(seeded, reviewed="no") == ["st", "t1", "h1", "s1"]
    assert ids(seeded, tag="wrong-branch") == ["h1", "a1"]
    assert ids(seeded, tag="wrong-branch", reviewed="no") == ["h1"]
    row = seeded.query.get("a1")
    assert row is not None and row.reviewed and row.tags == ["wrong-branch"]
    seeded.reviews.set_reviewed("a1", "agent@coinex.test", False)
    assert ids(seeded, reviewed="yes") == []


def test_invalid_filters_are_reported_not_applied() -> None:
    filters, errors = ConversationFilters.from_mapping(
        {"outcome": "exploded", "date_from": "yesterday", "has_ticket": "maybe", "tag": "<b>"})
    assert not filters.active
    assert len(errors) == 4


def test_pagination(service: TranscriptService, write: Callable[..., None]) -> None:
    write(*(abandoned(f"p{i:02d}", T0 + i * 60) for i in range(23)))
    first = service.page(ConversationFilters(), 1, 10)
    third = service.page(ConversationFilters(), 3, 10)
    assert (first.total, first.pages, len(first.rows), len(third.rows)) == (23, 3, 10, 3)
    assert first.rows[0].conversation_id == "p22" and third.rows[-1].conversation_id == "p00"
    every = [r.conversation_id for r in service.query.iter_rows(ConversationFilters(), batch=7)]
    assert every == [f"p{i:02d}" for i in range(22, -1, -1)]


def test_new_events_update_the_index(service: TranscriptService, write: Callable[..., None]) -> None:
    w = abandoned("live", T0)
    write(w)
    assert service.page(ConversationFilters(), 1, 10).rows[0].outcome == "abandoned"
    before = len(w.rows)
    w.user("it works now", "problem_solved", 0.97).action("action_close_case").listen()
    later = ConversationWriter("live", 0)
    later.rows = w.rows[before:]
    write(later)
    row = service.page(ConversationFilters(), 1, 10).rows[0]
    assert (row.conversation_id, row.outcome, row.turns) == ("live", "solved", 2)
    assert ids(service, q="works") == ["live"]


def test_tracker_store_recreated_rebuilds_the_index(
    service: TranscriptService, write: Callable[..., None], tracker_engine: Engine, console_engine: Engine
) -> None:
    write(abandoned("old-1", T0), abandoned("old-2", T0 + 10))
    assert service.page(ConversationFilters()).total == 2
    with tracker_engine.begin() as conn:
        conn.execute(delete(events))
        if conn.dialect.name == "postgresql":  # a new database starts counting at 1 again
            conn.exec_driver_sql("ALTER SEQUENCE events_id_seq RESTART WITH 1")
    write(handed("new-1", T0 + 20))
    assert ids(service) == ["new-1"]
    with console_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(conversation_summaries)).scalar() == 1


def test_watermark_waits_for_holes_then_gives_up() -> None:
    state = _State(10)
    first = advance_watermark(10, [11, 12, 14, 15], state, now=100.0, hole_timeout=30)
    assert (first.stable_id, first.hole_id, first.hole_since) == (12, 13, 100.0)
    filled = advance_watermark(12, [13, 14, 15], first, now=105.0, hole_timeout=30)
    assert (filled.stable_id, filled.hole_id) == (15, None)
    still = advance_watermark(12, [14, 15], first, now=120.0, hole_timeout=30)
    assert (still.stable_id, still.hole_id, still.hole_since) == (12, 13, 100.0)
    skipped = advance_watermark(12, [14, 15, 17], still, now=131.0, hole_timeout=30)
    assert (skipped.stable_id, skipped.hole_id, skipped.hole_since) == (15, 16, 131.0)


def test_late_commit_is_picked_up(service: TranscriptService, write: Callable[..., None], tracker_engine: Engine) -> None:
    """An event id that becomes visible after a higher one (PostgreSQL commit order) is not lost."""
    write(abandoned("early", T0))
    service.page(ConversationFilters())
    late = solved("late", T0 + 5)
    rows = late.rows
    with tracker_engine.begin() as conn:
        top = conn.execute(select(func.max(events.c.id))).scalar()
        # Ids top+2.. are visible first; top+1 arrives later.
        conn.execute(events.insert(), [{**r, "id": top + 2 + i} for i, r in enumerate(rows[1:])])
    assert ids(service, q="worked") == ["late"]
    with tracker_engine.begin() as conn:
        conn.execute(events.insert(), [{**rows[0], "id": top + 1, "sender_id": "hole-filler"}])
    assert "hole-filler" in ids(service)


def test_missing_tracker_table_is_an_empty_list(tmp_path) -> None:
    from loginhelp.db.migrate import upgrade

    console = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(console)
    svc = TranscriptService.from_urls(console, f"sqlite:///{tmp_path / 'not-yet.db'}", refresh_interval=0)
    try:
        assert svc.page(ConversationFilters()).total == 0
        assert svc.transcript("nobody") is None
    finally:
        svc.dispose()


def test_unreadable_tracker_keeps_the_stale_index(tmp_path) -> None:
    from loginhelp.db.migrate import upgrade

    console = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(console)
    svc = TranscriptService.from_urls(console, "postgresql+psycopg2://postgres@127.0.0.1:1/nothing", refresh_interval=0)
    try:
        assert svc.page(ConversationFilters()).total == 0
        assert svc.last_error and "could not be read" in svc.last_error
    finally:
        svc.dispose()


def test_random_traffic_is_consistent(service: TranscriptService, write: Callable[..., None]) -> None:
    rng = random.Random(7)
    writers = [random_conversation(rng, f"r{i:03d}", T0 + i * 300) for i in range(60)]
    write(*writers)
    total = service.page(ConversationFilters()).total
    assert total == 60
    by_outcome = sum(service.page(ConversationFilters(outcome=o)).total for o in ("solved", "ticket", "handed", "abandoned"))
    assert by_outcome == 60
    low = service.page(ConversationFilters(low_confidence=True)).total
    assert low + service.page(ConversationFilters(low_confidence=False)).total == 60


def test_search_expressions_are_safe() -> None:
    terms = search_terms('"; DROP TABLE x; -- coinex.com* OR NEAR(')
    assert fts5_expression(terms) == '"drop"* AND "table"* AND "x"* AND "coinex com"* AND "or"* AND "near"*'
    assert tsquery_expression(search_terms("coinex.com login")) == "(coinex <-> com:*) & (login:*)"
    assert search_terms("!!! ???") == []


def phishing(cid: str, start: float, verdicts: list[str]) -> ConversationWriter:
    """A phishing question per verdict, as action_start_branch records them."""
    w = ConversationWriter(cid, start, "socketio").session_start()
    for verdict in verdicts:
        w.user(f"is this address real ({verdict})", "phishing_check", 0.95).action("action_start_branch")
        w.bot("Verdict.").slot("address_verdict", verdict).slot("branch", "phishing").listen()
    return w


def test_address_verdict_is_the_worst_shown_and_filters(service: TranscriptService,
                                                        write: Callable[..., None]) -> None:
    write(
        phishing("p-official", T0, ["official"]),
        phishing("p-look", T0 + DAY, ["lookalike", "official"]),  # a later official address does not hide it
        phishing("p-other", T0 + 2 * DAY, ["official", "not_coinex"]),
        solved("p-none", T0 + 3 * DAY),
    )
    rows = {r.conversation_id: r for r in service.page(ConversationFilters(), 1, 50).rows}
    assert {cid: r.address_verdict for cid, r in rows.items()} == {
        "p-official": "official", "p-look": "lookalike", "p-other": "not_coinex", "p-none": None}
    assert ids(service, address_verdict="lookalike") == ["p-look"]
    assert ids(service, address_verdict="NOT_COINEX") == ["p-other"]
    assert rows["p-look"].to_dict()["address_verdict"] == "lookalike"
    filters, errors = ConversationFilters.from_mapping({"address_verdict": "suspicious"})
    assert not filters.active and errors == ["address_verdict: expected one of official, not_coinex, lookalike"]
