"""The objects one console process shares between requests (engines are thread-safe pools)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..agents.repository import AgentRepository
from ..agents.signin import SignInGuard
from ..handoff.service import LiveHandoff
from ..handoff.tokens import ApiTokens
from ..tickets.repository import TicketRepository
from ..transcripts.service import TranscriptService
from .settings import ConsoleSettings

EXTENSION = "loginhelp_console"


@dataclass
class ConsoleContext:
    settings: ConsoleSettings
    transcripts: TranscriptService
    agents: AgentRepository
    sign_in: SignInGuard
    tickets: TicketRepository
    known_intents: tuple[str, ...]
    #: Live handoff (queue, claims, live messages) and the personal API tokens of the JSON API.
    live: LiveHandoff
    tokens: ApiTokens

    def dispose(self) -> None:
        self.transcripts.dispose()
        self.live.relay.close()


def console() -> ConsoleContext:
    return current_app.extensions[EXTENSION]
