"""Faults: an action server, the ticket database and a Rasa replica go away mid-conversation.

The Rasa replica test comes last: the replica it kills is restarted in the
background (about a minute of CPU) while the session ends.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from loginhelp.prod_stack import ProdStack, texts

REFERENCE = re.compile(r"LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
APOLOGY = "something went wrong on my side"
FIREFOX_UA = {"user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"}


def slot(stack: ProdStack, sender: str, name: str):
    """The slot's value in the stored tracker (the last SlotSet event)."""
    value = None
    for event in stack.events(sender):
        if event["type_name"] == "slot" and event["data"].get("name") == name:
            value = event["data"].get("value")
    return value


def test_action_server_killed_mid_conversation(healthy: ProdStack):
    stack = healthy
    sender = "fault-actions"
    say = lambda message: stack.send(sender, message, FIREFOX_UA)  # noqa: E731

    assert "cache" in texts(say("the login button does nothing when i click it"))

    # One action server dies: the load balancer sends every action call to the other.
    stack.kill("action-1")
    assert "different browser" in texts(say("/still_broken"))
    assert "extensions" in texts(say("/still_broken"))
    assert "support ticket" in texts(say("/still_broken"))
    assert "email address or phone number" in texts(say("/affirm"))

    # The other one dies too: the customer is told, and what they typed is not taken unchecked.
    stack.kill("action-2")
    down = say("dana@example.com")
    assert APOLOGY in texts(down)
    assert "email address or phone number" in texts(down)  # the form asks again
    assert slot(stack, sender, "ticket_contact") is None
    other = stack.send("fault-actions-other", "my 2fa code is always rejected")
    assert APOLOGY in texts(other)

    # One comes back: both conversations go on where they were.
    stack.release("action-1")
    stack.wait_up(["action-1"], timeout=120)
    assert "error message" in texts(say("dana@example.com"))
    assert "tried" in texts(say("/deny"))
    assert "screenshot" in texts(say("/deny"))
    summary = texts(say("/deny"))
    assert "dana@example.com" in summary and "the login button does nothing" in summary
    reference = REFERENCE.search(texts(say("/affirm"))).group()
    assert [t["reference"] for t in stack.tickets(sender)] == [reference]
    assert "clock" in texts(stack.send("fault-actions-other", "my 2fa code is always rejected"))
    stack.release("action-2")


def test_database_unreachable_when_the_ticket_is_confirmed(healthy: ProdStack):
    stack = healthy
    sender = "fault-database"
    say = lambda message: stack.send(sender, message, FIREFOX_UA)  # noqa: E731
    say("the login button does nothing when i click it")
    say('/contact_support{"email": "erin@example.com"}')
    say("/deny")
    say("/deny")
    assert "Here's your ticket" in texts(say("/deny"))

    stack.proxy.cut()  # the action servers lose the ticket database
    try:
        told = texts(say("/affirm"))
        assert "isn't answering right now" in told and "nothing is lost" in told
        reference = REFERENCE.search(told).group()
        spooled = list(stack.spool_dir.glob("*.json"))
        assert [p.name.endswith(f"-{reference}.json") for p in spooled] == [True]
        assert stack.tickets(sender) == []
        time.sleep(3)  # the spool flusher tries (and fails) while the database is away
        assert stack.tickets(sender) == [] and len(list(stack.spool_dir.glob("*.json"))) == 1
    finally:
        stack.proxy.restore()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stack.tickets(sender):
        time.sleep(0.5)
    tickets = stack.tickets(sender)
    assert [t["reference"] for t in tickets] == [reference]
    assert tickets[0]["contact_email"] == "erin@example.com"
    assert list(stack.spool_dir.glob("*.json")) == []
    assert "open and waiting" in texts(say(f"what's the status of {reference}"))
    time.sleep(3)  # a second flush finds nothing to do: still one ticket
    assert len(stack.tickets(sender)) == 1


def settled_size(log: Path, quiet: float = 0.5, limit: float = 10.0) -> int:
    """The log's size once nginx has stopped writing to it: it logs a request after the
    response is sent, so the line of the latest request may land a moment later."""
    size, deadline = log.stat().st_size, time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = log.stat().st_size
        if now == size:
            break
        size = now
    return size


def test_rasa_replica_killed_mid_conversation(healthy: ProdStack):
    stack = healthy
    sender = "fault-rasa"
    say = lambda message: stack.send(sender, message, FIREFOX_UA)  # noqa: E731
    say("the login button does nothing when i click it")
    assert "error message" in texts(say('/contact_support{"email": "finn@example.com"}'))

    log = stack.run_dir / "log" / "nginx-access.log"
    mark = settled_size(log)
    stack.kill("rasa-1")
    try:
        assert "tried" in texts(say("/deny"))
        assert "screenshot" in texts(say("/deny"))
        summary = texts(say("/deny"))
        assert "finn@example.com" in summary and "the login button does nothing" in summary
        reference = REFERENCE.search(texts(say("/affirm"))).group()
        assert [t["reference"] for t in stack.tickets(sender)] == [reference]
        with log.open() as handle:
            handle.seek(mark)
            served = [line for line in handle if "/webhooks/rest/webhook" in line]
        assert len(served) == 4
        alive = f"127.0.0.1:{stack.rasa_ports[1]} "
        assert all(alive in line and " 200 " in line for line in served), served
    finally:
        stack.release("rasa-1")  # restarted by the supervisor in the background
