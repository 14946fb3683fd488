#!/usr/bin/env python
"""Load benchmark: the embedded mode, the production mode and the stock `rasa init` assistant.

Run from the repository root (``make bench-load``)::

    .venv/bin/python bench/load.py                          # 20 s per level, 1/10/50 users, all three
    .venv/bin/python bench/load.py --duration 8 --users 1,10 --targets embedded,stock --out /tmp/load

Each target is started alone, warmed up, measured at each number of concurrent
users, and stopped before the next one starts:

* ``embedded``: one Rasa server and one action server (``make run``), SQLite tracker
  store (the redacting store of endpoints.yml) and SQLite ticket database, in a
  temporary directory.
* ``prod``: scripts/run_prod.sh, two Rasa and two action server replicas behind
  nginx, PostgreSQL tracker store and ticket database (throw-away databases),
  Redis lock store (private key prefix); the load goes through nginx.
* ``stock``: the assistant ``rasa init --no-prompt`` creates (default config,
  in-memory tracker store, no action server), trained once in a temporary
  directory and cached in var/bench/rasa-init/.

Simulated users play whole conversations over the REST channel, one message at
a time with no think time (a stress figure): for the project, a branch of the
guide, an escalation declined, a ticket filed, and the triage; for the stock
assistant, its own stories (greet, mood, cheer up, goodbye, bot challenge).
Figures: messages/s (completed in the measured window), p50/p95/p99 latency
per message, errors (non-200, transport errors, timeouts, empty replies),
replies off the script, custom actions and stored events per message (the work
behind a message), and the peak resident memory (VmHWM, incl. children) of
every server process.

Exit status: 0 when the benchmark ran, whether the targets PASS or FAIL;
non-zero when it broke (a server did not start, a crash).
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
from harness import (
    FIREFOX_UA,
    REDACTING_SQLITE,
    RESULTS,
    loadavg,
    machine,
    machine_line,
    now,
    percentile,
    reply_text,
    send,
    write_results,
)

from loginhelp.prod_stack import PostgresDatabases, ProdStack, redis_cleanup
from loginhelp.servers import MODEL, REPO, VENV_BIN, RasaStack, ServerGroup, free_port, peak_memory_mb

STOCK_CACHE = REPO / "var" / "bench" / "rasa-init"
TARGET_P95_MS_10_USERS = 300.0
STARTUP_TIMEOUT_S = 420.0

# ------------------------------------------------------------------------------------
# Conversations: (message, a text the replies should contain or None)
# ------------------------------------------------------------------------------------
Turn = Tuple[str, Optional[str]]

PROJECT_CONVERSATIONS: Dict[str, List[Turn]] = {
    "branch_2fa": [("my 2fa code is always rejected", "clock"), ("/still_broken", "Did that help?"),
                   ("/problem_solved", "glad you're back"), ("thanks", "welcome")],
    "escalation_declined": [("the login button does nothing when i click it", "cache"), ("/still_broken", "browser"),
                            ("/still_broken", "extensions"), ("/still_broken", "support ticket"),
                            ("/deny", "no ticket")],
    "ticket": [("the login button does nothing when i click it", "cache"),
               ('/contact_support{"email": "bench{n}@example.com"}', "error message"),
               ("/deny", "tried"), ("/deny", "screenshot"), ("/deny", "Here's your ticket"),
               ("/affirm", "your ticket is")],
    # (the platform comes from the user agent, so the triage does not ask it)
    "triage": [("i can't log in", "What does the screen say"), ("/deny", "two-factor"),
               ("/affirm", "speed test"), ("/still_broken", "Did that help?")],
}
#: What a customer who types instead of tapping the buttons sends (the "typed" run).
TYPED_FOR_PAYLOAD = {
    "/still_broken": "still not working", "/problem_solved": "that fixed it", "/deny": "no", "/affirm": "yes",
    '/contact_support{"email": "bench{n}@example.com"}': "I want to contact support, my email is bench{n}@example.com",
}
TYPED_PROJECT_CONVERSATIONS: Dict[str, List[Turn]] = {
    kind: [(TYPED_FOR_PAYLOAD.get(message, message), expected) for message, expected in script]
    for kind, script in PROJECT_CONVERSATIONS.items()
}
STOCK_CONVERSATIONS: Dict[str, List[Turn]] = {
    "happy": [("hello", "How are you"), ("I am feeling great", "Great"), ("bye", "Bye")],
    "sad_helped": [("hi", "How are you"), ("I am sad", "cheer you up"), ("yes", "Great"), ("goodbye", "Bye")],
    "sad_not_helped": [("hey there", "How are you"), ("not good", "cheer you up"), ("no", "Bye")],
    "bot_challenge": [("are you a bot?", "bot"), ("goodbye", "Bye")],
}


# ------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------


class Target:
    name = ""
    description = ""
    conversations: Dict[str, List[Turn]] = PROJECT_CONVERSATIONS
    typed_conversations: Dict[str, List[Turn]] = TYPED_PROJECT_CONVERSATIONS
    url = ""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def servers(self) -> Dict[str, int]:
        raise NotImplementedError

    def work(self, senders: List[str]) -> Dict[str, Any]:
        """Custom actions and stored events per user message for these conversations."""
        return {}


CUSTOM_ACTIONS_SQL = ("SELECT COUNT(*) FROM events WHERE sender_id IN ({senders}) AND type_name = 'action' AND "
                      "(action_name LIKE 'action\\_%' ESCAPE '\\' OR action_name LIKE 'validate\\_%' ESCAPE '\\') "
                      "AND action_name NOT IN ('action_listen', 'action_session_start', 'action_extract_slots', "
                      "'action_deactivate_loop')")


class EmbeddedTarget(Target):
    name = "embedded"
    description = ("make run's configuration: 1 Rasa server (`python -m loginhelp.rasa_launch run`) + 1 action "
                   "server, redacting SQL tracker store on SQLite, SQLite ticket database")

    def __init__(self, tmp: Path) -> None:
        workdir = tmp / self.name
        self.tracker_db = workdir / "tracker.db"
        env = {k: "" for k in os.environ if k.startswith("TELEGRAM_")}
        self.stack = RasaStack(workdir, env=env, tracker_store={"type": REDACTING_SQLITE, "dialect": "sqlite",
                                                                 "db": str(self.tracker_db)})
        self.url = self.stack.url

    def start(self) -> None:
        self.stack.start(STARTUP_TIMEOUT_S)

    def stop(self) -> None:
        self.stack.stop()

    def servers(self) -> Dict[str, int]:
        return {name: process.pid for name, process in self.stack.processes.items()}

    def work(self, senders: List[str]) -> Dict[str, Any]:
        with sqlite3.connect(self.tracker_db, timeout=30) as db:
            return _work(lambda sql: db.execute(sql).fetchone()[0], senders)


def _work(scalar: Callable[[str], int], senders: List[str]) -> Dict[str, Any]:
    if not senders:
        return {}
    quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in senders)
    users = scalar(f"SELECT COUNT(*) FROM events WHERE sender_id IN ({quoted}) AND type_name = 'user'")
    events = scalar(f"SELECT COUNT(*) FROM events WHERE sender_id IN ({quoted})")
    actions = scalar(CUSTOM_ACTIONS_SQL.format(senders=quoted))
    return {"user_messages": users, "custom_actions_per_message": round(actions / max(users, 1), 2),
            "stored_events_per_message": round(events / max(users, 1), 1)}


class ProdTarget(Target):
    name = "prod"
    description = ("scripts/run_prod.sh: 2 Rasa + 2 action server replicas behind nginx, PostgreSQL tracker "
                   "store and tickets, Redis lock store")

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp / "prod"
        self.tmp.mkdir()
        self.db: Optional[PostgresDatabases] = None
        self.stack: Optional[ProdStack] = None

    def start(self) -> None:
        self.db = PostgresDatabases().create()
        self.stack = ProdStack(self.tmp, self.db, None, extra_env={"NGINX_ACCESS_LOG": "off"})
        self.stack.start()
        self.url = self.stack.url

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
            redis_cleanup(self.stack.redis_db, self.stack.redis_prefix)
        if self.db is not None:
            self.db.drop()

    def servers(self) -> Dict[str, int]:
        assert self.stack is not None
        return self.stack.pids()

    def work(self, senders: List[str]) -> Dict[str, Any]:
        assert self.db is not None
        return _work(lambda sql: list(self.db.query(self.db.tracker_name, sql)[0].values())[0], senders)


class StockTarget(Target):
    name = "stock"
    description = ("the assistant `rasa init --no-prompt` creates: default pipeline and policies "
                   "(incl. TEDPolicy, UnexpecTEDIntentPolicy), in-memory tracker store, no custom actions")
    conversations = STOCK_CONVERSATIONS
    typed_conversations = STOCK_CONVERSATIONS  # typed already

    def __init__(self, tmp: Path) -> None:
        self.group = ServerGroup(tmp / "stock")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    @staticmethod
    def model() -> Path:
        models = sorted((STOCK_CACHE / "models").glob("*.tar.gz")) if (STOCK_CACHE / "models").exists() else []
        if models:
            return models[-1]
        print(f"training the stock assistant once (cached in {STOCK_CACHE.relative_to(REPO)})...", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="rasa-init-") as tmp:
            subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", tmp], cwd=tmp,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            shutil.rmtree(STOCK_CACHE, ignore_errors=True)
            STOCK_CACHE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tmp, STOCK_CACHE, ignore=shutil.ignore_patterns(".rasa", "__pycache__"))
        print(f"trained in {time.monotonic() - started:.0f} s", flush=True)
        return sorted((STOCK_CACHE / "models").glob("*.tar.gz"))[-1]

    def start(self) -> None:
        self.group.spawn("rasa", [str(VENV_BIN / "rasa"), "run", "--model", str(self.model()), "--port",
                                  str(self.port), "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
                         cwd=STOCK_CACHE)
        self.group.wait_http(self.url + "/", STARTUP_TIMEOUT_S, name="rasa")

    def stop(self) -> None:
        self.group.stop()

    def servers(self) -> Dict[str, int]:
        return {name: process.pid for name, process in self.group.processes.items()}

    def work(self, senders: List[str]) -> Dict[str, Any]:
        return {"custom_actions_per_message": 0.0, "stored_events_per_message": "in memory"}


# ------------------------------------------------------------------------------------
# Load
# ------------------------------------------------------------------------------------


@dataclass
class LevelResult:
    users: int
    duration_s: float
    messages: int = 0
    conversations: int = 0
    latencies_ms: List[float] = field(default_factory=list)
    errors: int = 0
    error_samples: List[str] = field(default_factory=list)
    off_script: int = 0
    off_script_samples: List[str] = field(default_factory=list)
    senders: List[str] = field(default_factory=list)

    def percentile(self, q: float) -> Optional[float]:
        return round(percentile(self.latencies_ms, q * 100), 1) if self.latencies_ms else None

    def summary(self) -> Dict[str, Any]:
        return {
            "users": self.users, "duration_s": round(self.duration_s, 1), "messages": self.messages,
            "conversations_started": self.conversations,
            "messages_per_s": round(self.messages / self.duration_s, 1) if self.duration_s else 0.0,
            "p50_ms": self.percentile(0.50), "p95_ms": self.percentile(0.95), "p99_ms": self.percentile(0.99),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "errors": self.errors, "error_samples": self.error_samples[:5],
            "off_script": self.off_script, "off_script_samples": self.off_script_samples[:5],
        }


    def merge(self, other: "LevelResult") -> None:
        self.duration_s += other.duration_s
        self.messages += other.messages
        self.conversations += other.conversations
        self.latencies_ms += other.latencies_ms
        self.errors += other.errors
        self.error_samples += other.error_samples
        self.off_script += other.off_script
        self.off_script_samples += other.off_script_samples
        self.senders += other.senders


async def run_level(url: str, conversations: Dict[str, List[Turn]], users: int, duration: float,
                    label: str, think_s: float = 0.0, seed: int = 0) -> LevelResult:
    """``users`` simulated customers for ``duration`` seconds; ``think_s`` is the mean pause between messages."""
    result = LevelResult(users=users, duration_s=duration)
    scripts = list(conversations.items())
    counter = itertools.count()
    pauses = random.Random(seed)
    start = time.monotonic()
    end = start + duration
    connector = aiohttp.TCPConnector(limit=users + 5)

    async def user(session: aiohttp.ClientSession) -> None:
        if think_s:  # customers do not all arrive in the same millisecond
            await asyncio.sleep(pauses.uniform(0, think_s))
        while time.monotonic() < end:
            number = next(counter)
            kind, script = scripts[number % len(scripts)]
            sender = f"load-{label}-{users}u-{number:05d}"
            result.conversations += 1
            result.senders.append(sender)
            for message, expected in script:
                if time.monotonic() >= end:
                    return
                elapsed, replies, problem = await send(session, url, sender,
                                                       message.replace("{n}", f"{label}{users}x{number}"),
                                                       {"user_agent": FIREFOX_UA})
                if time.monotonic() > end:
                    return  # finished after the window: not counted
                result.messages += 1
                result.latencies_ms.append(elapsed)
                if problem:
                    result.errors += 1
                    result.error_samples.append(f"{kind} {message!r}: {problem}")
                    break
                text = reply_text(replies)
                if expected and expected.lower().replace("’", "'") not in text:
                    result.off_script += 1
                    result.off_script_samples.append(f"{kind} {message!r}: {text[:120]!r}")
                if think_s:
                    await asyncio.sleep(min(think_s * pauses.uniform(0.5, 1.5), max(0.0, end - time.monotonic())))

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(user(session) for _ in range(users)))
    result.duration_s = duration
    return result


def warm_up(target: Target) -> None:
    async def go() -> None:
        await run_level(target.url, target.conversations, 1, 4.0, f"{target.name}-warm1")
        await run_level(target.url, target.conversations, 10, 4.0, f"{target.name}-warm10")
    asyncio.run(go())


def measure(targets: List[Target], users: int, duration: float, rounds: int, think_s: float,
            tag: str, typed: bool = False) -> Dict[str, LevelResult]:
    """Interleave the targets: ``rounds`` windows each, in rotating order (background load hits all alike).

    ``typed``: customers type every answer instead of tapping the buttons.
    """
    results: Dict[str, LevelResult] = {}
    window = duration / rounds
    for number in range(rounds):
        order = targets[number % len(targets):] + targets[:number % len(targets)]
        for target in order:
            conversations = target.typed_conversations if typed else target.conversations
            part = asyncio.run(run_level(target.url, conversations, users, window,
                                         f"{target.name}-{tag}-r{number}", think_s, seed=number))
            if target.name in results:
                results[target.name].merge(part)
            else:
                results[target.name] = part
    return results


# ------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _throughput_verdict(label: str, mine: Optional[Dict[str, Any]],
                        stock: Optional[Dict[str, Any]]) -> Tuple[str, bool, str]:
    """PASS when a target's messages per second are at least the stock assistant's in the same run."""
    ours, theirs = (mine or {}).get("messages_per_s") or 0.0, (stock or {}).get("messages_per_s") or 0.0
    ratio = ours / theirs if theirs else 0.0
    return f"{label} >= 1.0", ratio >= 1.0, f"{ours:g} / {theirs:g} = {ratio:.2f}"


def verdicts(report: Dict[str, Any], users: List[int]) -> List[Tuple[str, bool, str]]:
    targets = report["targets"]
    out: List[Tuple[str, bool, str]] = []
    for name in ("embedded",):
        if name not in targets or "stock" not in targets:
            continue
        for level in users:
            out.append(_throughput_verdict(f"{name}/stock messages per second at {level} users",
                                           targets[name]["levels"].get(str(level)),
                                           targets["stock"]["levels"].get(str(level))))
        typed, stock_typed = targets[name].get("typed"), targets["stock"].get("typed")
        if typed and stock_typed:
            out.append(_throughput_verdict(f"{name}/stock messages per second at {typed['users']} users, "
                                           "every answer typed (no button payloads)", typed, stock_typed))
    for name in ("embedded", "prod"):
        if name not in targets:
            continue
        if 10 in users:
            p95 = targets[name]["levels"].get("10", {}).get("p95_ms")
            out.append((f"{name}: p95 <= {TARGET_P95_MS_10_USERS:g} ms at 10 users, no think time",
                        p95 is not None and p95 <= TARGET_P95_MS_10_USERS, f"p95 {fmt(p95)} ms"))
        paced = targets[name].get("paced")
        if paced:
            out.append((f"{name}: p95 <= {TARGET_P95_MS_10_USERS:g} ms at {paced['users']} users, "
                        f"{report['think_s']:g} s think time", paced["p95_ms"] is not None
                        and paced["p95_ms"] <= TARGET_P95_MS_10_USERS, f"p95 {fmt(paced['p95_ms'])} ms"))
    top = max(users)
    for name, data in targets.items():
        errors = data["levels"].get(str(top), {}).get("errors")
        out.append((f"{name}: no errors at {top} users", errors == 0, f"{fmt(errors)} errors"))
    return out


def _row(name: str, level: Any, row: Dict[str, Any]) -> str:
    return (f"| {name} | {level} | {fmt(row['messages_per_s'])} | {fmt(row['p50_ms'])} | {fmt(row['p95_ms'])} | "
            f"{fmt(row['p99_ms'])} | {fmt(row['max_ms'])} | {row['errors']} | {row['off_script']} |")


def write_reports(report: Dict[str, Any], prefix: Path, users: List[int]) -> str:
    header = ["| target | users | msg/s | p50 ms | p95 ms | p99 ms | max ms | errors | off script |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines = [
        "# Load benchmark (`make bench-load`)",
        "",
        f"{report['date']} · {machine_line(report['machine'])} · `bench/load.py`",
        "",
        f"All targets run side by side and are measured in turn, {report['rounds']} windows each per level "
        f"in rotating order ({report['duration_s']:g} s per target and level in all), so background load on "
        "this shared machine falls on every target alike. Simulated users send each message as soon as "
        "the previous reply arrived (no think time: a stress figure, where latency is mostly queueing).",
        "",
        "## No think time",
        "",
        *header,
    ]
    for name, data in report["targets"].items():
        for level in users:
            row = data["levels"].get(str(level))
            if row:
                lines.append(_row(name, level, row))
    if any(data.get("paced") for data in report["targets"].values()):
        lines += ["", f"## {report['think_s']:g} s think time between messages (a customer reading and tapping)",
                  "", *header]
        for name, data in report["targets"].items():
            if data.get("paced"):
                lines.append(_row(name, data["paced"]["users"], data["paced"]))
    if any(data.get("typed") for data in report["targets"].values()):
        lines += ["", "## Every answer typed instead of tapped (no think time)", "",
                  "Button payloads skip the NLU pipeline (`loginhelp/rasa_launch.py`). Here the simulated "
                  "customers type every answer (\"still not working\", \"no\", an email address in a "
                  "sentence), so every message goes through spaCy, DIET and the linear blend. The stock "
                  "assistant's conversations are typed in both runs.", "", *header]
        for name, data in report["targets"].items():
            if data.get("typed"):
                lines.append(_row(name, data["typed"]["users"], data["typed"]))
    lines += ["", "## Work and memory", "",
              "| target | work per message | peak memory (VmHWM incl. children) | start-up |", "|---|---|---|---:|"]
    for name, data in report["targets"].items():
        work = data.get("work", {})
        memory = ", ".join(f"{server} {mem['vmhwm_with_children_mb']:g} MB" for server, mem in data["memory"].items())
        total = sum(mem["vmhwm_with_children_mb"] for mem in data["memory"].values())
        lines.append(f"| {name} | {fmt(work.get('custom_actions_per_message'))} custom actions, "
                     f"{fmt(work.get('stored_events_per_message'))} stored events | {memory} (total {total:g} MB) | "
                     f"{data['startup_s']:g} s |")
    lines += ["", "Targets:", ""]
    for name, data in report["targets"].items():
        lines.append(f"* **{name}**: {data['description']}")
    lines += ["", "## Verdicts", ""]
    for label, ok, detail in report["verdicts"]:
        lines.append(f"* {'PASS' if ok else 'FAIL'}: {label} ({detail})")
    samples = []
    for name, data in report["targets"].items():
        rows = [(level, row) for level, row in data["levels"].items()]
        if data.get("paced"):
            rows.append((f"{data['paced']['users']} paced", data["paced"]))
        if data.get("typed"):
            rows.append((f"{data['typed']['users']} typing", data["typed"]))
        for level, row in rows:
            for sample in (row["error_samples"] + row["off_script_samples"])[:3]:
                samples.append(f"* {name} at {level} users: `{sample}`")
    if samples:
        lines += ["", "Samples of errors and off-script replies (first three per row):", "", *samples]
    text = "\n".join(lines) + "\n"
    write_results(prefix, report, text)
    return text


# ------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------

TARGETS = {"stock": StockTarget, "embedded": EmbeddedTarget,
           "prod": ProdTarget}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0,
                        help="measured seconds per target and level (default 15)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved windows per level (default 2)")
    parser.add_argument("--users", default="1,10,50", help="concurrency levels (default 1,10,50)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean think time of the extra paced run at 10 users, 0 to skip (default 2)")
    parser.add_argument("--paced-duration", type=float, default=40.0,
                        help="measured seconds per target of the paced run (default 40: ~200 messages)")
    parser.add_argument("--typed-users", type=int, default=10,
                        help="users of the extra run where customers type every answer instead of tapping "
                             "buttons, 0 to skip (default 10)")
    parser.add_argument("--targets", default="stock,embedded,prod",
                        help="which targets (default stock,embedded,prod)")
    parser.add_argument("--out", default=str(RESULTS / "load"), help="report prefix (default bench/results/load)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with server logs")
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",") if u.strip()]
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {sorted(TARGETS)}")
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    loadavg_before = loadavg()
    report: Dict[str, Any] = {
        "date": now(),
        "duration_s": args.duration, "rounds": args.rounds, "think_s": args.think, "users": users, "targets": {},
    }

    def on_signal(signum, _frame):  # stop the servers on SIGTERM too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    targets: List[Target] = []
    startup: Dict[str, float] = {}
    code = 0
    try:
        for name in names:
            target = TARGETS[name](tmp)
            targets.append(target)
            print(f"== starting {name}: {target.description}", flush=True)
            started = time.monotonic()
            target.start()
            startup[name] = round(time.monotonic() - started, 1)
            print(f"   up in {startup[name]:.0f} s; warming up", flush=True)
            warm_up(target)
        levels: Dict[str, Dict[str, Any]] = {t.name: {} for t in targets}
        senders: Dict[str, List[str]] = {t.name: [] for t in targets}
        for level in users:
            results = measure(targets, level, args.duration, args.rounds, 0.0, f"{level}u")
            for name, result in results.items():
                levels[name][str(level)] = result.summary()
                senders[name] += result.senders
                row = levels[name][str(level)]
                print(f"   {name:<14} {level:>3} users: {row['messages_per_s']:>6} msg/s  p50 {fmt(row['p50_ms'])} ms  "
                      f"p95 {fmt(row['p95_ms'])} ms  p99 {fmt(row['p99_ms'])} ms  errors {row['errors']}  "
                      f"off script {row['off_script']}", flush=True)
        paced: Dict[str, Any] = {}
        if args.think > 0:
            results = measure(targets, 10, args.paced_duration, args.rounds, args.think, "paced")
            for name, result in results.items():
                paced[name] = result.summary()
                senders[name] += result.senders
                row = paced[name]
                print(f"   {name:<14}  10 users, {args.think:g} s think time: {row['messages_per_s']:>6} msg/s  "
                      f"p50 {fmt(row['p50_ms'])} ms  p95 {fmt(row['p95_ms'])} ms  errors {row['errors']}", flush=True)
        typed: Dict[str, Any] = {}
        if args.typed_users > 0:
            results = measure(targets, args.typed_users, args.duration, args.rounds, 0.0, "typed", typed=True)
            for name, result in results.items():
                typed[name] = result.summary()
                senders[name] += result.senders
                row = typed[name]
                print(f"   {name:<14} {args.typed_users:>3} users, typed answers: {row['messages_per_s']:>6} msg/s  "
                      f"p50 {fmt(row['p50_ms'])} ms  p95 {fmt(row['p95_ms'])} ms  errors {row['errors']}  "
                      f"off script {row['off_script']}", flush=True)
        for target in targets:
            memory = {server: peak_memory_mb(pid) for server, pid in target.servers().items()}
            report["targets"][target.name] = {
                "description": target.description, "startup_s": startup[target.name], "levels": levels[target.name],
                "paced": paced.get(target.name), "typed": typed.get(target.name), "memory": memory,
                "work": target.work(senders[target.name]),
            }
            print(f"   {target.name} peak memory: "
                  + ", ".join(f"{s} {m['vmhwm_with_children_mb']:g} MB" for s, m in memory.items()), flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception:  # noqa: BLE001 - the benchmark itself broke: report, exit non-zero
        traceback.print_exc()
        code = 1
    finally:
        for target in targets:
            try:
                target.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                traceback.print_exc()

    report["machine"] = machine(loadavg_before)
    if code:
        print(f"benchmark did not complete; logs kept in {tmp}", file=sys.stderr)
        return code
    report["verdicts"] = verdicts(report, users)
    text = write_reports(report, Path(args.out), users)
    print()
    print(text)
    if args.keep_logs:
        print(f"logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
