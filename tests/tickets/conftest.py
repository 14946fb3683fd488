"""Ticket fixtures; the databases (SQLite and PostgreSQL) come from tests/fixtures_db.py."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from loginhelp.db.engine import make_engine
from loginhelp.tickets.draft import ScreenshotDraft, TicketDraft
from loginhelp.tickets.repository import TicketRepository


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def repo(engine: Engine) -> TicketRepository:
    return TicketRepository(engine)


def build_draft(**overrides: Any) -> TicketDraft:
    """A complete, realistic draft; override any field."""
    values: dict[str, Any] = dict(
        email="alice@gmail.com",
        phone="+447911123456",
        description="Cannot log in: the 2FA code is always rejected.",
        error_message="Invalid verification code (error 2003)",
        steps_tried=["cleared cache", "synced phone clock"],
        device="iPhone 13, iOS 17.1",
        browser_version="CoinEx app 3.24.1",
        screenshots=[
            ScreenshotDraft(
                source="telegram",
                location="AgACAgQAAxkBAAIBQ2V",
                file_name="error.png",
                mime_type="image/png",
                size_bytes=48213,
            )
        ],
        category="twofa_code",
        channel="telegram",
        conversation_id="tg-123456789",
    )
    values.update(overrides)
    return TicketDraft(**values)


@pytest.fixture
def make_draft() -> Callable[..., TicketDraft]:
    """Builder for realistic drafts: ``make_draft(email=None, ...)``."""
    return build_draft
