from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from loginhelp.tickets import repository as repository_module
from loginhelp.tickets.draft import ScreenshotDraft, TicketDraft
from loginhelp.tickets.errors import ReferenceTaken, TicketNotFound
from loginhelp.tickets.models import Ticket
from loginhelp.tickets.references import is_valid_reference
from loginhelp.tickets.repository import TicketRepository

pytestmark = pytest.mark.usefixtures("database_url")


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Ticket)).scalar_one()


def test_create_stores_every_field(make_draft, repo: TicketRepository) -> None:
    before = datetime.now(timezone.utc)
    view = repo.create(make_draft())
    after = datetime.now(timezone.utc)

    assert is_valid_reference(view.reference)
    assert view.status == "open"
    assert view.contact_email == "alice@gmail.com"
    assert view.contact_phone == "+447911123456"
    assert view.description == "Cannot log in: the 2FA code is always rejected."
    assert view.error_message == "Invalid verification code (error 2003)"
    assert view.steps_tried == ("cleared cache", "synced phone clock")
    assert view.device == "iPhone 13, iOS 17.1"
    assert view.browser_version == "CoinEx app 3.24.1"
    assert view.category == "twofa_code"
    assert view.channel == "telegram"
    assert view.conversation_id == "tg-123456789"
    assert before <= view.created_at <= after
    assert view.created_at.tzinfo is not None and view.created_at.utcoffset() == timedelta(0)
    assert [(s.source, s.location, s.file_name, s.mime_type, s.size_bytes) for s in view.screenshots] == [
        ("telegram", "AgACAgQAAxkBAAIBQ2V", "error.png", "image/png", 48213)
    ]
    assert [(h.old_status, h.new_status, h.changed_by) for h in view.history] == [(None, "open", "assistant")]

    stored = repo.get(view.reference)
    assert stored == view  # round trip through the database loses nothing
    assert stored.created_at.utcoffset() == timedelta(0)


def test_views_are_frozen(make_draft, repo: TicketRepository) -> None:
    view = repo.create(make_draft())
    with pytest.raises(FrozenInstanceError):
        view.status = "closed"  # type: ignore[misc]


def test_create_cleans_input(make_draft, repo: TicketRepository) -> None:
    view = repo.create(
        make_draft(
            email="  ",
            phone=None,
            description="  spaces around  ",
            steps_tried=["reset password", " Reset Password ", "", "new device"],
            category=" Browser ",
            screenshots=[],
        )
    )
    assert view.contact_email is None
    assert view.description == "spaces around"
    assert view.steps_tried == ("reset password", "new device")
    assert view.category == "browser"
    assert view.screenshots == ()


def test_create_rejects_bad_drafts(make_draft, repo: TicketRepository, engine) -> None:
    with pytest.raises(ValueError, match="invalid ticket reference"):
        repo.create(make_draft(reference="LH-0000OO"))
    with pytest.raises(ValueError, match="steps_tried"):
        repo.create(make_draft(steps_tried="cleared cache"))
    with pytest.raises(ValueError, match="conversation_id"):
        repo.create(make_draft(conversation_id="x" * 256))
    with pytest.raises(ValueError, match="screenshot location"):
        repo.create(make_draft(screenshots=[ScreenshotDraft(source="url", location=" ")]))
    assert _count(engine) == 0


def test_preallocated_reference_is_used_and_protected(make_draft, repo: TicketRepository, engine) -> None:
    view = repo.create(make_draft(reference=" lh-7kq2mx "))
    assert view.reference == "LH-7KQ2MX"
    with pytest.raises(ReferenceTaken):
        repo.create(make_draft(reference="LH-7KQ2MX", description="someone else"))
    assert _count(engine) == 1


