#!/usr/bin/env python
"""REST latency, throughput and memory benchmark of the running assistant.

Run from the repository root (``make bench-latency``)::

    .venv/bin/python bench/latency.py                          # 40 conversations at 1 and at 10 users
    .venv/bin/python bench/latency.py --conversations 10 --users 1,4 --out /tmp/lat

Starts a private action server and a Rasa server (``models/loginhelp.tar.gz``) on
free loopback ports with a SQLite tracker store in a temporary directory, waits
until both answer, warms up, then plays scripted customer conversations over the
REST channel, one message at a time per simulated user and no think time, at each
concurrency level. Both servers are stopped at the end, also on errors and Ctrl-C.

Figures: per-message latency (p50/p95/p99), messages per second, errors (non-200,
transport errors, empty replies), replies that left the script (an expected text or
button was missing), and the peak memory (VmHWM) of the Rasa and action servers.

Exit status: 0 when the benchmark ran (whether the targets PASS or FAIL),
non-zero on errors.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from harness import RESULTS, MemorySampler, latency_stats, loadavg, machine, machine_line, now, reply_text, send, write_results

from loginhelp.servers import MODEL, REPO, RasaStack

REPO_ROOT = REPO
DEFAULT_MODEL = MODEL

TARGET_P95_MS_1_USER = 150.0
TARGET_RASA_MEMORY_MB = 800.0  # issue 12: under 800 MB after 100 messages

STARTUP_TIMEOUT_S = 300.0


# --------------------------------------------------------------------------------------
# Scripted conversations
# --------------------------------------------------------------------------------------
# A turn is (kind, value, expect):
#   ("text", "message", expect)            the customer types a message
#   ("button", "title", expect)            the customer taps the button with that title
#                                          in the previous reply (its payload is sent)
# `expect` is a lower-case substring (or a tuple of alternatives) that the bot's
# messages should contain (None: any non-empty reply). A missing expectation or button counts as "off script":
# reported, but not an error (the latency is still measured).

STILL_BROKEN = ["still not working", "that didn't help", "nope, same problem", "didn't work"]
SOLVED = ["that fixed it, i'm in", "it works now, i'm logged in", "yes that worked, i'm in"]
THANKS = ["thanks", "thank you!", "thanks a lot"]
BYE = ["bye", "goodbye", "ok bye"]

# Fallback payloads for button turns when the expected button is not offered.
BUTTON_FALLBACK = {
    "No message / not sure": "/deny",
    "Account locked or frozen": "/account_locked",
    "Website": '/inform{"platform": "web"}',
    "Yes": "/affirm",
    "No, still stuck": "/still_broken",
    "Yes, I'm in": "/problem_solved",
    "Yes, open a ticket": "/affirm",
    "No, thanks": "/deny",
    "Chrome": '/inform{"browser": "chrome"}',
    "Firefox": '/inform{"browser": "firefox"}',
    "Safari": '/inform{"browser": "safari"}',
    "Edge": '/inform{"browser": "edge"}',
}

BROWSER_CACHE_STEP = {
    "chrome": "clear chrome's cache",
    "firefox": "clear firefox's cache",
    "safari": "clear safari's website data",
    "edge": "clear edge's cache",
}

Expect = Union[None, str, Tuple[str, ...]]
Turn = Tuple[str, str, Expect]


def conv_triage_buttons(rng: random.Random) -> List[Turn]:
    """Vague problem -> triage answered with buttons -> basics -> solved."""
    return [
        ("text", rng.choice(["hi", "hello", "hey there"]), "login helper"),
        ("text", rng.choice(["i can't log in to my account", "cannot sign in", "login doesn't work"]),
         "what does the screen say"),
        ("button", "No message / not sure", "website or in the mobile app"),
        ("button", "Website", "two-factor"),
        ("button", "Yes", "did that help"),
        ("button", "No, still stuck", "did that help"),
        ("button", "Yes, I'm in", "glad you're back in"),
        ("text", rng.choice(THANKS), "you're welcome"),
    ]


def conv_triage_locked(rng: random.Random) -> List[Turn]:
    """Triage names the cause (locked) -> two steps -> ticket offer declined."""
    return [
        ("text", rng.choice(["i cant login", "i can't get into my account"]), "what does the screen say"),
        ("button", "Account locked or frozen", "a lock is a protection"),
        ("text", rng.choice(STILL_BROKEN), "verify your identity"),
        ("text", rng.choice(STILL_BROKEN), "support ticket"),
        ("button", "No, thanks", "okay, no ticket"),
        ("text", rng.choice(BYE), "goodbye"),
    ]


def conv_browser_escalation(rng: random.Random) -> List[Turn]:
    """Browser named up front -> 3 steps fail -> ticket offer -> yes."""
    browser = rng.choice(["chrome", "firefox", "edge"])
    opening = rng.choice([
        f"the login page is blank in {browser}",
        f"login page won't load properly in {browser}",
        f"the login button does nothing in {browser}",
    ])
    return [
        ("text", opening, BROWSER_CACHE_STEP[browser]),
        ("text", "still not working", "different browser"),
        ("text", "still not working", "extensions"),
        ("text", "still not working", "support ticket"),
        # the ticket form's first question (or the older placeholder reply)
        ("text", "yes", ("put together a ticket", "gather a support ticket")),
    ]


def conv_browser_ask(rng: random.Random) -> List[Turn]:
    """Browser unknown -> asked with buttons -> one step fails -> solved."""
    title = rng.choice(["Chrome", "Firefox", "Safari", "Edge"])
    return [
        ("text", rng.choice([
            "the login page is just blank in my browser",
            "the login page is blank, the button does nothing",
        ]), "which browser"),
        ("button", title, BROWSER_CACHE_STEP[title.lower()]),
        ("button", "No, still stuck", "different browser"),
        ("text", rng.choice(SOLVED), "glad you're back in"),
        ("text", rng.choice(THANKS), "you're welcome"),
    ]


def conv_twofa(rng: random.Random) -> List[Turn]:
    """2FA code rejected -> clock sync, delivery, backup codes -> solved."""
    return [
        ("text", rng.choice([
            "my 2fa code keeps getting rejected",
            "google authenticator code is invalid",
            "it says my 2fa code is wrong",
        ]), "clock is exact"),
        ("text", rng.choice(STILL_BROKEN), "sms or email codes"),
        ("button", "No, still stuck", "backup codes"),
        ("text", rng.choice(SOLVED), "glad you're back in"),
        ("text", rng.choice(BYE), "goodbye"),
    ]


def conv_app(rng: random.Random) -> List[Turn]:
    """App crashes -> official app, force close, update -> solved."""
    return [
        ("text", rng.choice([
            "the coinex app crashes every time i open it",
            "the app freezes on the login screen",
            "app keeps closing when i try to log in",
        ]), "official coinex app"),
        ("button", "No, still stuck", "close the app completely"),
        ("text", rng.choice(STILL_BROKEN), "outdated app"),
        ("button", "Yes, I'm in", "glad you're back in"),
        ("text", rng.choice(THANKS), "you're welcome"),
    ]


def conv_smalltalk(rng: random.Random) -> List[Turn]:
    """Greetings, capabilities, bot challenge, thanks, goodbye."""
    return [
        ("text", rng.choice(["hello", "hi there", "good morning"]), "login helper"),
        ("text", rng.choice(["what can you do?", "what can you help me with"]), "get back into your coinex account"),
        ("text", rng.choice(["are you a bot?", "am i talking to a human?"]), "automated assistant"),
        ("text", rng.choice(THANKS), "you're welcome"),
        ("text", rng.choice(BYE), "goodbye"),
    ]


CONVERSATIONS = [
    ("triage_buttons", conv_triage_buttons),
    ("browser_escalation", conv_browser_escalation),
    ("twofa", conv_twofa),
    ("app", conv_app),
    ("smalltalk", conv_smalltalk),
    ("triage_locked", conv_triage_locked),
    ("browser_ask", conv_browser_ask),
]


# --------------------------------------------------------------------------------------
# Load generation
# --------------------------------------------------------------------------------------

@dataclass
class Sample:
    latency_ms: float
    ok: bool
    error: Optional[str]
    kind: str
    template: str
    off_script: bool


def _buttons(reply: Optional[List[Dict[str, Any]]]) -> Dict[str, str]:
    found: Dict[str, str] = {}
    for message in reply or []:
        for button in message.get("buttons") or []:
            if button.get("title") and button.get("payload"):
                found.setdefault(button["title"], button["payload"])
    return found


def _matches(reply: Optional[List[Dict[str, Any]]], expect: Expect) -> bool:
    if expect is None:
        return bool(reply)
    text = reply_text(reply)
    alternatives = (expect,) if isinstance(expect, str) else expect
    return any(alt in text for alt in alternatives)


async def play_conversation(
    session: Any, url: str, sender: str, template: str, turns: List[Turn],
    samples: List[Sample], off_script_log: List[Dict[str, Any]],
) -> None:
    previous: Optional[List[Dict[str, Any]]] = None
    for index, (kind, value, expect) in enumerate(turns):
        off_script = False
        if kind == "button":
            payload = _buttons(previous).get(value)
            if payload is None:
                off_script = True
                off_script_log.append({"template": template, "turn": index, "sent": value,
                                       "problem": "button not offered",
                                       "previous": [m.get("text") for m in previous or []]})
                payload = BUTTON_FALLBACK[value]
            message = payload
        else:
            message = value
        elapsed, reply, error = await send(session, url, sender, message)
        if error is None and not _matches(reply, expect):
            off_script = True
            off_script_log.append({"template": template, "turn": index, "sent": message,
                                   "problem": f"expected {expect!r}",
                                   "reply": [m.get("text") for m in reply or []]})
        samples.append(Sample(elapsed, error is None, error, kind, template, off_script))
        previous = reply


def build_workload(n: int, seed: int) -> List[Tuple[str, List[Turn]]]:
    rng = random.Random(seed)
    return [
        (CONVERSATIONS[i % len(CONVERSATIONS)][0], CONVERSATIONS[i % len(CONVERSATIONS)][1](rng))
        for i in range(n)
    ]


async def run_level(
    session: Any, url: str, users: int, n_conversations: int, run_id: str, seed: int,
    sampler: MemorySampler,
) -> Dict[str, Any]:
    workload = build_workload(n_conversations, seed)
    queue: asyncio.Queue = asyncio.Queue()
    for i, (template, turns) in enumerate(workload):
        queue.put_nowait((i, template, turns))
    samples: List[Sample] = []
    off_script_log: List[Dict[str, Any]] = []

    async def user(u: int) -> None:
        while True:
            try:
                i, template, turns = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            sender = f"bench-{run_id}-u{users}-c{i:03d}-{template}"
            await play_conversation(session, url, sender, template, turns, samples, off_script_log)

    sampling = asyncio.create_task(sampler.run())
    start = time.perf_counter()
    try:
        await asyncio.gather(*(user(u) for u in range(users)))
    finally:
        wall = time.perf_counter() - start
        sampling.cancel()
        try:
            await sampling
        except asyncio.CancelledError:
            pass

    ok = [s.latency_ms for s in samples if s.ok]
    errors: Dict[str, int] = {}
    for s in samples:
        if not s.ok:
            errors[s.error or "?"] = errors.get(s.error or "?", 0) + 1
    by_kind = {kind: latency_stats([s.latency_ms for s in samples if s.ok and s.kind == kind])
               for kind in ("text", "button")}
    by_template = {
        name: latency_stats([s.latency_ms for s in samples if s.ok and s.template == name])
        for name, _ in CONVERSATIONS
    }
    return {
        "users": users,
        "conversations": n_conversations,
        "messages": len(samples),
        "wall_seconds": wall,
        "messages_per_second": len(samples) / wall if wall else float("nan"),
        "conversations_per_second": n_conversations / wall if wall else float("nan"),
        "latency": latency_stats(ok),
        "latency_by_kind": by_kind,
        "latency_by_conversation": by_template,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "error_rate": sum(errors.values()) / len(samples) if samples else 0.0,
        "off_script": sum(1 for s in samples if s.off_script),
        "off_script_examples": off_script_log[:10],
    }


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------

def _f(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"  # NaN check


def render_markdown(report: Dict[str, Any]) -> str:
    mem_r, mem_a = report["memory"]["rasa_server"], report["memory"]["action_server"]
    lines = [
        "# REST latency benchmark",
        "",
        f"- Date: {report['date']}",
        f"- Machine: {machine_line(report['machine'])}",
        f"- Model: `{report['model']}` ({report['model_mb']:.1f} MB, trained {report['model_mtime']})",
        "- Set-up: Rasa server + action server on loopback, SQLite tracker store, REST channel; "
        "each simulated user sends its next message as soon as the reply arrives (no think time)",
        f"- Conversations per level: {report['conversations_per_level']} "
        f"(templates: {', '.join(report['conversation_templates'])}), unique sender per conversation",
        f"- Start-up until healthy: Rasa server {_f(report['startup_seconds']['rasa_server'])} s, "
        f"action server {_f(report['startup_seconds']['action_server'])} s",
        "",
        "## Latency and throughput",
        "",
        "| Users | Messages | p50 (ms) | p95 (ms) | p99 (ms) | mean (ms) | max (ms) | Messages/s | Errors | Off script |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in report["levels"]:
        lat = level["latency"]
        lines.append(
            f"| {level['users']} | {level['messages']} | {_f(lat['p50_ms'])} | {_f(lat['p95_ms'])} | "
            f"{_f(lat['p99_ms'])} | {_f(lat['mean_ms'])} | {_f(lat['max_ms'])} | "
            f"{_f(level['messages_per_second'])} | {level['errors']} | {level['off_script']} |"
        )
    lines += [
        "",
        "Errors: non-200 responses, transport errors/timeouts and empty replies. "
        "Off script: the reply lacked the text or button the scripted conversation expected "
        "(an NLU or dialogue deviation, not a server error; latency still counted).",
        "",
        "### By message kind (p50 / p95 ms)",
        "",
        "| Users | Typed text | Button payload |",
        "|---|---|---|",
    ]
    for level in report["levels"]:
        t, b = level["latency_by_kind"]["text"], level["latency_by_kind"]["button"]
        lines.append(f"| {level['users']} | {_f(t['p50_ms'])} / {_f(t['p95_ms'])} (n={t['count']}) | "
                     f"{_f(b['p50_ms'])} / {_f(b['p95_ms'])} (n={b['count']}) |")
    lines += [
        "",
        "### By conversation (p50 / p95 ms)",
        "",
        "| Conversation | " + " | ".join(f"{lvl['users']} user(s)" for lvl in report["levels"]) + " |",
        "|---|" + "---|" * len(report["levels"]),
    ]
    for name in report["conversation_templates"]:
        cells = []
        for level in report["levels"]:
            s = level["latency_by_conversation"][name]
            cells.append(f"{_f(s['p50_ms'])} / {_f(s['p95_ms'])}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Memory (MiB)",
        "",
        "| Process | Peak VmHWM (main process) | Peak VmHWM (incl. children) | Peak RSS sampled during the run | Processes |",
        "|---|---|---|---|---|",
        f"| Rasa server | {mem_r['vmhwm_main_mb']:.0f} | {mem_r['vmhwm_total_mb']:.0f} | {mem_r['peak_rss_sampled_mb']:.0f} | {mem_r['processes']} |",
        f"| Action server | {mem_a['vmhwm_main_mb']:.0f} | {mem_a['vmhwm_total_mb']:.0f} | {mem_a['peak_rss_sampled_mb']:.0f} | {mem_a['processes']} |",
        "",
        "VmHWM is the kernel's high-water mark of resident memory since the process started "
        "(it includes loading the model); with children, their high-water marks are added.",
        "",
        "## Targets",
        "",
    ]
    for check in report["checks"]:
        lines.append(f"- **{check['status']}** {check['name']}: {check['detail']}")
    off = [ex for level in report["levels"] for ex in level["off_script_examples"]]
    if off:
        lines += ["", "## Off-script replies (first few)", ""]
        for ex in off[:10]:
            got = ex.get("reply") or ex.get("previous") or []
            got_text = " / ".join((t or "")[:90] for t in got)
            lines.append(f"- `{ex['template']}` turn {ex['turn']} sent `{ex['sent']}`: {ex['problem']}; got: {got_text}")
    lines.append("")
    return "\n".join(lines)


def print_summary(report: Dict[str, Any]) -> None:
    print()
    print(f"REST latency benchmark, nproc={report['machine']['nproc']}, "
          f"{report['conversations_per_level']} conversations per level")
    for level in report["levels"]:
        lat = level["latency"]
        print(f"  {level['users']:>3} user(s): {level['messages']} messages  p50 {_f(lat['p50_ms'])} ms  "
              f"p95 {_f(lat['p95_ms'])} ms  p99 {_f(lat['p99_ms'])} ms  "
              f"{_f(level['messages_per_second'])} msg/s  errors {level['errors']}  off-script {level['off_script']}")
    mem_r, mem_a = report["memory"]["rasa_server"], report["memory"]["action_server"]
    print(f"  memory (VmHWM incl. children): Rasa server {mem_r['vmhwm_total_mb']:.0f} MiB, "
          f"action server {mem_a['vmhwm_total_mb']:.0f} MiB")
    for check in report["checks"]:
        print(f"{check['status']}: {check['name']} ({check['detail']})")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=40, help="conversations per concurrency level (default 40)")
    parser.add_argument("--users", default="1,10", help="comma-separated concurrency levels (default 1,10)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model archive (default models/loginhelp.tar.gz)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up conversations before measuring (default 2)")
    parser.add_argument("--seed", type=int, default=42, help="seed for the message variants (default 42)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latency",
                        help="output prefix, .md and .json are added (default bench/results/latency)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    args = parser.parse_args(argv)
    try:
        args.users = [int(u) for u in str(args.users).split(",") if u.strip()]
    except ValueError:
        parser.error("--users takes a comma-separated list of integers, e.g. 1,10")
    if not args.users or any(u < 1 for u in args.users):
        parser.error("--users needs positive integers")
    if args.conversations < 1:
        parser.error("--conversations must be at least 1")
    return args


async def benchmark(args: argparse.Namespace, stack: RasaStack) -> Dict[str, Any]:
    import aiohttp

    print(f"starting the action server on :{stack.action_port} and the Rasa server on :{stack.rasa_port} "
          f"(logs in {stack.workdir / 'logs'})", flush=True)
    await asyncio.to_thread(stack.start, STARTUP_TIMEOUT_S)
    sampler = MemorySampler(stack)
    print(f"healthy: Rasa server after {stack.ready_seconds['rasa']:.1f} s, "
          f"action server after {stack.ready_seconds['actions']:.1f} s", flush=True)

    connector = aiohttp.TCPConnector(limit=max(args.users) + 5)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = stack.url
        run_id = _dt.datetime.now().strftime("%H%M%S")

        # Warm-up: the first messages trace TensorFlow graphs and open connections.
        warm_samples: List[Sample] = []
        warm_off: List[Dict[str, Any]] = []
        t0 = time.perf_counter()
        for i, (template, turns) in enumerate(build_workload(max(args.warmup, 0) or 0, args.seed + 1000)):
            await play_conversation(session, url, f"bench-{run_id}-warmup-{i}", template, turns, warm_samples, warm_off)
        if args.warmup:
            # a short concurrent burst as well
            burst = build_workload(len(CONVERSATIONS), args.seed + 2000)
            await asyncio.gather(*(
                play_conversation(session, url, f"bench-{run_id}-warmburst-{i}", t, turns, warm_samples, warm_off)
                for i, (t, turns) in enumerate(burst[: min(len(burst), max(args.users))])
            ))
        warm_errors = [s.error for s in warm_samples if not s.ok]
        print(f"warm-up: {len(warm_samples)} messages in {time.perf_counter() - t0:.1f} s, "
              f"first {warm_samples[0].latency_ms:.0f} ms, errors {len(warm_errors)}"
              if warm_samples else "warm-up skipped", flush=True)
        if warm_samples and len(warm_errors) == len(warm_samples):
            raise RuntimeError(f"every warm-up message failed ({warm_errors[0]}); Rasa log:\n"
                               f"{stack.tail('rasa')}\naction server log:\n{stack.tail('actions')}")

        levels = []
        for users in args.users:
            print(f"measuring {args.conversations} conversations at {users} concurrent user(s) ...", flush=True)
            level = await run_level(session, url, users, args.conversations, run_id, args.seed, sampler)
            lat = level["latency"]
            print(f"  {level['messages']} messages in {level['wall_seconds']:.1f} s: p50 {_f(lat['p50_ms'])} ms, "
                  f"p95 {_f(lat['p95_ms'])} ms, p99 {_f(lat['p99_ms'])} ms, "
                  f"{_f(level['messages_per_second'])} msg/s, errors {level['errors']}, off-script {level['off_script']}",
                  flush=True)
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"the {name} server died during the run:\n{stack.tail(name)}")
            levels.append(level)

    memory = {"rasa_server": sampler.memory("rasa"), "action_server": sampler.memory("actions")}

    checks = []
    one = next((lvl for lvl in levels if lvl["users"] == 1), None)
    if one is None:
        checks.append({"name": f"p95 <= {TARGET_P95_MS_1_USER:.0f} ms at 1 user", "status": "SKIP",
                       "detail": "1-user level not measured (see --users)"})
    else:
        p95 = one["latency"]["p95_ms"]
        checks.append({"name": f"p95 <= {TARGET_P95_MS_1_USER:.0f} ms at 1 user",
                       "status": "PASS" if p95 == p95 and p95 <= TARGET_P95_MS_1_USER else "FAIL",
                       "detail": f"p95 {_f(p95)} ms"})
    rasa_mb = memory["rasa_server"]["vmhwm_total_mb"]
    checks.append({"name": f"Rasa server memory <= {TARGET_RASA_MEMORY_MB:.0f} MB",
                   "status": "PASS" if rasa_mb <= TARGET_RASA_MEMORY_MB else "FAIL",
                   "detail": f"peak VmHWM {rasa_mb:.0f} MiB ({rasa_mb * 1.048576:.0f} MB)"})
    total_errors = sum(level["errors"] for level in levels)
    checks.append({"name": "no errors", "status": "PASS" if total_errors == 0 else "FAIL",
                   "detail": f"{total_errors} errors in {sum(level['messages'] for level in levels)} messages"})

    stat = args.model.stat()
    return {
        "benchmark": "latency",
        "date": now(),
        "machine": machine(args.loadavg_before),
        "model": str(args.model.relative_to(REPO_ROOT) if args.model.is_relative_to(REPO_ROOT) else args.model),
        "model_mb": stat.st_size / 1e6,
        "model_mtime": _dt.datetime.fromtimestamp(stat.st_mtime).astimezone().isoformat(timespec="seconds"),
        "tracker_store": "SQL (sqlite, temporary file)",
        "conversations_per_level": args.conversations,
        "conversation_templates": [name for name, _ in CONVERSATIONS],
        "startup_seconds": {"rasa_server": stack.ready_seconds.get("rasa"),
                            "action_server": stack.ready_seconds.get("actions")},
        "warmup_messages": len(warm_samples),
        "levels": levels,
        "memory": memory,
        "checks": checks,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO_ROOT)
    args.model = args.model.resolve()
    if not args.model.exists():
        print(f"error: {args.model} does not exist; run `make train` first", file=sys.stderr)
        return 2

    args.loadavg_before = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    stack = RasaStack(tmp, model=args.model, env={"SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
                      tracker_store={"type": "SQL", "dialect": "sqlite", "db": str(tmp / "tracker.db")})

    def _on_signal(signum, _frame):  # SIGTERM/SIGHUP: unwind through the finally below
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    failed = False
    report: Optional[Dict[str, Any]] = None
    try:
        report = asyncio.run(benchmark(args, stack))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        failed = True
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("error: the latency benchmark did not complete", file=sys.stderr)
        failed = True
    finally:
        stack.stop()
        if args.keep_logs or failed:
            print(f"server logs kept in {tmp}", file=sys.stderr if failed else sys.stdout)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failed or report is None:
        return 1

    md_path, json_path = write_results(args.out, report, render_markdown(report))
    print_summary(report)
    print(f"wrote {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
