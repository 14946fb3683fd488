"""Live handoff benchmark: 50 simultaneous live chats, from an agent's send to the customer's screen.

The real processes (loginhelp/servers.py): the Rasa server with the trained model
and its socket.io channel, the action server, and the agent console, sharing one
migrated SQLite database, with Redis as in production (the relay and the delivery
claims, under a key prefix of this run alone). One agent with a personal API token
is available; 50 socket.io customers (python-socketio, polling transport: the
websocket client needs a newer aiohttp than Rasa's) each type "can i talk to a
human" and are queued by the assistant; the agent claims all 50 through the API.
Then, round after round, the agent's 50 messages are sent at once through
``POST /api/live/<id>/messages``, and each is timed from the start of its API call
to its customer's client receiving that text. Also measured, in the same run:
the same send one chat at a time, and the assistant's own REST round trip (one at
a time and 50 at once) as a reference for how busy this machine was.

The console's database (tickets, agents, live handoff) is a migrated SQLite file
by default; ``--database-url`` (or ``BENCH_DATABASE_URL``, for ``make bench-handoff``)
runs the three processes on that database instead, e.g. a PostgreSQL database made
for the run (``createdb -h 127.0.0.1 -U postgres loginhelp_bench_handoff``; it is
migrated with ``loginhelp --database-url URL db upgrade`` before the servers
start). Rasa's tracker store stays a SQLite file of the run either way.

Writes bench/results/handoff.md and handoff.json with the latest run on each
database (a run replaces the entry of its own database and keeps the others).
Target: p95 under 300 ms on 2 cores.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import aiohttp
import redis
import socketio
from harness import RESULTS, MemorySampler, latency_stats, loadavg, machine, machine_line, now, send, write_results

from loginhelp.db.engine import redact
from loginhelp.servers import MODEL, REPO, VENV_BIN, RasaStack, free_port

#: One agent per run (with a suffix of the run), so a database kept between runs needs no cleaning.
AGENT = "bench-agent-{run}@coinex.test"
PASSWORD = "bench handoff password 2026"
ASKS = "can i talk to a human"
QUEUED_MARK = "in the queue"
JOINED = "A support agent joined the chat."
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")
TARGET_P95_MS = 300.0
#: Longer than the bridge's storage sweep with Redis (10 s): a message the relay missed still arrives, late.
GRACE_SECONDS = 12.0


# ------------------------------------------------------------------------------ customers


@dataclass
class Customer:
    """One widget on the wire: a socket.io session whose received texts are time-stamped on arrival."""

    index: int
    url: str
    sio: socketio.AsyncClient = field(init=False)
    session_id: str = ""
    arrivals: Dict[str, List[float]] = field(default_factory=lambda: defaultdict(list))
    arrived_wall: Dict[str, float] = field(default_factory=dict)
    texts: "asyncio.Queue[str]" = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self._confirmed: "asyncio.Queue[str]" = asyncio.Queue()
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("session_confirm", self._confirmed.put)

    async def _on_bot(self, message: Dict[str, Any]) -> None:
        at, wall = time.perf_counter(), time.time()  # first thing: when the text reached the customer's client
        text = str(message.get("text") or "")
        self.arrivals[text].append(at)
        self.arrived_wall.setdefault(text, wall)
        await self.texts.put(text)

    async def connect(self) -> None:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        await self.sio.emit("session_request", {"session_id": None})
        self.session_id = await asyncio.wait_for(self._confirmed.get(), 30)

    async def wait_for(self, fragment: str, timeout: float) -> bool:
        """Until a received text contains ``fragment``; False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if fragment in await asyncio.wait_for(self.texts.get(), left):
                    return True
            except asyncio.TimeoutError:
                break
        return False

    async def ask_for_a_person(self) -> bool:
        """Typed, as a customer would; True when the assistant queued them."""
        await self.sio.emit("user_uttered", {"message": ASKS, "session_id": self.session_id, "customData": {
            "user_agent": CHROME_UA, "language": "en-GB", "timezone": "Europe/London",
            "client_time": int(time.time() * 1000)}})
        return await self.wait_for(QUEUED_MARK, 60)

    async def close(self) -> None:
        """An abort, like a closed tab: a graceful disconnect waits for the pending long poll."""
        eio = self.sio.eio
        await eio.disconnect(abort=True)
        tasks = [t for t in (eio.read_loop_task, eio.write_loop_task) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if eio.http is not None and not eio.http.closed:
            await eio.http.close()


# ------------------------------------------------------------------------------ the stack


class HandoffStack(RasaStack):
    """Rasa + actions (RasaStack) with Redis, plus the console, an agent and its API token."""

    def __init__(self, workdir: Path, redis_db: int, prefix: str, database_url: Optional[str] = None) -> None:
        super().__init__(workdir, env={
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": str(redis_db), "REDIS_KEY_PREFIX": prefix,
            "TRACKER_DATABASE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "CONSOLE_SECRET_KEY": secrets.token_urlsafe(32), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **({"DATABASE_URL": database_url} if database_url else {}),
        })
        self.env = {k: v for k, v in self.env.items() if not k.startswith("TELEGRAM_")}
        self.database_url = self.env["DATABASE_URL"]
        self.console_port = free_port()
        self.agent = AGENT.format(run=prefix)
        self.token = ""

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def _cli(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([str(VENV_BIN / "loginhelp"), *args], input=stdin, text=True, capture_output=True,
                              env=self.env, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(f"loginhelp {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def start(self, timeout: float = 240.0) -> "HandoffStack":
        # The one migration path, on the run's database (RasaStack.start runs the same upgrade from the environment).
        self._cli("--database-url", self.database_url, "db", "upgrade")
        super().start(timeout)
        self._cli("agents", "add", self.agent, "--password-stdin", stdin=PASSWORD + "\n")
        self.token = self._cli("agents", "token", self.agent).splitlines()[-1]
        self.spawn("console", [str(VENV_BIN / "python"), "-m", "loginhelp.console", "--host", "127.0.0.1",
                               "--port", str(self.console_port)])
        self.wait_http(f"{self.console_url}/sign-in", 60, name="console")
        return self


# ------------------------------------------------------------------------------ measuring


@dataclass
class Sent:
    """One agent message: when its API call started and ended, and for which customer."""

    customer: int
    text: str
    started: float
    api_ms: float
    status: int
    #: The message's created_at (epoch seconds): stamped by the console just before storing it.
    stamped: Optional[float] = None


def _epoch(iso: str) -> float:
    stamp = datetime.fromisoformat(iso)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()


async def agent_send(http: aiohttp.ClientSession, stack: HandoffStack, customer: Customer, text: str,
                     delay: float = 0.0) -> Sent:
    if delay:
        await asyncio.sleep(delay)
    started = time.perf_counter()
    async with http.post(f"{stack.console_url}/api/live/{customer.session_id}/messages", json={"text": text}) as reply:
        body = await reply.json() if reply.status == 201 else None
        status = reply.status
    api_ms = (time.perf_counter() - started) * 1000
    stamped = _epoch(body["message"]["created_at"]) if body else None
    return Sent(customer.index, text, started, api_ms, status, stamped)


async def await_arrivals(customers: Sequence[Customer], sent: Sequence[Sent], timeout: float) -> None:
    """Until every sent text reached its customer, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(customers[s.customer].arrivals.get(s.text) for s in sent):
            return
        await asyncio.sleep(0.02)


def tally(customers: Sequence[Customer], sent: Sequence[Sent]) -> Dict[str, Any]:
    """Latency of each delivered message; lost, doubled and misrouted counts; the API call's own time."""
    accepted = [s for s in sent if s.status == 201]
    latencies, after_stamp, lost, doubled = [], [], 0, 0
    for s in accepted:
        times = customers[s.customer].arrivals.get(s.text, [])
        if not times:
            lost += 1
            continue
        latencies.append((times[0] - s.started) * 1000)
        if s.stamped is not None:
            after_stamp.append((customers[s.customer].arrived_wall[s.text] - s.stamped) * 1000)
        doubled += len(times) - 1
    ours = {(s.customer, s.text) for s in sent}
    texts = {s.text for s in sent}
    misrouted = sum(len(times) for c in customers for text, times in c.arrivals.items()
                    if text in texts and (c.index, text) not in ours)
    return {
        "sent": len(sent),
        "api_errors": dict(Counter(str(s.status) for s in sent if s.status != 201)),
        "received": len(latencies),
        "lost": lost,
        "doubled": doubled,
        "misrouted": misrouted,
        "latency": latency_stats(latencies),
        "api_call": latency_stats([s.api_ms for s in sent]),
        "stamped_to_screen": latency_stats(after_stamp),
    }


async def rest_reference(url: str, count: int, concurrent: bool, tag: str) -> Dict[str, Any]:
    """The assistant's REST round trip ("hi": NLU, dialogue, the greeting), one at a time or all at once."""
    async with aiohttp.ClientSession() as http:
        senders = [f"bench-rest-{tag}-{i}" for i in range(count)]
        if concurrent:
            results = await asyncio.gather(*(send(http, url, s, "hi") for s in senders))
        else:
            results = [await send(http, url, s, "hi") for s in senders]
    return {"messages": count, "at_once": count if concurrent else 1,
            "errors": sum(1 for _, _, problem in results if problem),
            "latency": latency_stats([ms for ms, _, problem in results if not problem])}


async def benchmark(args: argparse.Namespace, stack: HandoffStack) -> Dict[str, Any]:
    print(f"starting Rasa, the action server and the console (logs in {stack.workdir / 'logs'})", flush=True)
    await asyncio.to_thread(stack.start)
    sampler = MemorySampler(stack)
    sampling = asyncio.create_task(sampler.run())
    headers = {"Authorization": f"Bearer {stack.token}"}
    customers = [Customer(i, stack.url) for i in range(args.chats)]
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=args.chats + 10)) as http:
        async with http.post(f"{stack.console_url}/api/live/availability", json={"available": True}) as reply:
            assert reply.status == 200, await reply.text()

        warm = await rest_reference(stack.url, 3, False, "warm")  # the first turns load TensorFlow's graphs
        reference_before = await rest_reference(stack.url, args.reference, False, "before")

        print(f"{args.chats} customers connect and ask for a person ...", flush=True)
        started = time.perf_counter()
        await asyncio.gather(*(c.connect() for c in customers))
        gate = asyncio.Semaphore(10)

        async def queue(customer: Customer) -> bool:
            async with gate:
                return await customer.ask_for_a_person()

        queued = await asyncio.gather(*(queue(c) for c in customers))
        queue_seconds = time.perf_counter() - started
        if not all(queued):
            raise RuntimeError(f"{queued.count(False)} of {args.chats} customers were not queued; actions log:\n"
                               f"{stack.tail('actions')}")
        async with http.get(f"{stack.console_url}/api/live") as reply:
            waiting = len((await reply.json())["queue"])

        claims = await asyncio.gather(*(http.post(f"{stack.console_url}/api/live/{c.session_id}/claim")
                                        for c in customers))
        claim_statuses = Counter(r.status for r in claims)
        for r in claims:
            r.release()
        joined = await asyncio.gather(*(c.wait_for(JOINED, 30) for c in customers))
        print(f"  queued {sum(queued)} in {queue_seconds:.1f} s, {waiting} in the console's queue, claims "
              f"{dict(claim_statuses)}, joined lines {sum(joined)}", flush=True)

        run = secrets.token_hex(3)
        print(f"one chat at a time: {args.sequential} messages ...", flush=True)
        one_at_a_time: List[Sent] = []
        for i in range(args.sequential):
            customer = customers[i % len(customers)]
            one = await agent_send(http, stack, customer, f"[{run}] one at a time {i} for customer {customer.index}")
            one_at_a_time.append(one)
            await await_arrivals(customers, [one], 5)

        print(f"{args.chats} at once: {args.rounds} rounds ...", flush=True)
        at_once: List[Sent] = []
        for r in range(args.rounds):
            batch = await asyncio.gather(*(agent_send(http, stack, c, f"[{run}] round {r} for customer {c.index}: "
                                                      "Hi, I'm Alice <b>from support</b>") for c in customers))
            at_once.extend(batch)
            await await_arrivals(customers, batch, 10)
            await asyncio.sleep(args.pause)
        # The same messages spread evenly over --spread seconds: agents who do not all press Send together.
        print(f"{args.chats} spread over {args.spread} s: {args.rounds} rounds ...", flush=True)
        spread: List[Sent] = []
        step = args.spread / len(customers)
        for r in range(args.rounds):
            batch = await asyncio.gather(*(agent_send(http, stack, c, f"[{run}] spread {r} for customer {c.index}",
                                                      delay=i * step) for i, c in enumerate(customers)))
            spread.extend(batch)
            await await_arrivals(customers, batch, 10)
            await asyncio.sleep(args.pause)
        print(f"  waiting {GRACE_SECONDS:.0f} s for late or doubled deliveries ...", flush=True)
        await asyncio.sleep(GRACE_SECONDS)
        concurrent = tally(customers, at_once)
        spread_out = tally(customers, spread)
        sequential = tally(customers, one_at_a_time)

        reference_after = await rest_reference(stack.url, args.reference, False, "after")
        reference_burst = await rest_reference(stack.url, args.chats, True, "burst")
    await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
    sampling.cancel()
    for name, process in stack.processes.items():
        if process.poll() is not None:
            raise RuntimeError(f"the {name} server died during the run:\n{stack.tail(name)}")

    p95 = concurrent["latency"]["p95_ms"]
    delivered_all = all(f["lost"] == f["doubled"] == f["misrouted"] == 0 and not f["api_errors"]
                        for f in (concurrent, spread_out, sequential))
    spread_p95 = spread_out["latency"]["p95_ms"]
    checks = [
        {"name": f"p95 < {TARGET_P95_MS:.0f} ms with {args.chats} chats at once",
         "status": "PASS" if p95 == p95 and p95 < TARGET_P95_MS else "FAIL", "detail": f"p95 {p95:.1f} ms"},
        {"name": f"p95 < {TARGET_P95_MS:.0f} ms with {args.chats} chats spread over {args.spread} s",
         "status": "PASS" if spread_p95 == spread_p95 and spread_p95 < TARGET_P95_MS else "FAIL",
         "detail": f"p95 {spread_p95:.1f} ms"},
        {"name": "every message delivered once, to its customer", "status": "PASS" if delivered_all else "FAIL",
         "detail": "; ".join(f"{label}: {f['received']}/{f['sent']} received, {f['lost']} lost, {f['doubled']} doubled, "
                             f"{f['misrouted']} misrouted, API errors {f['api_errors'] or 'none'}"
                             for label, f in (("at once", concurrent), ("spread", spread_out),
                                              ("one at a time", sequential)))},
    ]
    return {
        "benchmark": "handoff",
        "date": now(),
        "machine": machine(args.loadavg_before),
        "setup": {"chats": args.chats, "rounds": args.rounds, "pause_seconds": args.pause, "spread_seconds": args.spread,
                  "sequential_messages": args.sequential, "database": database_label(stack.database_url),
                  "database_url": redact(stack.database_url) if args.database_url else "sqlite (a file of the run)",
                  "console_server": "python -m loginhelp.console: werkzeug run_simple, threaded=True, one process",
                  "redis": "127.0.0.1:6379, private key prefix", "transport": "socket.io polling (python-socketio)"},
        "startup_seconds": dict(stack.ready_seconds),
        "queueing": {"customers": args.chats, "queued": sum(queued), "seconds": queue_seconds,
                     "in_console_queue": waiting, "claims": {str(k): v for k, v in claim_statuses.items()},
                     "joined_lines": sum(joined)},
        "at_once": concurrent,
        "spread": spread_out,
        "one_at_a_time": sequential,
        "reference": {"rest_one_at_a_time_before": reference_before, "rest_one_at_a_time_after": reference_after,
                      f"rest_{args.chats}_at_once": reference_burst, "warmup_errors": warm["errors"]},
        "memory": {name: sampler.memory(name) for name in ("rasa", "actions", "console")},
        "checks": checks,
    }


# ------------------------------------------------------------------------------ report


def _row(label: str, figures: Dict[str, Any]) -> str:
    lat = figures["latency"]
    return (f"| {label} | {lat['count']} | {lat['p50_ms']:.1f} | {lat['p95_ms']:.1f} | {lat['p99_ms']:.1f} | "
            f"{lat['max_ms']:.1f} |")


def database_label(url: str) -> str:
    """"SQLite" or "PostgreSQL" (the key of a run in the results), else the SQLAlchemy backend's name."""
    backend = url.split(":", 1)[0].split("+", 1)[0].lower()
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(backend, backend)


def render_markdown(results: Dict[str, Any]) -> str:
    """Every database's latest run, SQLite first."""
    runs = results["by_database"]
    order = sorted(runs, key=lambda name: (name != "SQLite", name != "PostgreSQL", name))
    lines = ["# Live handoff benchmark", "",
             "The latest run on each database (`make bench-handoff`; `BENCH_DATABASE_URL=... make bench-handoff` "
             "or `bench/handoff.py --database-url URL` for another database than the SQLite file).", ""]
    summary = ["| Database | Date | 50 at once p50 / p95 (ms) | spread p50 / p95 (ms) | one at a time p50 / p95 (ms) |",
               "|---|---|---|---|---|"]
    for name in order:
        run = runs[name]
        cells = " | ".join(f"{run[k]['latency']['p50_ms']:.1f} / {run[k]['latency']['p95_ms']:.1f}"
                           for k in ("at_once", "spread", "one_at_a_time"))
        summary.append(f"| {name} | {run['date']} | {cells} |")
    lines += summary + [""]
    for name in order:
        lines.append(_render_run(runs[name]))
    return "\n".join(lines).rstrip("\n") + "\n"


def _render_run(report: Dict[str, Any]) -> str:
    setup, at_once, spread, one = report["setup"], report["at_once"], report["spread"], report["one_at_a_time"]
    ref = report["reference"]
    chats = setup["chats"]
    lines = [
        f"## {setup['database']}",
        "",
        f"- Date: {report['date']}",
        f"- Database: {setup.get('database_url', setup['database'])}; console: "
        f"{setup.get('console_server', 'python -m loginhelp.console')}",
        f"- Machine: {machine_line(report['machine'])}",
        f"- Set-up: Rasa server (trained model, socket.io channel) + action server + agent console, each its own "
        f"process on loopback; {setup['database']} shared by the three; Redis {setup['redis']}; customers are "
        f"{setup['transport']} clients in this script, in the same asyncio loop as the agent's API calls",
        f"- {report['queueing']['queued']}/{chats} customers typed \"{ASKS}\" and were queued by the assistant in "
        f"{report['queueing']['seconds']:.1f} s (10 at a time); claims through the API: "
        f"{report['queueing']['claims']}; \"{JOINED}\" reached {report['queueing']['joined_lines']}",
        f"- Measured: from the start of `POST /api/live/<id>/messages` to the customer's client receiving that "
        f"text; {setup['rounds']} rounds of {chats} messages sent at once (a {setup['pause_seconds']} s pause after "
        f"each round's deliveries), then {GRACE_SECONDS:.0f} s more for late or doubled deliveries",
        "",
        "### Agent's send to the customer's screen (ms)",
        "",
        "| | Messages | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        _row(f"{chats} chats at once", at_once),
        _row(f"{chats} chats spread over {setup['spread_seconds']} s", spread),
        _row("one chat at a time", one),
        "",
        "| | Sent | Received | Lost | Doubled | Misrouted | API errors | API call p50 / p95 (ms) "
        "| created_at → screen p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, figures in ((f"{chats} at once", at_once), (f"spread over {setup['spread_seconds']} s", spread),
                           ("one at a time", one)):
        api, after = figures["api_call"], figures["stamped_to_screen"]
        lines.append(f"| {label} | {figures['sent']} | {figures['received']} | {figures['lost']} | "
                     f"{figures['doubled']} | {figures['misrouted']} | {figures['api_errors'] or 0} | "
                     f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} | {after['p50_ms']:.1f} / {after['p95_ms']:.1f} |")
    lines += [
        "",
        "The API call's time is part of the latency: the message is stored and published before the call returns, "
        "and the customer may have it before the agent's response arrives. *created_at → screen* starts when the "
        "console's repository stamps the message (`created_at`, same machine clock), before it waits for "
        "the database's write lock (SQLite) or row lock (PostgreSQL): the wait for the lock, the commit, "
        "the Redis relay, Rasa's live bridge and socket.io, without the request's way in (HTTP, token check).",
        "",
        "### Reference in the same run: the assistant's REST round trip (\"hi\" → greeting, ms)",
        "",
        "| | Messages | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        _row("one at a time, before the handoffs", ref["rest_one_at_a_time_before"]),
        _row("one at a time, after", ref["rest_one_at_a_time_after"]),
        _row(f"{chats} at once, after", ref[f"rest_{chats}_at_once"]),
        "",
        "### Memory (MiB, peak VmHWM incl. children)",
        "",
        "| Rasa server | Action server | Console |",
        "|---|---|---|",
        f"| {report['memory']['rasa']['vmhwm_total_mb']:.0f} | {report['memory']['actions']['vmhwm_total_mb']:.0f} | "
        f"{report['memory']['console']['vmhwm_total_mb']:.0f} |",
        "",
        "### Targets",
        "",
    ]
    lines += [f"- **{c['status']}** {c['name']}: {c['detail']}" for c in report["checks"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ main


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=50, help="simultaneous live chats (default 50)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of one message per chat, all at once (10)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between rounds (default 0.5)")
    parser.add_argument("--spread", type=float, default=1.0,
                        help="seconds over which a round's messages are spread in the second scenario (default 1)")
    parser.add_argument("--sequential", type=int, default=20, help="messages sent one chat at a time (default 20)")
    parser.add_argument("--reference", type=int, default=20, help="REST turns one at a time, before and after (20)")
    parser.add_argument("--out", type=Path, default=RESULTS / "handoff", help="output prefix (bench/results/handoff)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or None,
                        help="the console's database for the three processes (default $BENCH_DATABASE_URL, else a "
                             "SQLite file of the run), e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/"
                             "loginhelp_bench_handoff; migrated before the servers start")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the logs")
    args = parser.parse_args(argv)
    if args.chats < 1 or args.rounds < 1 or args.sequential < 1 or args.reference < 1:
        parser.error("--chats, --rounds, --sequential and --reference must be at least 1")
    return args


def merged_results(prefix: Path, report: Dict[str, Any]) -> Dict[str, Any]:
    """This run under its database, with the other databases' latest runs kept from ``<prefix>.json``."""
    runs: Dict[str, Any] = {}
    try:
        earlier = json.loads(Path(f"{prefix}.json").read_text(encoding="utf-8"))
        runs = dict(earlier.get("by_database") or {})
    except (OSError, ValueError, AttributeError):
        pass
    runs[report["setup"]["database"]] = report
    return {"benchmark": "handoff", "by_database": runs}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"error: {MODEL} does not exist; run `make train` first", file=sys.stderr)
        return 2
    redis_db = int(os.environ.get("TEST_REDIS_DB", "13"))
    prefix = f"lhbench{secrets.token_hex(4)}"
    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_db, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        print(f"error: Redis is not reachable at 127.0.0.1:6379 ({error})", file=sys.stderr)
        return 2
    args.loadavg_before = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    stack = HandoffStack(tmp, redis_db, prefix, args.database_url)

    def _on_signal(signum: int, _frame: Any) -> None:  # SIGTERM/SIGHUP: unwind through the finally below
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    report: Optional[Dict[str, Any]] = None
    try:
        report = asyncio.run(benchmark(args, stack))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except Exception:  # noqa: BLE001 - reported, the logs kept
        traceback.print_exc()
        print("error: the handoff benchmark did not complete", file=sys.stderr)
    finally:
        stack.stop()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        if args.keep_logs or report is None:
            print(f"server logs kept in {tmp}", file=sys.stderr if report is None else sys.stdout)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if report is None:
        return 1
    results = merged_results(args.out, report)
    md_path, json_path = write_results(args.out, results, render_markdown(results))
    print(_render_run(report))
    print(f"wrote {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
