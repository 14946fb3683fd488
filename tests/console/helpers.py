"""Helpers shared by the console tests (constants, signing in, CSRF tokens, free ports)."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from loginhelp.servers import free_port  # noqa: F401 - re-exported for the console tests
from loginhelp.tickets.draft import TicketDraft
from loginhelp.tickets.repository import TicketRepository

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "admin@coinex.test"
AGENT_EMAIL = "agent@coinex.test"
PASSWORD = "correct horse battery"
T0 = 1_732_600_000.0  # 2024-11-26 05:46 UTC


def ticket_for(repo: TicketRepository, conversation_id: str, **overrides: Any):
    values: dict[str, Any] = dict(
        email="alice@gmail.com",
        description="Cannot log in, 2FA rejected",
        category="twofa_code",
        channel="rest",
        conversation_id=conversation_id,
    )
    values.update(overrides)
    return repo.create(TicketDraft(**values))


_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    page = client.get(path)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, ip: str = "10.0.0.1") -> Any:
    token = csrf_token(client)
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        environ_overrides={"REMOTE_ADDR": ip},
    )


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    """POST like the browser does: with the CSRF token of the page that holds the form."""
    return client.post(path, data={"csrf_token": csrf_token(client, page or "/conversations"), **data})
