"""Where run-time state lives; overridable from the environment so deployments never edit code."""
from __future__ import annotations

from pathlib import Path

from .. import settings

#: Repository root when running from a checkout (loginhelp/db/paths.py -> repo).
REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir(create: bool = True) -> Path:
    """Run-time state directory: ``$LOGINHELP_VAR_DIR`` or ``<repo>/var``."""
    path = settings.get("LOGINHELP_VAR_DIR") or REPO_ROOT / "var"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def spool_dir() -> Path:
    """Where tickets wait while the database is down: ``$LOGINHELP_SPOOL_DIR`` or ``<var>/spool/tickets``.

    Not created here: the spool creates it (private permissions) on first write.
    """
    return settings.get("LOGINHELP_SPOOL_DIR") or var_dir(create=False) / "spool" / "tickets"
