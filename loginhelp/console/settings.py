"""Console configuration from the environment; the session-signing key is generated once if not given."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..db.engine import database_url, tracker_database_url
from ..db.paths import var_dir

SECRET_KEY_FILE = "console_secret_key"


def persistent_secret_key(directory: Path | None = None) -> str:
    """``$CONSOLE_SECRET_KEY``, else a random key kept (mode 0600) in the var directory.

    Written with O_EXCL so two console processes starting together agree on one
    key. Replicas on different hosts must share CONSOLE_SECRET_KEY instead.
    """
    configured = settings.get("CONSOLE_SECRET_KEY")
    if configured:
        return configured
    path = (directory or var_dir()) / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty; delete it or set CONSOLE_SECRET_KEY") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str
    tracker_url: str
    secret_key: str
    #: Send the session cookie over HTTPS only (set CONSOLE_COOKIE_SECURE=1 behind TLS).
    cookie_secure: bool = False
    #: How many reverse proxies set X-Forwarded-For (0 = use the socket address).
    trusted_proxies: int = 0
    session_hours: int = 12
    per_page: int = 50
    #: Seconds between conversation-index refreshes (each page load checks).
    refresh_interval: float = 2.0
    #: Refuse to start unless the schema is at head (the console never migrates: `loginhelp db upgrade` does).
    check_schema: bool = True

    @classmethod
    def from_env(cls) -> "ConsoleSettings":
        return cls(
            database_url=database_url(),
            tracker_url=tracker_database_url(),
            secret_key=persistent_secret_key(),
            cookie_secure=settings.get("CONSOLE_COOKIE_SECURE"),
            trusted_proxies=settings.get("CONSOLE_TRUSTED_PROXIES"),
            session_hours=settings.get("CONSOLE_SESSION_HOURS"),
        )
