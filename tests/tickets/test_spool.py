from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from loginhelp.tickets.draft import ScreenshotDraft, TicketDraft
from loginhelp.tickets.spool import TicketSpool

WHEN = datetime(2024, 11, 26, 9, 30, tzinfo=timezone.utc)


def test_draft_round_trips_through_json(make_draft) -> None:
    draft = make_draft(reference="LH-ABCDEF")
    data = json.loads(json.dumps(draft.to_dict()))
    assert TicketDraft.from_dict(data) == draft
    assert isinstance(TicketDraft.from_dict(data).screenshots[0], ScreenshotDraft)


def test_from_dict_ignores_unknown_keys() -> None:
    draft = TicketDraft.from_dict({"description": "x", "reference": "LH-ABCDEF", "added_in_v2": 1})
    assert (draft.description, draft.reference, draft.steps_tried, draft.screenshots) == ("x", "LH-ABCDEF", [], [])


def test_put_and_load(make_draft, tmp_path: Path) -> None:
    spool = TicketSpool(tmp_path / "spool")
    draft = make_draft(reference="LH-ABCDEF")
    path = spool.put(draft, WHEN)
    assert path.parent == tmp_path / "spool"
    assert path.name.endswith("-LH-ABCDEF.json")
    assert (tmp_path / "spool").stat().st_mode & 0o077 == 0
    assert path.stat().st_mode & 0o077 == 0
    item = spool.load(path)
    assert (item.draft, item.spooled_at) == (draft, WHEN)
    assert list((tmp_path / "spool").iterdir()) == [path]  # no temp files left behind


def test_put_requires_a_reference(make_draft, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pre-allocated reference"):
        TicketSpool(tmp_path).put(make_draft(), WHEN)


def test_pending_is_in_submission_order_and_skips_other_files(make_draft, tmp_path: Path) -> None:
    spool = TicketSpool(tmp_path / "s")
    assert spool.pending() == []  # missing directory is simply empty
    paths = [spool.put(make_draft(reference=ref), WHEN) for ref in ("LH-ZZZZZZ", "LH-AAAAAA", "LH-MMMMMM")]
    (tmp_path / "s" / ".in-progress.json.tmp").write_text("{}")
    (tmp_path / "s" / "old.json.bad").write_text("{}")
    assert spool.pending() == paths
    spool.remove(paths[1])
    spool.remove(paths[1])  # already gone: fine
    assert spool.pending() == [paths[0], paths[2]]


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"version": 99, "spooled_at": WHEN.isoformat(), "draft": {}}), json.dumps({"version": 1})],
)
def test_load_rejects_bad_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "1-LH-ABCDEF.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        TicketSpool(tmp_path).load(path)


def test_quarantine_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "1-LH-ABCDEF.json"
    path.write_text("{oops")
    moved = TicketSpool(tmp_path).quarantine(path, "bad json")
    assert moved.read_text() == "{oops" and not path.exists()
    assert TicketSpool(tmp_path).pending() == []
