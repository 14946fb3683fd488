"""Whole conversations with the status page read live (tests/dialogue/live/status_page.yml).

The action server reads a fake status page; each group of conversations runs with
the page in one state. The cache is off (STATUS_PAGE_CACHE_SECONDS=0) so a new
state is seen at once; its behaviour is tested in tests/test_status_page.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from loginhelp.replay import Conversation, domain_matcher, load_conversations, play, rest_sender, unknown_responses
from loginhelp.servers import RasaStack
from tests.fakes.status_page import FakeStatusPage

FILE = Path(__file__).parent / "live" / "status_page.yml"
STATES = list(yaml.safe_load(FILE.read_text(encoding="utf-8")))
CASES: List[Tuple[str, Conversation]] = [(state, c) for state in STATES for c in load_conversations(FILE, state)]


def show(page: FakeStatusPage, state: str) -> None:
    if state == "error":
        page.serve_error(500)
    elif state == "malformed":
        page.serve_raw("<html>maintenance</html>", content_type="text/html")
    elif state == "slow":
        page.serve_scenario("operational", delay=3.0)
    else:
        page.serve_scenario(state)


@pytest.fixture(scope="module")
def page():
    with FakeStatusPage() as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory, page: FakeStatusPage):
    env = {"STATUS_PAGE_URL": page.url, "STATUS_PAGE_CACHE_SECONDS": "0", "STATUS_PAGE_TIMEOUT_SECONDS": "2"}
    running = RasaStack(tmp_path_factory.mktemp("status-dialogue"), env=env).start()
    yield running
    running.stop()


def test_every_state_is_covered_and_every_response_exists():
    assert {"incident", "operational", "maintenance_in_progress", "error", "malformed", "slow"} <= set(STATES)
    assert unknown_responses([c for _, c in CASES], domain_matcher()) == []


@pytest.mark.parametrize("state, conversation", CASES, ids=[f"{s}:{c.name}" for s, c in CASES])
def test_conversation_with_the_status_page(stack, page: FakeStatusPage, state: str, conversation: Conversation):
    show(page, state)
    sender = f"status-{CASES.index((state, conversation))}"
    played = play(conversation, rest_sender(stack.url), sender)
    problems = played.mismatches()
    assert not problems, "\n".join(problems) + "\n--- transcript\n" + played.transcript()
