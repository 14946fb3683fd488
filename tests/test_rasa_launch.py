"""loginhelp.rasa_launch: both run-time changes give exactly Rasa's own answers.

1. The per-event-type validator judges action responses as Rasa's ``oneOf`` schema does.
2. A button payload parsed without the NLU pipeline gets the parse data the whole
   trained pipeline gives it; everything else still goes through the pipeline.
"""
from __future__ import annotations

import asyncio
import copy
import random
from typing import Any, Dict, List

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

from loginhelp import rasa_launch

from loginhelp.servers import MODEL
from .test_domain import rendered_buttons

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "pending", "value": None}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "action", "name": "action_listen"}],
     "responses": [{"response": "utter_greet", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    {"events": [{"event": "bot", "text": "hi", "data": {"buttons": []}, "metadata": {}, "timestamp": 1.5},
                {"event": "active_loop", "name": None}, {"event": "followup", "name": "action_x"},
                {"event": "reset_slots"}, {"event": "session_started"}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"events": [], "responses": "nope"},
    {"events": [{"event": 5}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "name": "pending", "value": None}, {"event": "slot"}]},  # slot needs a name
    {"events": [{"event": "user", "text": 3}]},
    {"events": [{"event": "bot", "text": "x", "metadata": "m"}]},
    {"events": ["slot"]},
    [],
]


@pytest.fixture()
def validators(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    original = RemoteAction._validate_action_result
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original)  # undone after the test
    rasa_launch.validate_action_responses_by_event_type()
    return {"rasa": original, "by_type": RemoteAction._validate_action_result}


def _verdict(validate: Any, response: Any) -> str:
    try:
        validate(RemoteAction("action_test", None), response)
    except jsonschema.ValidationError:
        return "invalid"
    return "valid"


@pytest.mark.parametrize("response", VALID + INVALID)
def test_validator_agrees_with_rasa(validators: Dict[str, Any], response: Dict[str, Any]) -> None:
    assert validators["by_type"] is not validators["rasa"]
    assert _verdict(validators["by_type"], response) == _verdict(validators["rasa"], response)


def _mutations(rng: random.Random, count: int) -> List[Any]:
    """Responses near the valid ones: fields dropped, retyped, renamed; events swapped in from elsewhere."""
    events = [e for r in VALID for e in r.get("events", [])]
    values: List[Any] = [None, 1, "x", [], {}, True, 2.5, [{"title": "t"}]]
    out = []
    for _ in range(count):
        response = copy.deepcopy(rng.choice(VALID))
        response.setdefault("events", []).extend(copy.deepcopy(rng.sample(events, rng.randint(0, 3))))
        for event in response["events"]:
            if rng.random() < 0.3:
                key = rng.choice(sorted(event) + ["name", "text", "value", "extra"])
                choice = rng.random()
                if choice < 0.3:
                    event.pop(key, None)
                elif choice < 0.6:
                    event[key] = rng.choice(values)
                else:
                    event["event"] = rng.choice(["slot", "bot", "user", "action", "form", "nonsense", ""])
        out.append(response)
    return out


def test_validator_agrees_with_rasa_on_generated_responses(validators: Dict[str, Any]) -> None:
    responses = _mutations(random.Random(6), 400)
    verdicts = [(_verdict(validators["by_type"], r), _verdict(validators["rasa"], r)) for r in responses]
    disagreements = [r for r, (mine, theirs) in zip(responses, verdicts) if mine != theirs]
    assert not disagreements, disagreements[:3]
    assert {"valid", "invalid"} <= {theirs for _, theirs in verdicts}, "the generator must produce both verdicts"


def test_invalid_response_still_raises_with_rasa_hint(validators: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        validators["by_type"](RemoteAction("action_test", None), INVALID[0])
    assert _verdict(validators["by_type"], VALID[1]) == "valid"


def test_cases_cover_both_verdicts(validators: Dict[str, Any]) -> None:
    """The agreement test means something only if Rasa accepts VALID and rejects INVALID."""
    assert [_verdict(validators["rasa"], r) for r in VALID] == ["valid"] * len(VALID)
    assert [_verdict(validators["rasa"], r) for r in INVALID] == ["invalid"] * len(INVALID)


# -- button payloads ------------------------------------------------------------------


@pytest.fixture(scope="module")
def processor() -> MessageProcessor:
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL)).processor


