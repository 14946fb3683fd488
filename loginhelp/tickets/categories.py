"""Branches of the login-help guide a ticket can be filed under.

The list is advisory (the dialogue may add branches before this list learns
about them), so the repository stores any short label; the CLI and reports use
this list for ordering and help text.
"""
from __future__ import annotations

GENERAL = "general"

CATEGORIES: tuple[str, ...] = (
    "browser",
    "app",
    "twofa_code",
    "twofa_lost",
    "account_locked",
    "kyc",
    "credentials",
    "forgot_password",
    "forgot_login",
    "phishing",
    "connection",
    "outage",
    GENERAL,
)

#: Channels the assistant is reachable on (Rasa input channel names).
KNOWN_CHANNELS: tuple[str, ...] = ("rest", "socketio", "telegram", "cli", "unknown")
