"""Whole conversations as the customer reads them, against the running servers.

Each conversation of tests/dialogue/*.yml is typed over REST and every reply must
be exactly the expected sequence of responses: nothing missing, nothing extra.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from loginhelp.replay import Conversation, domain_matcher, load_conversations, play, rest_sender, unknown_responses
from loginhelp.servers import RasaStack

HERE = Path(__file__).parent
CONVERSATIONS: List[Conversation] = [
    c for path in sorted(HERE.glob("*.yml")) for c in load_conversations(path)
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RasaStack(tmp_path_factory.mktemp("dialogue")).start()
    yield running
    running.stop()


def test_the_suite_is_large_and_mostly_typed():
    assert len(CONVERSATIONS) >= 150
    assert sum(c.typed_only for c in CONVERSATIONS) * 2 >= len(CONVERSATIONS)
    names = [c.name for c in CONVERSATIONS]
    assert len(names) == len(set(names)), "conversation names must be unique"


def test_every_expected_response_exists():
    assert unknown_responses(CONVERSATIONS, domain_matcher()) == []


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[f"{c.source}:{c.name}" for c in CONVERSATIONS])
def test_conversation(stack, conversation: Conversation):
    sender = f"dialogue-{CONVERSATIONS.index(conversation)}"
    played = play(conversation, rest_sender(stack.url), sender)
    problems = played.mismatches()
    assert not problems, "\n".join(problems) + "\n--- transcript\n" + played.transcript()
