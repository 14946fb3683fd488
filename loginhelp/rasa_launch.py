"""Start Rasa with four run-time changes: ``python -m loginhelp.rasa_launch run --model ...``.

Takes the same arguments as the ``rasa`` command. Before handing over to Rasa's
own CLI it replaces three steps of a turn that cost much and decide little; each
gives exactly the answer Rasa's own code gives (tests/test_rasa_launch.py), in
a fraction of the time (profiles in bench/README.md, "load"). A fourth change
takes the loaded model out of the garbage collector's way:

1. ``RemoteAction._validate_action_result``: Rasa 3.6.21 calls
   ``jsonschema.validate(result, schema)`` on every custom-action response,
   which re-checks the schema against its metaschema, builds a fresh validator
   and then tries each event against all 23 event schemas (``oneOf``). Here the
   validators are built once and each event is checked against the one schema
   whose ``event`` constant it names: the only one that could match, so the
   verdict is the same. A malformed response still raises
   ``jsonschema.ValidationError``.
2. ``MessageProcessor._parse_message_with_graph``: a button payload
   (``/intent{"entity": "value"}``) runs the whole NLU pipeline (spaCy,
   the entity ruler, the intent classifier) and then Rasa's ``RegexMessageHandler``
   throws that work away and answers from the payload. Here a payload that
   names a domain intent goes to ``RegexMessageHandler``'s own unpacking
   directly; anything else (typed text, an unknown intent, a malformed
   payload) takes the full pipeline as before. Most turns in this assistant
   are button taps on the widget or in Telegram.
3. ``Event.resolve_by_type``: every stored event read back (each turn reads the
   conversation) looks its class up by walking all subclasses of ``Event``
   afresh. Here the walk's result is kept in a table, filled in the walk's own
   order (the first class with a name wins, as in Rasa's loop); a name not in
   the table takes Rasa's own path and refreshes it. Event classes are all
   defined when Rasa is imported.
4. After the model is loaded, ``gc.freeze()``: the 620,000 objects of
   TensorFlow, spaCy and the model live as long as the process, yet every full
   collection walked them all, a pause of about 320 ms in the middle of some
   unlucky customer's turn (the p99 tail under load). Frozen, they are never
   walked again; collections of the conversation's own objects go on as before.

Every mode starts Rasa through this module: ``make run`` (scripts/run.sh), every
production replica (scripts/run_prod.sh), the test servers and the benchmarks;
a container image uses it as its entry point (README, "Deployment").
"""
from __future__ import annotations

import copy
import functools
import gc
import sys
from typing import Any, Callable, Dict, Optional, Text

import jsonschema

#: What ``RegexMessageHandler`` names as the extractor of payload entities.
PAYLOAD_EXTRACTOR = "RegexMessageHandler"


class ActionResponseValidator:
    """Rasa's action-response schema, checked event by event against the schema of its type."""

    def __init__(self, schema: Dict[str, Any]) -> None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        event_schema = schema["properties"]["events"]["items"]
        self._by_event = {
            alternative["properties"]["event"]["const"]: cls(alternative) for alternative in event_schema["oneOf"]
        }
        outline = copy.deepcopy(schema)
        del outline["properties"]["events"]["items"]["oneOf"]
        self._outline = cls(outline)  # everything but the per-type part

    def validate(self, result: Dict[str, Any]) -> None:
        self._outline.validate(result)  # shape, the events list, each event's common fields
        events = result.get("events") if isinstance(result, dict) else None
        for event in events if isinstance(events, list) else []:
            validator = self._by_event.get(event["event"])  # the outline made "event" a required string
            if validator is None:
                raise jsonschema.ValidationError(f"{event!r} is not valid under any of the given schemas")
            validator.validate(event)


def validate_action_responses_by_event_type() -> None:
    from rasa.core.actions.action import RemoteAction

    @functools.lru_cache(maxsize=1)
    def validator() -> ActionResponseValidator:
        return ActionResponseValidator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator().validate(result)
        except jsonschema.ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                "from the Action endpoint is valid."
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


def parse_payload(text: Optional[Text], domain: Any) -> Optional[Dict[Text, Any]]:
    """The parse data of a button payload naming a domain intent, as RegexMessageHandler makes it; else None."""
    from rasa.shared.constants import INTENT_MESSAGE_PREFIX
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    if not text or not text.strip().startswith(INTENT_MESSAGE_PREFIX):
        return None
    message = Message(data={TEXT: text})
    unpacked = YAMLStoryReader.unpack_regex_message(message, domain, entity_extractor_name=PAYLOAD_EXTRACTOR)
    if unpacked is message:  # not a payload Rasa would answer from: the NLU pipeline decides
        return None
    return unpacked.as_dict(only_output_properties=True)


def parse_button_payloads_without_nlu() -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

    through_pipeline: Callable[..., Dict[Text, Any]] = MessageProcessor._parse_message_with_graph

    def _parse_message_with_graph(self: MessageProcessor, message: Any, tracker: Any,
                                  only_output_properties: bool = True) -> Dict[Text, Any]:
        parsed = parse_payload(message.text, self.domain) if only_output_properties else None
        if parsed is None:
            return through_pipeline(self, message, tracker, only_output_properties)
        parse_data: Dict[Text, Any] = {
            TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: [],
        }
        parse_data.update(parsed)
        return parse_data

    MessageProcessor._parse_message_with_graph = _parse_message_with_graph


def resolve_event_types_from_a_table() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    walk: Callable[..., Any] = Event.resolve_by_type
    table: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        found = table.get(type_name)
        if found is not None:
            return found
        found = walk(type_name, default)  # unknown names raise or fall back exactly as before
        table.clear()
        for cls in all_subclasses(Event):
            table.setdefault(cls.type_name, cls)
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)


def freeze_after_loading_the_model() -> None:
    import rasa.core.run

    load: Callable[..., Any] = rasa.core.run.load_agent_on_start

    @functools.wraps(load)
    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await load(*args, **kwargs)
        gc.collect()  # garbage of the loading goes first: frozen objects are never freed
        gc.freeze()
        return agent

    rasa.core.run.load_agent_on_start = load_agent_on_start  # looked up when the server starts


def main() -> None:
    validate_action_responses_by_event_type()
    parse_button_payloads_without_nlu()
    resolve_event_types_from_a_table()
    freeze_after_loading_the_model()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
