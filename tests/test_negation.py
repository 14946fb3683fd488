"""A thing named only to be denied is not what the customer uses."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from loginhelp.negation import denied_at
from loginhelp.nlu.negated_entities import NegatedEntityFilter


@pytest.mark.parametrize("text, word, denied", [
    ("its the app not the website", "website", True),
    ("not chrome, firefox", "chrome", True),
    ("I use the app instead of the website", "website", True),
    ("it isn't the app, it's the site", "app", True),
    ("not on my laptop", "laptop", True),
    ("rather than chrome i use brave", "chrome", True),
    # A negated verb does not deny the place it failed in.
    ("cant log in on the website", "website", False),
    ("it does not work in chrome", "chrome", False),
    ("I can not open the app", "app", False),
    # An answer that starts "no" names what it is.
    ("No, the website", "website", False),
    ("nope, on my laptop", "laptop", False),
])
def test_a_denial_just_before_a_word_denies_it(text, word, denied):
    assert denied_at(text, text.index(word)) is denied


def _entity(text: str, word: str, kind: str, value: str) -> dict:
    start = text.index(word)
    return {"entity": kind, "value": value, "start": start, "end": start + len(word)}


def test_the_filter_drops_denied_entities_of_the_configured_kinds_only():
    text = "not chrome, firefox, my email is not a@b.co"
    message = Message(data={"text": text, "entities": [
        _entity(text, "chrome", "browser", "chrome"),
        _entity(text, "firefox", "browser", "firefox"),
        _entity(text, "a@b.co", "email", "a@b.co"),
    ]})
    NegatedEntityFilter({"entities": ["browser"]}).process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [
        ("browser", "firefox"), ("email", "a@b.co")]


def test_the_filter_leaves_a_message_without_denials_as_it_was():
    text = "cant log in on the website in chrome"
    entities = [_entity(text, "website", "platform", "web"), _entity(text, "chrome", "browser", "chrome")]
    message = Message(data={"text": text, "entities": list(entities)})
    NegatedEntityFilter(NegatedEntityFilter.get_default_config()).process([message])
    assert message.get("entities") == entities