def test_reference_collision_retries_with_a_new_reference(
    make_draft,
    repo: TicketRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = repo.create(make_draft(reference="LH-AAAAAA"))
    drawn = iter(["LH-AAAAAA", "LH-AAAAAA", "LH-BBBBBB"])
    monkeypatch.setattr(repository_module, "new_reference", lambda: next(drawn))
    second = repo.create(make_draft(description="another customer"))
    assert (first.reference, second.reference) == ("LH-AAAAAA", "LH-BBBBBB")
    assert repo.get("LH-AAAAAA").description == first.description


def test_reference_collisions_are_bounded(make_draft, repo: TicketRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.create(make_draft(reference="LH-AAAAAA"))
    monkeypatch.setattr(repository_module, "new_reference", lambda: "LH-AAAAAA")
    with pytest.raises(RuntimeError, match="unique ticket reference"):
        repo.create(make_draft())


def test_get_accepts_sloppy_reference_and_returns_none_when_missing(make_draft, repo: TicketRepository) -> None:
    view = repo.create(make_draft())
    assert repo.get(f"  {view.reference.lower()} ") == view
    assert repo.get("LH-ZZZZZZ") is None
    assert repo.get("not a reference") is None


def test_list_newest_first_with_paging_and_status_filter(make_draft, repo: TicketRepository) -> None:
    refs = [repo.create(make_draft(description=f"ticket {i}")).reference for i in range(5)]
    repo.set_status(refs[1], "resolved")
    repo.set_status(refs[3], "in_progress")

    assert [t.reference for t in repo.list()] == refs[::-1]
    assert [t.reference for t in repo.list(limit=2)] == [refs[4], refs[3]]
    assert [t.reference for t in repo.list(limit=2, offset=2)] == [refs[2], refs[1]]
    assert [t.reference for t in repo.list(status="open")] == [refs[4], refs[2], refs[0]]
    assert [t.reference for t in repo.list(status="In Progress")] == [refs[3]]
    assert repo.list(status="closed") == []
    with pytest.raises(ValueError, match="Unknown ticket status"):
        repo.list(status="pending")
    with pytest.raises(ValueError):
        repo.list(limit=0)
    with pytest.raises(ValueError):
        repo.list(offset=-1)


def test_list_loads_children(make_draft, repo: TicketRepository) -> None:
    repo.create(make_draft())
    [view] = repo.list()
    assert len(view.screenshots) == 1 and len(view.history) == 1


def test_set_status_records_history(make_draft, repo: TicketRepository) -> None:
    ref = repo.create(make_draft()).reference
    repo.set_status(ref, "in_progress", note="looking into it", changed_by="agent@coinex.com")
    view = repo.set_status(ref.lower(), "resolved", changed_by="cli")

    assert view.status == "resolved"
    assert [(h.old_status, h.new_status, h.note, h.changed_by) for h in view.history] == [
        (None, "open", "ticket created", "assistant"),
        ("open", "in_progress", "looking into it", "agent@coinex.com"),
        ("in_progress", "resolved", None, "cli"),
    ]
    assert view.updated_at >= view.history[-1].changed_at
    assert view.updated_at > view.created_at
    assert repo.get(ref) == view


def test_set_status_rejects_unknown_status_and_reference(make_draft, repo: TicketRepository) -> None:
    ref = repo.create(make_draft()).reference
    with pytest.raises(ValueError, match="expected one of: open, in_progress, resolved, closed"):
        repo.set_status(ref, "done")
    with pytest.raises(TicketNotFound):
        repo.set_status("LH-ZZZZZZ", "closed")
    view = repo.get(ref)
    assert view.status == "open" and len(view.history) == 1


def test_find_open_for_contact(make_draft, repo: TicketRepository) -> None:
    old = repo.create(make_draft(email="Alice@Gmail.com", phone=None)).reference
    new = repo.create(make_draft(email=None, phone="+447911123456")).reference
    closed = repo.create(make_draft(email="alice@gmail.com", phone="+447911123456")).reference
    repo.set_status(closed, "closed")
    working = repo.create(make_draft(email="alice@gmail.com", phone=None)).reference
    repo.set_status(working, "in_progress")
    repo.create(make_draft(email="bob@gmail.com", phone="+12025550143"))

    found = repo.find_open_for_contact(email="ALICE@gmail.com", phone="+447911123456")
    assert [t.reference for t in found] == [working, new, old]
    assert [t.reference for t in repo.find_open_for_contact(email="alice@gmail.com")] == [working, old]
    assert [t.reference for t in repo.find_open_for_contact(phone="+447911123456")] == [new]
    assert repo.find_open_for_contact(phone="447911123456") == []  # phone must match exactly
    assert repo.find_open_for_contact() == []
    assert repo.find_open_for_contact(email="  ", phone="") == []


def test_append_details_merges_into_existing_ticket(make_draft, repo: TicketRepository, engine) -> None:
    original = repo.create(make_draft(email=None, device=None))
    more = TicketDraft(
        email="alice@gmail.com",
        description="Now it also says my account is locked.",
        error_message="Account locked for 2 hours",
        steps_tried=["Cleared cache", "reinstalled app"],
        device="Pixel 8",
        browser_version="CoinEx app 3.25.0",
        screenshots=[ScreenshotDraft(source="upload", location="/uploads/2.png", mime_type="image/png")],
        category="account_locked",
    )
    view = repo.append_details(original.reference, more, changed_by="assistant")

    assert _count(engine) == 1  # no duplicate ticket
    assert view.description.startswith(original.description + "\n\n--- added ")
    assert view.description.endswith(
        "---\nNow it also says my account is locked.\nBrowser/app version: CoinEx app 3.25.0"
    )
    assert "Invalid verification code (error 2003)" in view.error_message
    assert view.error_message.endswith("Account locked for 2 hours")
    assert view.steps_tried == ("cleared cache", "synced phone clock", "reinstalled app")
    assert view.device == "Pixel 8"  # filled in because it was missing
    assert view.browser_version == "CoinEx app 3.24.1"  # kept; the new one is in the description
    assert view.contact_email == "alice@gmail.com"
    assert view.contact_phone == "+447911123456"
    assert view.category == "twofa_code"  # the branch it was filed under stays
    assert [s.location for s in view.screenshots] == ["AgACAgQAAxkBAAIBQ2V", "/uploads/2.png"]
    assert view.updated_at > original.updated_at
    last = view.history[-1]
    assert (last.old_status, last.new_status, last.note, last.changed_by) == ("open", "open", "details added", "assistant")
    assert repo.get(original.reference) == view


def test_append_details_without_anything_new_changes_nothing(make_draft, repo: TicketRepository) -> None:
    original = repo.create(make_draft())
    view = repo.append_details(original.reference, TicketDraft(steps_tried=["CLEARED CACHE"]))
    assert view == original


def test_append_details_unknown_reference(repo: TicketRepository) -> None:
    with pytest.raises(TicketNotFound):
        repo.append_details("LH-ZZZZZZ", TicketDraft(description="hello"))


def test_status_for_enforces_ownership(make_draft, repo: TicketRepository) -> None:
    view = repo.create(make_draft(email="Alice@Gmail.com", phone="+447911123456", conversation_id="conv-1"))
    ref = view.reference

    assert repo.status_for(ref, conversation_id="conv-1") == view
    assert repo.status_for(ref.lower(), contact="alice@gmail.COM") == view
    assert repo.status_for(ref, contact="+44 7911 123456") == view
    assert repo.status_for(ref, contact="0044 7911 123456") == view
    assert repo.status_for(ref, conversation_id="someone-else", contact="alice@gmail.com") == view

    # Not yours looks exactly like "no such ticket".
    assert repo.status_for(ref) is None
    assert repo.status_for(ref, conversation_id="conv-2") is None
    assert repo.status_for(ref, contact="mallory@gmail.com") is None
    assert repo.status_for(ref, contact="+44 7911 123457") is None
    assert repo.status_for("LH-ZZZZZZ", conversation_id="conv-1") is None
    assert repo.status_for("garbage", conversation_id="conv-1") is None


def test_status_for_ticket_without_conversation(make_draft, repo: TicketRepository) -> None:
    ref = repo.create(make_draft(conversation_id=None, email=None, phone=None)).reference
    assert repo.status_for(ref, conversation_id="") is None
    assert repo.status_for(ref, conversation_id="anything", contact="alice@gmail.com") is None


def test_to_dict_has_every_field_as_json(make_draft, repo: TicketRepository) -> None:
    view = repo.set_status(repo.create(make_draft()).reference, "in_progress", note="on it")
    data = view.to_dict()
    assert set(data) == {
        "reference", "status", "contact_email", "contact_phone", "description", "error_message",
        "steps_tried", "device", "browser_version", "category", "channel", "conversation_id",
        "created_at", "updated_at", "screenshots", "history",
    }
    assert data["steps_tried"] == ["cleared cache", "synced phone clock"]
    assert datetime.fromisoformat(data["created_at"]) == view.created_at
    assert data["created_at"].endswith("+00:00")
    assert data["screenshots"][0] == {
        "source": "telegram", "location": "AgACAgQAAxkBAAIBQ2V", "file_name": "error.png",
        "mime_type": "image/png", "size_bytes": 48213,
        "created_at": view.screenshots[0].created_at.isoformat(),
    }
    assert [h["new_status"] for h in data["history"]] == ["open", "in_progress"]
    assert data["history"][1]["note"] == "on it"


def test_delayed_creation_time_is_kept(make_draft, repo: TicketRepository) -> None:
    when = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    view = repo.create(make_draft(), created_at=when)
    assert view.created_at == when
    assert repo.get(view.reference).created_at == datetime(2024, 5, 1, 10, 30, tzinfo=timezone.utc)


def test_unknown_category_is_stored_as_given(make_draft, repo: TicketRepository) -> None:
    assert repo.create(make_draft(category="withdrawal")).category == "withdrawal"
    assert repo.create(replace(make_draft(), category="")).category == "general"
