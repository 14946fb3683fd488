from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from loginhelp.cli import main
from loginhelp.db.engine import make_engine
from loginhelp.db.migrate import SchemaBehind
from loginhelp.tickets.draft import TicketDraft
from loginhelp.tickets.models import Ticket
from loginhelp.tickets.references import is_valid_reference
from loginhelp.tickets.repository import TicketRepository
from loginhelp.tickets.service import TicketService

#: Nothing listens on port 1: the "database is down" case.
UNREACHABLE_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:1/loginhelp"


def _ticket_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture(params=["postgres-closed-port", "sqlite-missing-dir"])
def broken_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that cannot be reached: nothing listens on port 1 / the directory does not exist."""
    if request.param == "postgres-closed-port":
        return UNREACHABLE_POSTGRES_URL
    return f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'tickets.db'}"


@pytest.fixture
async def service(database_url: str, spool_dir: Path):
    svc = TicketService(database_url, spool_dir=spool_dir)
    yield svc
    await svc.aclose()


async def test_create_runs_in_the_database_thread_pool(
    make_draft,
    service: TicketService, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    original = TicketRepository.create

    def spy(self, draft, **kwargs):
        threads.append(threading.current_thread().name)
        return original(self, draft, **kwargs)

    monkeypatch.setattr(TicketRepository, "create", spy)
    result = await service.create(make_draft())

    assert result.stored is True
    assert is_valid_reference(result.reference)
    assert threads and all(name.startswith("loginhelp-db") for name in threads)
    assert threading.current_thread().name not in threads
    stored = await service.get(result.reference)
    assert stored is not None and stored.description == make_draft().description
    assert _ticket_count(database_url) == 1


async def test_slow_database_does_not_block_other_conversations(
    make_draft,
    service: TicketService, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = TicketRepository.create

    def slow(self, draft, **kwargs):
        time.sleep(0.5)
        return original(self, draft, **kwargs)

    monkeypatch.setattr(TicketRepository, "create", slow)
    await service.get("LH-ZZZZZZ")  # engine + migration outside the timed part
    ticks = 0

    async def other_conversation() -> None:
        nonlocal ticks
        for _ in range(8):
            await asyncio.sleep(0.02)
            ticks += 1

    async def file_ticket() -> int:
        result = await service.create(make_draft())
        assert result.stored
        return ticks  # how far the other conversation got while the insert ran

    start = time.monotonic()
    ticks_when_filed, _ = await asyncio.gather(file_ticket(), other_conversation())
    assert time.monotonic() - start >= 0.5
    # All 8 short sleeps (0.16 s) finished during the 0.5 s insert: the loop was never blocked.
    assert ticks_when_filed == 8


async def test_concurrent_creates_get_distinct_references(make_draft, service: TicketService, database_url: str) -> None:
    results = await asyncio.gather(
        *(service.create(make_draft(conversation_id=f"conv-{i}")) for i in range(8))
    )
    assert all(r.stored for r in results)
    assert len({r.reference for r in results}) == 8
    assert _ticket_count(database_url) == 8


async def test_service_wrappers(make_draft, service: TicketService) -> None:
    ref = (await service.create(make_draft(conversation_id="conv-1"))).reference

    assert [t.reference for t in await service.find_open_for_contact(email="ALICE@gmail.com")] == [ref]
    assert await service.status_for(ref, conversation_id="conv-1") is not None
    assert await service.status_for(ref, conversation_id="conv-2") is None

    appended = await service.append_details(ref, TicketDraft(description="more", steps_tried=["new step"]))
    assert appended.steps_tried[-1] == "new step"
    assert appended.history[-1].note == "details added"

    updated = await service.set_status(ref, "resolved", note="fixed", changed_by="agent@coinex.com")
    assert (updated.status, updated.history[-1].changed_by) == ("resolved", "agent@coinex.com")
    assert [t.reference for t in await service.list(status="resolved")] == [ref]
    assert await service.list(status="open") == []
    assert await service.find_open_for_contact(email="alice@gmail.com") == []
    with pytest.raises(ValueError):
        await service.set_status(ref, "bogus")


async def test_invalid_draft_is_rejected_not_spooled(make_draft, service: TicketService, spool_dir: Path) -> None:
    with pytest.raises(ValueError):
        await service.create(make_draft(reference="LH-OOOOOO"))
    assert service.spool.pending() == []


async def test_create_spools_when_database_is_down_then_flushes_once(
    make_draft,
    broken_url: str, database_url: str, spool_dir: Path
) -> None:
    draft = make_draft()
    before = datetime.now(timezone.utc)
    async with TicketService(broken_url, spool_dir=spool_dir) as down:
        result = await down.create(draft)
    assert result.stored is False
    assert is_valid_reference(result.reference)

    [spooled] = list(spool_dir.glob("*.json"))
    assert result.reference in spooled.name
    payload = json.loads(spooled.read_text(encoding="utf-8"))
    assert payload["draft"] == {**draft.cleaned().to_dict(), "reference": result.reference}
    assert spooled.stat().st_mode & 0o077 == 0  # contact details: owner-only
    backup = spooled.read_bytes()

    flushed_at = datetime.now(timezone.utc)
    async with TicketService(database_url, spool_dir=spool_dir) as up:
        assert await up.flush_spool() == 1
        assert list(spool_dir.glob("*.json")) == []
        stored = await up.get(result.reference)
        assert stored is not None
        assert stored.to_dict() | {"created_at": None, "updated_at": None, "history": None, "screenshots": None} == {
            "reference": result.reference,
            "status": "open",
            "contact_email": draft.email,
            "contact_phone": draft.phone,
            "description": draft.description,
            "error_message": draft.error_message,
            "steps_tried": draft.steps_tried,
            "device": draft.device,
            "browser_version": draft.browser_version,
            "category": draft.category,
            "channel": draft.channel,
            "conversation_id": draft.conversation_id,
            "created_at": None,
            "updated_at": None,
            "history": None,
            "screenshots": None,
        }
        assert [s.location for s in stored.screenshots] == [draft.screenshots[0].location]
        assert "delayed" in (stored.history[0].note or "")
        # The ticket keeps the time the customer filed it, not the flush time.
        assert before <= stored.created_at <= flushed_at

        # Idempotent: a second flush, even of the same file again, adds nothing.
        assert await up.flush_spool() == 0
        spooled.write_bytes(backup)
        await up.flush_spool()
        assert list(spool_dir.glob("*.json")) == []
    assert _ticket_count(database_url) == 1


async def test_flush_keeps_files_while_database_is_down(make_draft, broken_url: str, spool_dir: Path) -> None:
    async with TicketService(broken_url, spool_dir=spool_dir) as down:
        result = await down.create(make_draft())
        assert not result.stored
        with pytest.raises(sa_exc.OperationalError):
            await down.flush_spool()
        # Other calls still fail with the real error rather than hanging or losing the spool.
        with pytest.raises(sa_exc.OperationalError):
            await down.get(result.reference)
    assert len(list(spool_dir.glob("*.json"))) == 1


async def test_next_service_call_flushes_the_spool(make_draft, database_url: str, spool_dir: Path) -> None:
    async with TicketService(UNREACHABLE_POSTGRES_URL, spool_dir=spool_dir) as down:
        refs = [(await down.create(make_draft(conversation_id=f"c{i}"))).reference for i in range(3)]
    assert len(list(spool_dir.glob("*.json"))) == 3

    async with TicketService(database_url, spool_dir=spool_dir) as up:
        view = await up.status_for(refs[0], conversation_id="c0")  # no explicit flush
        assert view is not None and view.reference == refs[0]
        listed = await up.list()
    assert [t.reference for t in listed] == refs[::-1]  # spool order kept
    assert list(spool_dir.glob("*.json")) == []


async def test_unreadable_spool_file_is_set_aside(make_draft, database_url: str, spool_dir: Path) -> None:
    async with TicketService(UNREACHABLE_POSTGRES_URL, spool_dir=spool_dir) as down:
        good = (await down.create(make_draft())).reference
    (spool_dir / "00000000000000000001-LH-BROKEN.json").write_text("{not json", encoding="utf-8")

    async with TicketService(database_url, spool_dir=spool_dir) as up:
        assert await up.flush_spool() == 1
        assert await up.get(good) is not None
    assert [p.name for p in spool_dir.iterdir()] == ["00000000000000000001-LH-BROKEN.json.bad"]


async def test_spooled_reference_taken_by_another_ticket_is_refiled(make_draft, database_url: str, spool_dir: Path) -> None:
    async with TicketService(database_url, spool_dir=spool_dir) as up:
        other = await up.create(make_draft(reference="LH-AAAAAA", conversation_id="someone-else"))
    async with TicketService(UNREACHABLE_POSTGRES_URL, spool_dir=spool_dir) as down:
        spooled = await down.create(make_draft(reference="LH-AAAAAA", conversation_id="mine"))
    assert (other.reference, spooled.reference, spooled.stored) == ("LH-AAAAAA", "LH-AAAAAA", False)

    async with TicketService(database_url, spool_dir=spool_dir) as up:
        assert await up.flush_spool() == 1
        tickets = await up.list()
    assert len(tickets) == 2
    [mine] = [t for t in tickets if t.conversation_id == "mine"]
    assert mine.reference != "LH-AAAAAA"
    assert "LH-AAAAAA" in (mine.history[0].note or "")
    assert [t.conversation_id for t in tickets if t.reference == "LH-AAAAAA"] == ["someone-else"]


async def test_create_with_reference_already_stored_is_idempotent(make_draft, service: TicketService, database_url: str) -> None:
    draft = make_draft(reference="LH-CCCCCC")
    first = await service.create(draft)
    again = await service.create(draft)  # e.g. the action retried after a timeout
    assert first == again
    assert _ticket_count(database_url) == 1


async def test_service_refuses_an_unmigrated_database_until_db_upgrade(
    make_draft, tmp_path: Path, spool_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service never migrates: reads fail with the fix, a new ticket waits in the spool."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    async with TicketService(url, spool_dir=spool_dir) as svc:
        with pytest.raises(SchemaBehind, match=r"the database schema is behind: run `loginhelp db upgrade`"):
            await svc.get("LH-ABCDEF")
        spooled = await svc.create(make_draft())
        assert not spooled.stored and len(spool_dir_files(spool_dir)) == 1
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    async with TicketService(url, spool_dir=spool_dir) as svc:
        assert await svc.flush_spool() == 1
        assert [t.reference for t in await svc.list()] == [spooled.reference]
        result = await svc.create(make_draft())
        assert result.stored


async def test_service_without_schema_check_leaves_schema_alone(tmp_path: Path, spool_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    async with TicketService(url, check_schema=False, spool_dir=spool_dir) as svc:
        with pytest.raises(sa_exc.OperationalError, match="no such table"):
            await svc.get("LH-ABCDEF")


def spool_dir_files(spool_dir: Path) -> list[Path]:
    return list(spool_dir.glob("*.json"))


async def test_default_locations_come_from_environment(
    make_draft,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGINHELP_SPOOL_DIR", str(tmp_path / "custom-spool"))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_POSTGRES_URL)
    async with TicketService() as svc:
        result = await svc.create(make_draft())
    assert not result.stored
    assert len(list((tmp_path / "custom-spool").glob(f"*{result.reference}.json"))) == 1


async def test_default_spool_is_under_var_dir(make_draft, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_POSTGRES_URL)
    async with TicketService() as svc:
        result = await svc.create(make_draft())
    spool = tmp_path / "var" / "spool" / "tickets"  # LOGINHELP_VAR_DIR is tmp_path/var (conftest)
    assert [p.name.split("-", 1)[1] for p in spool.glob("*.json")] == [f"{result.reference}.json"]
