"""Simulated customers: play bench/dialogue/scenarios.yml (typed answers only) and score it.

    make bench-dialogue                      # starts its own action + Rasa servers
    .venv/bin/python bench/dialogue.py --url http://localhost:5005   # against `make run`

Per scenario and in total: task success (the scenario's goal response was sent),
turns to the right step (the turn whose reply first holds the goal), noise (the
same message twice in a reply, complaints about answers the customer did not give,
help menus after the first turn) and steps of the guide sent twice. Targets: 100 %
success, 0 noise, 0 repeated steps. Writes bench/results/dialogue.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

from harness import RESULTS, loadavg, machine, machine_line, write_results

from loginhelp.replay import Conversation, first_turn_with, load_conversations, noise, play, rest_sender
from loginhelp.servers import RasaStack

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "dialogue" / "scenarios.yml"


def run(url: str, scenarios: List[Conversation], verbose: bool) -> Tuple[str, Dict[str, Any]]:
    send = rest_sender(url)
    rows, successes, total_noise, total_repeats, turns_to_goal = [], 0, 0, 0, []
    stamp = dt.datetime.now().strftime("%H%M%S")
    for number, scenario in enumerate(scenarios, start=1):
        if not scenario.typed_only:
            raise SystemExit(f"scenario {scenario.name!r} taps a button: scenarios are typed only")
        played = play(scenario, send, f"bench-dialogue-{stamp}-{number}")
        reached = first_turn_with(played, scenario.goal) if scenario.goal else None
        found = noise(played)
        successes += reached is not None
        total_noise += found.duplicates + found.complaints + found.help_menus
        total_repeats += found.repeated_steps
        if reached is not None:
            turns_to_goal.append(reached)
        rows.append(
            f"| {scenario.name} | {'yes' if reached else 'NO'} | {reached or '-'} / {len(scenario.turns)} "
            f"| {found.duplicates} | {found.complaints} | {found.help_menus} | {found.repeated_steps} |"
        )
        if verbose and (reached is None or found.total):
            print(f"--- {scenario.name} (goal {scenario.goal})\n{played.transcript()}\n", file=sys.stderr)
    count = len(scenarios)
    mean_turns = sum(turns_to_goal) / len(turns_to_goal) if turns_to_goal else 0.0
    totals = {"scenarios": count, "successes": successes, "mean_turns_to_goal": round(mean_turns, 2),
              "noise": total_noise, "repeated_steps": total_repeats}
    header = [
        f"# Simulated customers ({dt.date.today().isoformat()})",
        "",
        f"{count} scenarios of bench/dialogue/scenarios.yml, typed answers only, over REST.",
        "",
        "{machine}",
        "",
        "| total | value | target |",
        "|---|---|---|",
        f"| task success | {successes}/{count} ({100 * successes / count:.0f} %) | 100 % |",
        f"| mean turns to the right step | {mean_turns:.2f} | |",
        f"| noise messages (duplicates, complaints, help menus mid-conversation) | {total_noise} | 0 |",
        f"| steps sent twice | {total_repeats} | 0 |",
        "",
        "| scenario | success | turns to goal / turns | duplicates | complaints | help menus | repeated steps |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n", totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running assistant (default: start one on free ports)")
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS)
    parser.add_argument("--out", type=Path, default=RESULTS / "dialogue",
                        help="output prefix, .md and .json are added (default bench/results/dialogue)")
    parser.add_argument("--quiet", action="store_true", help="do not print failing transcripts")
    args = parser.parse_args()
    scenarios = load_conversations(args.scenarios, key="scenarios")
    loadavg_before = loadavg()
    if args.url:
        report, totals = run(args.url, scenarios, not args.quiet)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-dialogue-") as workdir:
            stack = RasaStack(Path(workdir)).start()
            try:
                report, totals = run(stack.url, scenarios, not args.quiet)
            finally:
                stack.stop()
    info = machine(loadavg_before)
    report = report.replace("{machine}", f"Machine: {machine_line(info)}.")
    print(report)
    write_results(args.out, {"machine": info, **totals}, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