@pytest.fixture()
def parsers(processor: MessageProcessor, monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    original = MessageProcessor._parse_message_with_graph
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", original)  # undone after the test
    rasa_launch.parse_button_payloads_without_nlu()
    patched = MessageProcessor._parse_message_with_graph
    return {"pipeline": lambda m: original(processor, m, _tracker()),
            "direct": lambda m: patched(processor, m, _tracker())}


def _tracker() -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events("payload-test", [])


def _message(text: str) -> Any:
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text, sender_id="payload-test", message_id="m1", metadata={"user_agent": "x"})


BUTTON_PAYLOADS = sorted({b["payload"] for b in asyncio.run(rendered_buttons())}
                         | {"/deny", "/cancel", '/ticket_change{"ticket_field": "contact"}'})
#: Typed text, unknown intents and broken payloads (Rasa reads a payload with broken JSON as its bare intent).
NOT_PAYLOADS = [
    "/no_such_intent", "/affirm{not json", '/inform{"platform": ', "/", "  ", "i can't log in",
    "/affirm and then some", "my password is /secret123", "/inform{\"unknown_entity\": \"x\"}",
]


@pytest.mark.parametrize("text", BUTTON_PAYLOADS + ["/affirm@0.4", '  /inform{"browser": "chrome"}'])
def test_payloads_parse_exactly_as_through_the_pipeline(parsers: Dict[str, Any], text: str) -> None:
    direct = parsers["direct"](_message(text))
    assert direct == parsers["pipeline"](_message(text))
    assert direct["intent"]["name"] and direct["intent"]["confidence"] > 0


@pytest.mark.parametrize("text", NOT_PAYLOADS)
def test_other_messages_parse_as_through_the_pipeline(parsers: Dict[str, Any], text: str) -> None:
    assert parsers["direct"](_message(text)) == parsers["pipeline"](_message(text))


@pytest.mark.parametrize("text", ["/no_such_intent", "/", "  ", "i can't log in", "/affirm and then some",
                                  "my password is /secret123"])
def test_typed_text_and_broken_payloads_are_left_to_the_pipeline(processor: MessageProcessor, text: str) -> None:
    assert rasa_launch.parse_payload(text, processor.domain) is None


def test_payload_skips_the_pipeline(processor: MessageProcessor, parsers: Dict[str, Any],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the change: a payload never reaches the graph; typed text always does."""
    runs: List[Any] = []
    run = processor.graph_runner.run
    monkeypatch.setattr(processor.graph_runner, "run", lambda *a, **k: runs.append(1) or run(*a, **k))
    parsers["direct"](_message("/still_broken"))
    assert runs == []
    parsers["direct"](_message("still broken"))
    assert runs == [1]


# -- event types ----------------------------------------------------------------------


@pytest.fixture()
def resolvers(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(original))  # undone after the test
    rasa_launch.resolve_event_types_from_a_table()
    return {"rasa": original, "table": Event.resolve_by_type}


def test_every_event_type_resolves_to_rasas_class(resolvers: Dict[str, Any]) -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for _ in range(2):  # the first call fills the table, the second reads it
        for name in sorted(names):
            assert resolvers["table"](name) is resolvers["rasa"](name), name


def test_unknown_event_types_behave_as_in_rasa(resolvers: Dict[str, Any]) -> None:
    from rasa.shared.core.events import SlotSet

    resolvers["table"]("slot")
    assert resolvers["table"]("topic") is None
    assert resolvers["table"]("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        resolvers["table"]("no_such_event")


def test_stored_events_deserialise_as_before(resolvers: Dict[str, Any]) -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered

    events = [SessionStarted(), ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"}),
              SlotSet("platform", "web"), BotUttered("hello", {"buttons": [{"title": "a", "payload": "/a"}]})]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


# -- garbage collector ------------------------------------------------------------------


async def test_the_loaded_model_is_frozen_out_of_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import rasa.core.run

    loaded = [object() for _ in range(1000)]  # stands for the agent Rasa's loader returns

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        return loaded

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", load_agent_on_start)
    gc.unfreeze()
    try:
        rasa_launch.freeze_after_loading_the_model()
        assert rasa.core.run.load_agent_on_start is not load_agent_on_start
        assert await rasa.core.run.load_agent_on_start("model", None, None, app=None, loop=None) is loaded
        assert gc.get_freeze_count() > 1000  # everything alive at that point, the agent included
    finally:
        gc.unfreeze()
