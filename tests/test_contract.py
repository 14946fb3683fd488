"""The conversation's contract (loginhelp/contract.py) against domain.yml and the code.

The names cross process boundaries as JSON, where a misspelling fails silently;
these tests make it fail here: every slot of the contract is the domain's, the
pending values are exactly the categorical slot's, the actions name slots and
pending values only through the contract, and what the actions read from a
message's metadata is what the channels write.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

from loginhelp import contract
from loginhelp.contract import (
    ATTACHMENT_KEYS,
    PENDING_VALUES,
    SLOT_NAMES,
    ChannelMessage,
    Metadata,
    Pending,
    RasaSlot,
    Slot,
)

REPO = Path(__file__).resolve().parents[1]
CONTRACT_FILE = REPO / "loginhelp" / "contract.py"
# Code that writes or reads the conversation (the console and the database code are
# other people's; they name no slot or pending value).
SCANNED = sorted((REPO / "actions").glob("*.py")) + sorted(
    p for p in (REPO / "loginhelp").rglob("*.py") if p != CONTRACT_FILE
)
ACTION_FILES = sorted((REPO / "actions").glob("*.py"))


def _trees(paths: List[Path]) -> Iterator[Tuple[Path, ast.AST]]:
    for path in paths:
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"


def _contract_name(node: ast.AST, namespaces: Tuple[type, ...]) -> Any:
    """The value of ``Namespace.NAME`` for a namespace of the contract, else a sentinel."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in {n.__name__ for n in namespaces}):
        namespace = next(n for n in namespaces if n.__name__ == node.value.id)
        return getattr(namespace, node.attr, KeyError(f"{node.value.id}.{node.attr}"))
    return KeyError(ast.unparse(node))


def _calls(name: str, paths: List[Path]) -> Iterator[Tuple[Path, ast.Call]]:
    for path, tree in _trees(paths):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    yield path, node


# --- Slots -------------------------------------------------------------------------------------


def test_the_contract_lists_exactly_the_domains_slots(domain):
    assert set(SLOT_NAMES) == set(domain["slots"])
    assert len(SLOT_NAMES) == len(set(SLOT_NAMES))


def test_rasas_own_slots_are_spelled_as_rasa_does():
    from rasa.shared.core.constants import REQUESTED_SLOT, SESSION_START_METADATA_SLOT

    assert (RasaSlot.REQUESTED_SLOT, RasaSlot.SESSION_STARTED_METADATA) == (REQUESTED_SLOT, SESSION_START_METADATA_SLOT)


@pytest.mark.parametrize("call", ["SlotSet", "get_slot"])
def test_actions_name_slots_only_through_the_contract(call):  # rasa_sdk's SlotSet and Tracker
    # A typo in Slot.X is an AttributeError at import; a typo in "x" is a slot nobody reads.
    # (A variable holding a slot name, e.g. a form's requested slot, is fine.)
    wrong = []
    for path, node in _calls(call, ACTION_FILES):
        if not node.args:
            continue
        first = node.args[0]
        spelled = isinstance(first, (ast.Constant, ast.JoinedStr))
        if spelled or (isinstance(first, ast.Attribute) and isinstance(_contract_name(first, (Slot, RasaSlot)), Exception)):
            wrong.append(f"{_where(path, node)}: {call}({ast.unparse(node.args[0])}, ...)")
    assert not wrong, "slots named outside loginhelp.contract:\n" + "\n".join(wrong)


# --- The pending question ---------------------------------------------------------------------


def test_pending_is_categorical_with_exactly_the_contracts_values(domain):
    pending = domain["slots"][Slot.PENDING]
    assert pending["type"] == "categorical"
    assert pending["values"] == list(PENDING_VALUES)


def test_every_pending_value_set_in_the_code_comes_from_the_contract():
    set_values = []
    for path, node in _calls("SlotSet", ACTION_FILES):
        if len(node.args) < 2 or _contract_name(node.args[0], (Slot,)) != Slot.PENDING:
            continue
        value_node = node.args[1]
        if isinstance(value_node, ast.Constant) and value_node.value is None:
            continue
        value = _contract_name(value_node, (Pending,))
        assert not isinstance(value, Exception), f"{_where(path, node)}: pending set to {ast.unparse(value_node)}"
        set_values.append(value)
    assert set(set_values) <= set(PENDING_VALUES)
    # Every question but the ticket-offer's follow-ups is asked somewhere.
    assert {Pending.STEP_FEEDBACK, Pending.TICKET_CONFIRM, Pending.TICKET_REF_NEEDED} <= set(set_values)


def test_no_pending_value_is_spelled_outside_the_contract():
    spelled = [
        f"{_where(path, node)}: {node.value!r}"
        for path, tree in _trees(SCANNED)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in PENDING_VALUES
    ]
    assert not spelled, "use loginhelp.contract.Pending:\n" + "\n".join(spelled)


