"""Support-agent accounts for the console: argon2 password hashes, roles, sign-in attempt log."""
from __future__ import annotations

from .models import ADMIN, AGENT, ROLES
from .repository import AgentExists, AgentNotFound, AgentRepository, AgentView, LastAdminError
from .signin import SignInGuard, SignInResult

__all__ = [
    "ADMIN",
    "AGENT",
    "ROLES",
    "AgentExists",
    "AgentNotFound",
    "AgentRepository",
    "AgentView",
    "LastAdminError",
    "SignInGuard",
    "SignInResult",
]
