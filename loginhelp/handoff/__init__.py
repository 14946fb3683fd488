"""Live handoff: a support agent takes over the chat from the console (queue, claim, live messages, release).

Tables in models.py (migration 0004); the queue and the chat in repository.py,
who can take a chat in availability.py, personal API tokens in tokens.py, the
Redis notifications between processes in relay.py, service.py tying them
together for the console's API and the Rasa channels (loginhelp/channels/live.py),
and what the customer reads about the live chat in customer_lines.py.
"""
from __future__ import annotations

from .availability import AvailabilityRepository, AvailabilityView
from .errors import LiveConflict, LiveNotFound
from .relay import RedisRelay, Relay, RelayEvent, RelayListener, RelaySettings, Subscription, relay_from_env
from .repository import Enqueued, LiveConversationView, LiveMessageView, LiveRepository, QueueEntry
from .service import LiveHandoff
from .tokens import ApiTokens

__all__ = [
    "ApiTokens",
    "AvailabilityRepository",
    "AvailabilityView",
    "Enqueued",
    "LiveConflict",
    "LiveConversationView",
    "LiveHandoff",
    "LiveMessageView",
    "LiveNotFound",
    "LiveRepository",
    "QueueEntry",
    "RedisRelay",
    "Relay",
    "RelayEvent",
    "RelayListener",
    "RelaySettings",
    "Subscription",
    "relay_from_env",
]
