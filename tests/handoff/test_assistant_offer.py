"""The assistant's side of the live chat: a person is offered only when one is free and the channel can push."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine

from actions import live_agent
from actions.branches import present_step
from actions.tickets import ActionTicketStart
from loginhelp.agents.repository import AgentView
from loginhelp.handoff.service import LiveHandoff


@pytest.fixture
def handoff(engine: Engine) -> Iterator[LiveHandoff]:
    service = LiveHandoff.on(engine)
    live_agent.use_handoff(service)
    yield service
    live_agent.use_handoff(None)


def tracker(text: str, channel: str, slots: Optional[Dict[str, Any]] = None, intent: str = "contact_support",
            sender_id: str = "customer-1") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [], "metadata": {}}
    return Tracker(
        sender_id=sender_id, slots=dict(slots or {}), latest_message=latest,
        events=[{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}],
        paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


async def ticket_start(t: Tracker) -> tuple[List[str], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionTicketStart().run(dispatcher, t, {})
    return [m.get("response") for m in dispatcher.messages], events


async def test_a_person_asked_for_with_an_agent_free_on_the_widget_joins_the_queue(
        handoff: LiveHandoff, agents: List[AgentView]) -> None:
    handoff.availability.set_available(agents[0].id, True)
    slots = {"branch": "browser", "steps_tried": ["Cleared the browser's cache and cookies"],
             "plan": ["clear_cache", "other_browser", "extensions"], "step": 1.0, "pending": "step_feedback",
             "email": "anna@example.com", "language": "es"}
    said, events = await ticket_start(tracker("can i talk to a human please", "socketio", slots))
    assert said == ["utter_live_queued"]
    assert any(e["event"] == "followup" and e["name"] == "action_listen" for e in events)
    view = handoff.state_of("customer-1")
    assert view is not None and view.state == "waiting" and view.channel == "socketio"
    assert view.context["branch"] == "browser" and view.context["contact"] == "anna@example.com"
    # The step on screen when the person was asked for is listed too, as the ticket would.
    assert view.context["steps_tried"] == ["Cleared the browser's cache and cookies",
                                           "Tried another browser and a private window"]
    assert view.context["language"] == "es"


@pytest.mark.parametrize("channel", ["rest", "cmdline"])
async def test_rest_cannot_push_an_agents_reply_so_the_ticket_follows(
        handoff: LiveHandoff, agents: List[AgentView], channel: str) -> None:
    handoff.availability.set_available(agents[0].id, True)
    said, _ = await ticket_start(tracker("can i talk to a human please", channel))
    assert said == ["utter_no_live_agent", "utter_ticket_intro"]
    assert handoff.state_of("customer-1") is None


async def test_no_agent_free_the_ticket_follows_saying_so(handoff: LiveHandoff, agents: List[AgentView]) -> None:
    said, _ = await ticket_start(tracker("i want to speak to an agent", "telegram"))
    assert said == ["utter_no_live_agent", "utter_ticket_intro"]
    assert handoff.state_of("customer-1") is None


async def test_a_plain_request_for_a_ticket_is_a_ticket_even_with_an_agent_free(
        handoff: LiveHandoff, agents: List[AgentView]) -> None:
    handoff.availability.set_available(agents[0].id, True)
    said, _ = await ticket_start(tracker("open a ticket", "socketio"))
    assert said == ["utter_ticket_intro"]


async def test_the_ticket_offer_at_the_end_of_the_steps_adds_the_agent_only_when_one_is_free(
        handoff: LiveHandoff, agents: List[AgentView]) -> None:
    plan = ["clear_cache"]
    for available, expected in ((False, ["utter_offer_ticket"]),
                                (True, ["utter_offer_ticket", "utter_offer_live_agent"])):
        handoff.availability.set_available(agents[0].id, available)
        dispatcher = CollectingDispatcher()
        present_step(dispatcher, tracker("still broken", "socketio", intent="still_broken"), "browser", plan, 1)
        assert [m.get("response") for m in dispatcher.messages] == expected


def test_a_live_chat_that_cannot_be_opened_leaves_the_ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    live_agent.use_handoff(None)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    try:
        assert live_agent.agent_available(tracker("talk to a person", "socketio")) is False
    finally:
        live_agent.use_handoff(None)
