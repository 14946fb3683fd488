"""What the customer reads about the live chat, as the channels render it.

The repository writes one system line into the chat at each change of state
(``JOINED``, ``REQUEUED``, ``RELEASE_LINES``); agents read them as written.
The customer gets the line of :func:`for_customer` instead: a release back to
the assistant must say who answers now, which the agent's wording does not.
The channels deliver these from storage like the agent's own messages, so a
missed notification is caught up and every replica delivers each line once.
"""
from __future__ import annotations

from .models import AGENT, SYSTEM, TO_ASSISTANT, TO_CLOSED, TO_EXPIRED, TO_TICKET
from .repository import CUSTOMER_LEFT_LINES, EXPIRED_TO_TICKET, JOINED, RELEASE_LINES, REQUEUED, LiveMessageView

BACK_WITH_ASSISTANT = "You're back with the CoinEx login assistant. What can I help you with?"
TURNED_INTO_TICKET = (
    "The support agent turned this chat into a support ticket: CoinEx support will follow up through it. "
    "You're back with the CoinEx login assistant if you need anything else."
)
CLOSED = (
    "The support agent closed this chat. If you need anything else, just write here and the CoinEx login "
    "assistant will answer."
)
EXPIRED = (
    "No support agent was free in time, so you left the queue. You're back with the CoinEx login assistant: "
    "write here and I can help you open a support ticket."
)
#: The wait limit ran out while the customer was there: the assistant's ticket form follows this line.
EXPIRED_TICKET_OFFERED = (
    "No support agent was free in time, so you left the queue. Let's open a support ticket instead: "
    "CoinEx support will follow up through it."
)
#: The customer typed "cancel" (or the like) while waiting.
LEFT_QUEUE = "OK, you left the queue for a support agent. You're back with the CoinEx login assistant. " \
    "What can I help you with?"
#: The customer asked for a ticket while waiting: the assistant's ticket form follows this line.
LEFT_FOR_TICKET = "OK, you left the queue for a support agent. Let's open a support ticket instead."
#: At most once a minute to a customer who writes while waiting (see the channels' live bridge).
STILL_WAITING = "You're still in the queue for a support agent (place {place}). They'll read everything you write here."
STILL_WAITING_NO_PLACE = "You're still in the queue for a support agent. They'll read everything you write here."
#: When the customer's message could not be stored: it did not reach the agent.
NOT_DELIVERED = "Sorry, that message didn't reach the support agent. Please send it again in a moment."
#: Only if domain.yml cannot be read: the assistant's own warnings (utter_secret_*) come from there.
SECRET_FALLBACK = (
    "Please never share passwords, 2FA codes, recovery phrases or private keys in a chat, not even with "
    "CoinEx support: nobody at CoinEx will ever ask for them."
)

_SYSTEM_LINES: dict[str, str] = {
    JOINED: JOINED,
    REQUEUED: REQUEUED,
    RELEASE_LINES[TO_ASSISTANT]: BACK_WITH_ASSISTANT,
    RELEASE_LINES[TO_TICKET]: TURNED_INTO_TICKET,
    RELEASE_LINES[TO_CLOSED]: CLOSED,
    RELEASE_LINES[TO_EXPIRED]: EXPIRED,
    EXPIRED_TO_TICKET: EXPIRED_TICKET_OFFERED,
    CUSTOMER_LEFT_LINES[TO_ASSISTANT]: LEFT_QUEUE,
    CUSTOMER_LEFT_LINES[TO_TICKET]: LEFT_FOR_TICKET,
}


def for_customer(message: LiveMessageView) -> str | None:
    """The text the customer is sent for a stored live message; None for their own messages."""
    if message.sender == AGENT:
        return message.text
    if message.sender == SYSTEM:
        return _SYSTEM_LINES.get(message.text, message.text)
    return None


def still_waiting(place: int | None) -> str:
    return STILL_WAITING.format(place=place) if place else STILL_WAITING_NO_PLACE
