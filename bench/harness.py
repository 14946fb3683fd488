"""What the benchmarks share: servers, memory, one REST turn, latency figures, the
machine they ran on and where their results go.

The servers are the ones the tests start (loginhelp/servers.py: ``RasaStack`` for
the embedded mode, ``ServerGroup`` for anything else, loginhelp/prod_stack.py for
the production mode); this module adds what only a benchmark needs. Imported as
``harness`` by the scripts of bench/ (Python puts the script's folder first on the
import path), so nothing edits ``sys.path``.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from loginhelp.servers import REPO, ServerGroup, descendants, process_status_kb

RESULTS = REPO / "bench" / "results"
REQUEST_TIMEOUT_S = 60.0
#: A Firefox user agent: the widget sends one, and it saves the triage the platform question.
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
#: The tracker store of endpoints.yml (make run): benchmarks measure what customers get.
REDACTING_SQLITE = "loginhelp.tracker_store.RedactingSQLTrackerStore"


# ---------------------------------------------------------------------------- memory


class MemorySampler:
    """Peak memory of the processes of a ServerGroup, children included, sampled while
    the load runs: Rasa's servers fork workers that may be gone by the end."""

    def __init__(self, group: ServerGroup) -> None:
        self.group = group
        self.peak_kb: Dict[str, Dict[int, int]] = {}  # server -> pid -> highest VmHWM seen
        self.peak_rss_kb: Dict[str, int] = {}

    def sample(self) -> None:
        for name, process in self.group.processes.items():
            if process.poll() is not None:
                continue
            seen = self.peak_kb.setdefault(name, {})
            rss = 0
            for pid in [process.pid] + descendants(process.pid):
                status = process_status_kb(pid)
                if status:
                    seen[pid] = max(seen.get(pid, 0), status.get("VmHWM", 0))
                    rss += status.get("VmRSS", 0)
            self.peak_rss_kb[name] = max(self.peak_rss_kb.get(name, 0), rss)

    async def run(self, every_s: float = 0.5) -> None:
        """Sample until cancelled (``asyncio.create_task(sampler.run())``)."""
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(every_s)

    def memory(self, name: str) -> Dict[str, Any]:
        self.sample()
        process = self.group.processes.get(name)
        seen = self.peak_kb.get(name, {})
        main = seen.get(process.pid, 0) if process is not None else 0
        return {
            "pid": process.pid if process is not None else None,
            "processes": len(seen),
            "vmhwm_main_mb": main / 1024,
            "vmhwm_total_mb": sum(seen.values()) / 1024,
            "peak_rss_sampled_mb": self.peak_rss_kb.get(name, 0) / 1024,
        }


# ---------------------------------------------------------------------------- REST


async def send(session: Any, url: str, sender: str, message: str,
               metadata: Optional[Dict[str, Any]] = None,
               timeout_s: float = REQUEST_TIMEOUT_S) -> Tuple[float, Optional[List[Dict[str, Any]]], Optional[str]]:
    """One REST turn: (milliseconds, the assistant's messages, the problem if any:
    non-200, invalid JSON, empty reply, timeout or a transport error)."""
    import aiohttp

    body: Dict[str, Any] = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    start = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json=body,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            raw = await response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                return elapsed, None, f"HTTP {response.status}"
            try:
                reply = json.loads(raw)
            except ValueError:
                return elapsed, None, "invalid JSON"
            if not isinstance(reply, list) or not reply:
                return elapsed, reply if isinstance(reply, list) else None, "empty reply"
            return elapsed, reply, None
    except asyncio.TimeoutError:
        return (time.perf_counter() - start) * 1000, None, "timeout"
    except aiohttp.ClientError as error:
        return (time.perf_counter() - start) * 1000, None, type(error).__name__


def reply_text(reply: Optional[List[Dict[str, Any]]]) -> str:
    """The texts of a reply as one lower-case string (curly apostrophes made straight)."""
    return " ".join(str(m.get("text") or "") for m in reply or []).lower().replace("’", "'")


# ---------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between points; NaN when there are none."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * q / 100
    low, high = int(k), min(int(k) + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (k - low)


def latency_stats(values: Sequence[float]) -> Dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "mean_ms": statistics.fmean(values) if values else float("nan"),
        "max_ms": max(values) if values else float("nan"),
    }


# ---------------------------------------------------------------------------- reports


def nproc() -> int:
    return len(os.sched_getaffinity(0))


def loadavg() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine(loadavg_before: Sequence[float]) -> Dict[str, Any]:
    """The machine a run was measured on: these machines are noisy, the load average says how much."""
    return {"nproc": nproc(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_before": list(loadavg_before), "loadavg_after": loadavg()}


def machine_line(info: Dict[str, Any]) -> str:
    return (f"nproc={info['nproc']}, {info['platform']}, Python {info['python']}; load average (1/5/15 min) "
            f"before {info['loadavg_before']}, after {info['loadavg_after']}")


def now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def write_results(prefix: Path, report: Dict[str, Any], markdown: str) -> Tuple[Path, Path]:
    """``<prefix>.json`` and ``<prefix>.md``; the prefix is under bench/results/ by default."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = Path(f"{prefix}.json"), Path(f"{prefix}.md")
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown if markdown.endswith("\n") else markdown + "\n", encoding="utf-8")
    return md_path, json_path
