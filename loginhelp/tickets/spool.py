"""On-disk queue of tickets that could not be stored because the database was down.

One JSON file per ticket, written atomically (temp file + rename) so a crash
never leaves half a ticket; file names sort in submission order. Files hold
customer contact details, hence owner-only permissions.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..db.timeutil import as_utc
from .draft import TicketDraft

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SUFFIX = ".json"
BAD_SUFFIX = ".bad"


@dataclass(frozen=True)
class SpooledTicket:
    path: Path
    draft: TicketDraft
    spooled_at: datetime


class TicketSpool:
    """A directory of pending ticket drafts."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def put(self, draft: TicketDraft, spooled_at: datetime) -> Path:
        """Write ``draft`` (which must carry its reference) durably; returns the file path."""
        if not draft.reference:
            raise ValueError("only drafts with a pre-allocated reference can be spooled")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns():020d}-{draft.reference}{SUFFIX}"
        final = self.directory / name
        temp = self.directory / f".{name}.tmp"
        payload = {
            "version": FORMAT_VERSION,
            "spooled_at": as_utc(spooled_at).isoformat(),
            "draft": draft.to_dict(),
        }
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._fsync_directory()
        return final

    def _fsync_directory(self) -> None:
        """Make the rename itself durable (best effort; not every platform allows it)."""
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def pending(self) -> list[Path]:
        """Spooled files, oldest first. Cheap when the directory is empty or missing."""
        try:
            with os.scandir(self.directory) as entries:
                names = [
                    e.name
                    for e in entries
                    if e.name.endswith(SUFFIX) and not e.name.startswith(".") and e.is_file()
                ]
        except FileNotFoundError:
            return []
        return [self.directory / n for n in sorted(names)]

    def load(self, path: Path) -> SpooledTicket:
        """Read one spooled ticket; ValueError if the file is not a valid spool entry."""
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("version") != FORMAT_VERSION:
                raise ValueError(f"unsupported spool format version {payload.get('version')!r}")
            draft = TicketDraft.from_dict(payload["draft"])
            spooled_at = as_utc(datetime.fromisoformat(payload["spooled_at"]))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed spool file {path.name}: {exc}") from exc
        if not draft.reference:
            raise ValueError(f"spool file {path.name} has no reference")
        return SpooledTicket(path=path, draft=draft, spooled_at=spooled_at)

    def remove(self, path: Path) -> None:
        """Forget a spooled ticket once it is committed (another worker may have beaten us to it)."""
        path.unlink(missing_ok=True)

    def quarantine(self, path: Path, reason: str) -> Path:
        """Set an unreadable file aside so it stops blocking the queue but is kept for a human."""
        target = path.with_name(path.name + BAD_SUFFIX)
        os.replace(path, target)
        log.error("Unreadable ticket spool file moved to %s: %s", target, reason)
        return target