def test_messages_the_channels_send_are_intents_of_the_domain(domain):
    from rasa.shared.core.constants import DEFAULT_INTENTS

    for message in (ChannelMessage.SHARE_SCREENSHOT, ChannelMessage.GREET, ChannelMessage.CAPABILITIES,
                    ChannelMessage.RESTART):
        assert message.startswith("/")
        assert message[1:] in set(domain["intents"]) | set(DEFAULT_INTENTS), message


# --- Metadata and attachments --------------------------------------------------------------------


def _widget_keys() -> Set[str]:
    from loginhelp.channels.common import WIDGET_METADATA_FIELDS, widget_metadata

    sent = {"user_agent": "Mozilla/5.0", "language": "en-GB", "timezone": "Europe/London",
            "client_time": 1700000000000, "favourite_colour": "red"}
    written = set(widget_metadata(sent))
    assert written == set(WIDGET_METADATA_FIELDS) == set(contract.WidgetMetadata.__annotations__)
    return written


def _telegram_keys() -> Tuple[Set[str], Set[str]]:
    """Metadata keys and attachment keys the Telegram channel writes for a photo with a caption."""
    from loginhelp.channels.telegram.updates import read_message

    photo = {
        "message_id": 7, "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "language_code": "en"}, "caption": "the error",
        "photo": [{"file_id": "small", "width": 90, "height": 90}, {"file_id": "big", "width": 900, "height": 900}],
    }
    text, metadata = read_message(photo)
    assert text == ChannelMessage.SHARE_SCREENSHOT
    assert set(metadata) == set(contract.TelegramMetadata.__annotations__)
    [attachment] = metadata[Metadata.ATTACHMENTS]
    return set(metadata), set(attachment)


def _read_by_actions() -> Set[str]:
    read = set()
    for path, tree in _trees(ACTION_FILES):
        for node in ast.walk(tree):
            value = _contract_name(node, (Metadata,))
            if isinstance(node, ast.Attribute) and not isinstance(value, Exception):
                read.add(value)
    return read


def test_metadata_the_actions_read_is_what_the_channels_write():
    telegram_keys, _ = _telegram_keys()
    written = _widget_keys() | telegram_keys
    read = _read_by_actions()
    assert {Metadata.USER_AGENT, Metadata.CLIENT_TIME, Metadata.ATTACHMENTS} <= read
    assert read <= written, f"read but never written: {sorted(read - written)}"
    assert set(contract.names_in(Metadata)) == written


def test_actions_spell_no_metadata_key_themselves():
    keys = set(contract.names_in(Metadata)) | {contract.REST_USER_AGENT_ALIAS}
    spelled = [
        f"{_where(path, node)}: {node.value!r}"
        for path, tree in _trees(ACTION_FILES)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in keys
    ]
    assert not spelled, "use loginhelp.contract.Metadata:\n" + "\n".join(spelled)


def test_attachments_have_one_shape_from_the_channel_to_the_ticket():
    from loginhelp.tickets import ScreenshotDraft

    _, attachment_keys = _telegram_keys()
    assert attachment_keys == set(ATTACHMENT_KEYS) == set(contract.Attachment.__annotations__)
    assert tuple(f.name for f in dataclasses.fields(ScreenshotDraft)) == ATTACHMENT_KEYS


# --- Button payloads ----------------------------------------------------------------------------


def _buttons_built_in_code() -> Dict[str, int]:
    """Where actions/ builds buttons (``buttons=`` passed to a call), by class.method."""
    found: Dict[str, int] = {}

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{where}.{child.name}")
            else:
                if isinstance(child, ast.Call) and any(k.arg == "buttons" for k in child.keywords):
                    found[where] = found.get(where, 0) + 1
                visit(child, where)

    for path, tree in _trees(ACTION_FILES):
        visit(tree, path.stem)
    return found


async def _payloads_sent_by_actions() -> List[str]:
    """Every payload of the buttons actions build, by running the code that builds them."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.tickets import ActionTicketChange
    from tests.conftest import make_tracker

    dispatcher = CollectingDispatcher()
    # No field named: the action lists every field as a button.
    tracker = make_tracker(slots={"pending": "ticket_confirm"}, intent="ticket_change", text="change it")
    await ActionTicketChange().run(dispatcher, tracker, {})
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


async def test_every_button_payload_fits_telegrams_callback_data():
    from tests.test_domain import rendered_buttons

    # Add a new place that builds buttons to _payloads_sent_by_actions, then here.
    assert _buttons_built_in_code() == {"tickets.ActionTicketChange.run": 1}
    from_code = await _payloads_sent_by_actions()
    assert len(from_code) >= 7 and all(p.startswith("/ticket_change{") for p in from_code[:-1])
    payloads = from_code + [b["payload"] for b in await rendered_buttons()]
    sizes = {p: len(p.encode("utf-8")) for p in payloads}
    too_long = {p: n for p, n in sizes.items() if n > contract.MAX_PAYLOAD_BYTES}
    assert not too_long, f"longer than {contract.MAX_PAYLOAD_BYTES} bytes: {too_long}"
    assert max(sizes.values()) > 40  # the entity-carrying payloads were seen
