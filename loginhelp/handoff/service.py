"""Live handoff as one object for the console and the assistant: store first, then notify.

Every write goes to the database (the truth, shared by every replica) and then
to the relay, so the process holding the customer's socket or the agent's page
can push it at once. The console's JSON API calls the agent half; the Rasa
channels and actions are meant to call the customer half (``request_agent``,
``customer_says``, ``place_in_queue``, ``agents_available``, ``expire_waiting``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from ..secret_detection import redact
from .availability import DEFAULT_HEARTBEAT_WINDOW, AvailabilityRepository, AvailabilityView
from .models import AGENT, CUSTOMER
from .relay import Relay
from .repository import (
    WAIT_FROM_QUEUED,
    Enqueued,
    LiveConversationView,
    LiveMessageView,
    LiveRepository,
    QueueEntry,
)


def wait_limit_from_env() -> timedelta:
    """How long a customer waits for an agent before the ticket is offered (LOGINHELP_LIVE_WAIT_SECONDS)."""
    from .. import settings

    return timedelta(seconds=float(settings.get("LOGINHELP_LIVE_WAIT_SECONDS")))


@dataclass
class LiveHandoff:
    conversations: LiveRepository
    availability: AvailabilityRepository
    relay: Relay

    @classmethod
    def on(
        cls,
        engine: Engine,
        relay: Relay | None = None,
        *,
        wait_limit: timedelta | None = None,
        heartbeat_window: timedelta = DEFAULT_HEARTBEAT_WINDOW,
    ) -> "LiveHandoff":
        """``wait_limit`` defaults to LOGINHELP_LIVE_WAIT_SECONDS, so every process of a deployment agrees."""
        return cls(
            LiveRepository(engine, wait_limit=wait_limit if wait_limit is not None else wait_limit_from_env()),
            AvailabilityRepository(engine, window=heartbeat_window),
            relay or Relay(),
        )

    @classmethod
    def from_environment(cls) -> "LiveHandoff":
        """The live chat on DATABASE_URL, its schema checked, with the relay of REDIS_*: how
        each process of a deployment opens it (raises when the database cannot be used)."""
        from ..db.engine import database_url, make_engine
        from ..db.migrate import check_schema
        from .relay import relay_from_env

        engine = make_engine(database_url())
        try:
            check_schema(engine)
        except Exception:
            engine.dispose()
            raise
        return cls.on(engine, relay_from_env())

    # --------------------------------------------------------- customer side

    def agents_available(self) -> int:
        """Offer a live agent only when this is above 0."""
        return self.availability.available_count()

    def request_agent(self, conversation_id: str, channel: str | None = None,
                      context: Mapping[str, Any] | None = None) -> Enqueued:
        """The customer asked for a person: join the queue (idempotent) and tell the consoles."""
        result = self.conversations.enqueue(conversation_id, channel, context)
        if result.queued:
            place = self.conversations.place(conversation_id)
            self.relay.publish_queue("waiting", conversation_id, place=place)
            self.relay.publish_state(result.conversation.to_dict())
        return result

    def customer_says(self, conversation_id: str, text: str) -> LiveMessageView:
        """A customer message during the handoff, with any password or code in it redacted before it is stored."""
        message = self.conversations.append(conversation_id, CUSTOMER, redact(text) if isinstance(text, str) else text)
        self.relay.publish_message(message.to_dict())
        return message

    def customer_seen(self, conversation_id: str) -> None:
        """The customer is still there (socket open, typing): the wait limit counts from now."""
        self.conversations.customer_seen(conversation_id)

    def place_in_queue(self, conversation_id: str) -> int | None:
        return self.conversations.place(conversation_id)

    def state_of(self, conversation_id: str) -> LiveConversationView | None:
        """None or released: the assistant answers; waiting or active: the message goes to the live chat."""
        return self.conversations.get(conversation_id)

    def live(self, channel: str | None = None) -> list[LiveConversationView]:
        """Conversations in the live chat (waiting or active): a channel process watches these for agent replies."""
        return self.conversations.live(channel)

    def customer_left(self, conversation_id: str, to: str) -> LiveConversationView:
        """The waiting customer typed that they leave the queue ("cancel", "ticket please"): the chat is released."""
        view = self.conversations.customer_left(conversation_id, to)
        self._announce(conversation_id, "left", view)
        return view

    def expire(self, conversation_id: str, counted_from: str = WAIT_FROM_QUEUED) -> LiveConversationView | None:
        """Release a conversation that waited past the limit; the view only for the one process that did it."""
        view = self.conversations.expire(conversation_id, counted_from)
        if view is not None:
            self._announce(conversation_id, "expired", view)
        return view

    def expire_waiting(self) -> list[str]:
        """Drop customers who left the queue (no sign of life within the wait limit); run it now and then."""
        expired = self.conversations.expire_waiting()
        for conversation_id in expired:
            self._announce(conversation_id, "expired")
        return expired

    # ------------------------------------------------------------ agent side

    def queue(self) -> list[QueueEntry]:
        """Waiting customers in order, after dropping the ones who left."""
        self.expire_waiting()
        return self.conversations.queue()

    def claim(self, conversation_id: str, agent_id: int) -> LiveConversationView:
        before = self.conversations.get(conversation_id)
        view = self.conversations.claim(conversation_id, agent_id)
        if before is None or before.state != view.state:
            self._announce(conversation_id, "claimed", view)
        return view

    def agent_says(self, conversation_id: str, agent_id: int, text: str) -> LiveMessageView:
        message = self.conversations.append(conversation_id, AGENT, text, agent_id=agent_id)
        self.relay.publish_message(message.to_dict())
        return message

    def release(self, conversation_id: str, agent_id: int, to: str) -> LiveConversationView:
        view = self.conversations.release(conversation_id, agent_id, to)
        self._announce(conversation_id, "released", view)
        return view

    def heartbeat(self, agent_id: int) -> AvailabilityView:
        return self.availability.heartbeat(agent_id)

    def set_available(self, agent_id: int, available: bool) -> AvailabilityView:
        return self.availability.set_available(agent_id, available)

    def agent_signed_out(self, agent_id: int) -> list[str]:
        """The agent is gone: no longer available, and their chats go back to the queue."""
        self.availability.forget(agent_id)
        requeued = self.conversations.requeue_agent(agent_id)
        for conversation_id in requeued:
            self._announce(conversation_id, "requeued")
        return requeued

    def _announce(self, conversation_id: str, event: str, view: LiveConversationView | None = None) -> None:
        """The state-change line the repository wrote, the new state, and the queue event."""
        view = view or self.conversations.get(conversation_id)
        if view is None:
            return
        for message in self.conversations.messages_after(conversation_id, view.last_n - 1):
            self.relay.publish_message(message.to_dict())
        self.relay.publish_state(view.to_dict())
        self.relay.publish_queue(event, conversation_id, state=view.state, released_to=view.released_to)
