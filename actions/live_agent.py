"""Put a customer who asks for a person in the queue of the agents' live chat.

Only when an agent is available and the channel can push the agent's replies
(the widget's socket.io and Telegram; REST cannot): then the channels carry the
conversation to the agent until it is handed back (loginhelp/channels/live.py),
and the assistant stays out of it. Otherwise the ticket is the way to support.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channel_context import client_info
from loginhelp.contract import Slot
from loginhelp.handoff.service import LiveHandoff

log = logging.getLogger(__name__)

#: Channels that can push an agent's reply to the customer.
LIVE_CHANNELS = frozenset({"socketio", "telegram"})
# After a failure to open the live chat (database down or behind its migrations), try again after this long.
RETRY_SECONDS = 60.0

_handoff: Optional[LiveHandoff] = None
_broken_until = 0.0
_lock = threading.Lock()


def use_handoff(handoff: Optional[LiveHandoff]) -> None:
    """Point the actions at another live chat (tests, or another database)."""
    global _handoff, _broken_until
    _handoff, _broken_until = handoff, 0.0


def live_handoff() -> Optional[LiveHandoff]:
    """The live chat of this action server, opened on first use from the environment
    (DATABASE_URL, REDIS_*); None while it cannot be used (the ticket remains)."""
    global _handoff, _broken_until
    with _lock:
        if _handoff is not None or time.monotonic() < _broken_until:
            return _handoff
        try:
            _handoff = LiveHandoff.from_environment()
        except Exception as error:  # noqa: BLE001 - without the live chat, support is the ticket
            log.error("live chat is off for %.0f s: %s: %s", RETRY_SECONDS, type(error).__name__, error)
            _broken_until = time.monotonic() + RETRY_SECONDS
        return _handoff


def agent_available(tracker: Tracker) -> bool:
    """Whether a person can take this chat now: a channel that pushes, and an agent free."""
    if tracker.get_latest_input_channel() not in LIVE_CHANNELS:
        return False
    handoff = live_handoff()
    if handoff is None:
        return False
    try:
        return handoff.agents_available() > 0
    except Exception as error:  # noqa: BLE001
        log.error("could not count the available agents: %s", error)
        return False


def learned(tracker: Tracker, steps_tried: List[str]) -> Dict[str, Any]:
    """What the assistant learned, for the agent who takes the chat (the console shows it)."""
    info = client_info(tracker)
    # Keyed by the slots' names (the console shows them under those names).
    found = {
        Slot.BRANCH: tracker.get_slot(Slot.BRANCH),
        Slot.STEPS_TRIED: steps_tried,
        Slot.PLATFORM: tracker.get_slot(Slot.PLATFORM) or info.platform,
        Slot.DEVICE: tracker.get_slot(Slot.DEVICE) or info.device,
        Slot.BROWSER: tracker.get_slot(Slot.BROWSER) or info.browser,
        Slot.LANGUAGE: tracker.get_slot(Slot.LANGUAGE) or "en",
        "contact": tracker.get_slot(Slot.EMAIL) or tracker.get_slot(Slot.PHONE),
    }
    return {key: value for key, value in found.items() if value not in (None, [], "")}


def queue_for_agent(dispatcher: CollectingDispatcher, tracker: Tracker,
                    steps_tried: List[str]) -> Optional[List[EventType]]:
    """Join the queue and tell the customer their place; None when it failed (offer the ticket).
    ``steps_tried``: as the ticket would list them (the step on screen included)."""
    handoff = live_handoff()
    if handoff is None:
        return None
    try:
        handoff.request_agent(tracker.sender_id, tracker.get_latest_input_channel(), learned(tracker, steps_tried))
        place = handoff.place_in_queue(tracker.sender_id) or 1
    except Exception as error:  # noqa: BLE001
        log.error("could not queue %s for an agent: %s", tracker.sender_id, error)
        return None
    dispatcher.utter_message(response="utter_live_queued", place=place)
    # The next messages go to the agent (the channels keep them from the assistant): no question stays open.
    # Paused last, so Rasa's tracker shows the handoff; the channels' bridge resumes it at the release.
    return [SlotSet(Slot.PENDING, None), FollowupAction("action_listen"), ConversationPaused()]
