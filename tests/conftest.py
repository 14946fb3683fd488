"""Shared fixtures: trackers and dispatchers for calling actions directly."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

REPO = Path(__file__).resolve().parents[1]

# SQLite/PostgreSQL database fixtures for every package of tests.
pytest_plugins = ["tests.fixtures_db"]


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    with (REPO / "domain.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    slots: Optional[Dict[str, Any]] = None,
    intent: Optional[str] = None,
    text: str = "",
    entities: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = "test-user",
    **extra: Any,
) -> Tracker:
    """A tracker whose latest message has the given intent, entities and metadata."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    latest.update(extra)
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_factory():
    return make_tracker


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """The response names the action uttered, in order."""
    return [m.get("response") for m in dispatcher.messages]


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The last value each SlotSet event gives."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
