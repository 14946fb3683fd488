"""200 conversations at once through the load balancer: nothing lost, doubled or reordered."""
from __future__ import annotations

import asyncio
import collections
import re
import time
from typing import Any, Dict, List, Tuple

import aiohttp

from loginhelp.prod_stack import ProdStack

CONVERSATIONS = 200
TICKET_EVERY = 4  # one conversation in four files a ticket
REFERENCE = re.compile(r"LH-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"

# Short conversations: (message, text the replies must contain).
SCRIPTS: Dict[str, List[Tuple[str, str]]] = {
    "smalltalk": [("hi", "login helper"), ("what can you do?", "I help you"), ("thanks", "welcome")],
    "twofa": [("my 2fa code is always rejected", "clock"), ("/still_broken", "Did that help?"),
              ("/problem_solved", "glad you're back")],
    "app": [("the app crashes when i open it", "official CoinEx app"), ("/still_broken", "Close the app"),
            ("/still_broken", "update"), ("/problem_solved", "glad you're back")],
    "declined": [("the login button does nothing when i click it", "cache"), ("/still_broken", "browser"),
                 ("/still_broken", "extensions"), ("/still_broken", "support ticket"), ("/deny", "no ticket")],
}
TICKET_SCRIPT = [
    ("the login button does nothing when i click it", "cache"),
    ("/contact_support{{\"email\": \"{email}\"}}", "error message"),
    ("/deny", "tried"),
    ("/deny", "screenshot"),
    ("/deny", "Here's your ticket"),
    ("/affirm", "your ticket is"),
]


def plan() -> List[Tuple[str, List[Tuple[str, str]]]]:
    conversations = []
    names = sorted(SCRIPTS)
    for number in range(CONVERSATIONS):
        sender = f"load-{number:03d}"
        if number % TICKET_EVERY == 0:
            email = f"customer{number:03d}@example.com"
            script = [(m.format(email=email), e) for m, e in TICKET_SCRIPT]
        else:
            script = SCRIPTS[names[number % len(names)]]
        conversations.append((sender, script))
    return conversations


async def play(session: aiohttp.ClientSession, url: str, sender: str,
               script: List[Tuple[str, str]]) -> Dict[str, Any]:
    received: List[str] = []
    problems: List[str] = []
    for message, expected in script:
        body = {"sender": sender, "message": message, "metadata": {"user_agent": FIREFOX_UA}}
        async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
            if response.status != 200:
                problems.append(f"{message!r}: HTTP {response.status}")
                break
            replies = await response.json()
        texts = [r.get("text", "") for r in replies if r.get("text")]
        received += texts
        if expected not in " ".join(texts):
            problems.append(f"{message!r}: expected {expected!r}, got {texts}")
    return {"sender": sender, "sent": [m for m, _ in script], "received": received, "problems": problems}


async def test_200_concurrent_conversations(healthy: ProdStack):
    stack = healthy
    log = stack.run_dir / "log" / "nginx-access.log"
    log_start = log.stat().st_size
    conversations = plan()
    connector = aiohttp.TCPConnector(limit=CONVERSATIONS)
    timeout = aiohttp.ClientTimeout(total=180)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*(play(session, stack.url, s, script) for s, script in conversations))
    elapsed = time.monotonic() - started
    messages = sum(len(script) for _, script in conversations)
    print(f"\n{CONVERSATIONS} conversations, {messages} messages in {elapsed:.1f} s "
          f"({messages / elapsed:.1f} msg/s)")

    assert [r for r in results if r["problems"]] == []

    # Every event stored once and in order, per conversation.
    for result in results:
        events = stack.events(result["sender"])
        users = [e["data"].get("text") for e in events if e["type_name"] == "user"]
        bots = [e["data"].get("text") for e in events if e["type_name"] == "bot" and e["data"].get("text")]
        assert users == result["sent"], result["sender"]
        assert bots == result["received"], result["sender"]
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps), result["sender"]
        assert len({(e["type_name"], e["timestamp"], str(e["data"])) for e in events}) == len(events)

    # Every ticket stored once, under the reference its customer was given; no collisions.
    tickets = [t for t in stack.tickets() if t["conversation_id"].startswith("load-")]
    told = {}
    for result in results:
        found = REFERENCE.findall(" ".join(result["received"]))
        if found:
            told[result["sender"]] = found[-1]
    expected = [s for n, (s, _) in enumerate(conversations) if n % TICKET_EVERY == 0]
    assert sorted(told) == sorted(expected)
    assert len(tickets) == len(expected)
    assert {t["conversation_id"]: t["reference"] for t in tickets} == told
    assert len({t["reference"] for t in tickets}) == len(tickets)
    assert all(t["contact_email"] == f"customer{t['conversation_id'][5:]}@example.com" for t in tickets)

    # Both replicas took a share (round robin, no pinning).
    with log.open() as handle:
        handle.seek(log_start)
        upstreams = collections.Counter(
            port for line in handle if "/webhooks/rest/webhook" in line
            for port in stack.rasa_ports if f"upstream=127.0.0.1:{port} " in line)
    print("messages per replica:", dict(upstreams))
    assert all(upstreams[port] > messages * 0.3 for port in stack.rasa_ports), upstreams
