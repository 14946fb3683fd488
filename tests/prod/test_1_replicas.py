"""Two Rasa replicas share one conversation state: PostgreSQL tracker store, Redis lock store."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from loginhelp.prod_stack import ProdStack, texts

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/115.0.5790.110 Safari/537.36"
)
REFERENCE = re.compile(r"LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")


def user_texts(events):
    return [e["data"].get("text") for e in events if e["type_name"] == "user"]


def test_alternating_replicas_keep_the_form_and_store_the_ticket_once(healthy: ProdStack):
    stack = healthy
    sender = "prod-alternate"
    web = {"user_agent": CHROME_UA}
    turns = [
        ("the login button does nothing when i click it", "Clear Chrome's cache"),
        ("/still_broken", "different browser"),
        ("/still_broken", "extensions"),
        ("/still_broken", "support ticket"),
        ("/affirm", "email address or phone number"),
        ("anna.k@example.com", "error message"),
        ("the page says session expired", "Cleared the browser's cache and cookies"),
        ("/deny", "screenshot"),
        ("/deny", "Here's your ticket"),
    ]
    for number, (message, expected) in enumerate(turns):
        replica = 1 + number % 2
        replies = stack.send(sender, message, web, base=stack.replica_url(replica))
        assert expected in texts(replies), (replica, message, replies)
    summary = texts(replies)
    # Slots gathered on both replicas are all there.
    for value in ("anna.k@example.com", "the login button does nothing", "session expired",
                  "Chrome 115.0.5790", "Windows 10", "Disabled browser extensions"):
        assert value in summary, (value, summary)

    done = stack.send(sender, "/affirm", base=stack.replica_url(2))
    reference = REFERENCE.search(texts(done)).group()
    tickets = stack.tickets(sender)
    assert [t["reference"] for t in tickets] == [reference]
    assert tickets[0]["contact_email"] == "anna.k@example.com"
    assert tickets[0]["description"] == "the login button does nothing when i click it"

    # Every message is in the shared tracker once, in the order it was sent.
    assert user_texts(stack.events(sender)) == [m for m, _ in turns] + ["/affirm"]

    # The status is known to the conversation on the other replica too.
    status = stack.send(sender, f"what's the status of {reference}", base=stack.replica_url(1))
    assert "open and waiting" in texts(status)


def test_load_balancer_spreads_one_conversation_over_both_replicas(healthy: ProdStack):
    stack = healthy
    log = stack.run_dir / "log" / "nginx-access.log"
    before = log.read_text().count("\n") if log.exists() else 0
    for message in ("hi", "what can you do?", "are you a bot?", "thanks"):
        assert stack.send("prod-round-robin", message)
    lines = [line for line in log.read_text().splitlines()[before:] if "/webhooks/rest/webhook" in line]
    used = {port for port in stack.rasa_ports for line in lines if f"upstream=127.0.0.1:{port}" in line}
    assert used == set(stack.rasa_ports), lines  # no pinning: both replicas served it


def test_simultaneous_messages_of_one_conversation_are_serialised(healthy: ProdStack):
    """The Redis lock: two replicas never process the same conversation at once."""
    stack = healthy
    sender = "prod-lock"
    stack.send(sender, "hi", base=stack.replica_url(1))
    pairs = [("thanks", "are you a bot?"), ("what can you do?", "hello"), ("thank you!", "are you human?")] * 3
    with ThreadPoolExecutor(max_workers=2) as pool:
        for first, second in pairs:
            a = pool.submit(stack.send, sender, first, None, stack.replica_url(1))
            b = pool.submit(stack.send, sender, second, None, stack.replica_url(2))
            assert a.result() and b.result()

    events = stack.events(sender)
    sent = ["hi"] + [m for pair in pairs for m in pair]
    stored = user_texts(events)
    assert sorted(stored) == sorted(sent)  # each message stored exactly once
    # Turns never interleave: every user message follows a completed turn (action_listen),
    # and every user message gets its reply before the next one is read.
    for index, event in enumerate(events):
        if event["type_name"] == "user":
            previous = events[index - 1]
            assert previous["type_name"] == "action" and previous["data"]["name"] == "action_listen", \
                [(e["type_name"], e["data"].get("name") or e["data"].get("text")) for e in events[index - 3:index + 1]]
    assert len({(e["type_name"], e["timestamp"], str(e["data"])) for e in events}) == len(events)
