"""Start the real servers for end-to-end tests and benchmarks: one place for all of them.

``ServerGroup`` starts processes on loopback, each in its own session with its
log in ``<workdir>/logs/``, waits for their health URLs (failing with the log's
tail when a process dies first) and stops them with their children.
``RasaStack`` is the action server plus the Rasa server, started the way every
mode starts them (``python -m loginhelp.rasa_launch run``), with free ports and
its own SQLite tracker store and ticket database under ``workdir`` unless told
otherwise; the ticket database is migrated first with ``loginhelp db upgrade``.
tests/prod and ``make bench-load`` start ``scripts/run_prod.sh`` instead (loginhelp/prod_stack.py).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
MODEL = REPO / "models" / "loginhelp.tar.gz"
#: How every mode starts the Rasa server (loginhelp/rasa_launch.py): tests run the same entry point.
RASA_SERVER = [str(VENV_BIN / "python"), "-m", "loginhelp.rasa_launch"]
ACTION_SERVER = [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions"]
#: The one migration path, run before the servers start as scripts/run.sh does (the action server never migrates).
DB_UPGRADE = [str(VENV_BIN / "python"), "-m", "loginhelp.cli", "db", "upgrade"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_status_kb(pid: int) -> Dict[str, int]:
    """VmHWM (peak) and VmRSS (now) of a process in kB, from /proc; empty when it is gone."""
    out: Dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def descendants(pid: int) -> List[int]:
    """Every descendant of ``pid`` (Rasa's servers fork workers: their memory counts too)."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def peak_memory_mb(pid: int) -> Dict[str, float]:
    """Peak resident memory of a process, alone and with its descendants, in MB."""
    own = process_status_kb(pid).get("VmHWM", 0)
    children = sum(process_status_kb(child).get("VmHWM", 0) for child in descendants(pid))
    return {"vmhwm_mb": round(own / 1024, 1), "vmhwm_with_children_mb": round((own + children) / 1024, 1)}


def http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


class ServerFailed(RuntimeError):
    """A server exited or did not come up; the message carries the end of its log."""


class ServerGroup:
    """Processes of one test fixture, stopped together."""

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                    "RASA_TELEMETRY_ENABLED": "false", **(env or {})}
        self.processes: Dict[str, subprocess.Popen] = {}
        self.started: Dict[str, float] = {}  # name -> time.monotonic() at spawn
        self.ready_seconds: Dict[str, float] = {}  # name -> seconds from spawn to healthy
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    def log(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def spawn(self, name: str, command: Sequence[str], cwd: Path = REPO) -> subprocess.Popen:
        with self.log(name).open("wb") as handle:
            process = subprocess.Popen(list(command), cwd=cwd, env=self.env, stdout=handle,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes[name] = process
        self.started[name] = time.monotonic()
        return process

    def wait_http(self, url: str, timeout: float = 240.0, name: Optional[str] = None) -> None:
        """Until ``url`` answers 200; a process of the group exiting first is a ServerFailed.
        With ``name``, how long that server took to come up is kept in ``ready_seconds``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for other, process in self.processes.items():
                if process.poll() is not None:
                    raise ServerFailed(f"{other} exited ({process.returncode}):\n{self.tail(other)}")
            if http_status(url) == 200:
                if name is not None:
                    self.ready_seconds[name] = time.monotonic() - self.started.get(name, time.monotonic())
                return
            time.sleep(0.5)
        raise ServerFailed(f"{url} did not come up within {timeout:.0f} s:\n"
                           + "\n".join(f"--- {name}\n{self.tail(name)}" for name in self.processes))

    def tail(self, name: str, size: int = 3000) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)  # its own session: the process and its children
                except ProcessLookupError:
                    pass
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.processes.clear()


class RasaStack(ServerGroup):
    """An action server and a Rasa server (every channel of credentials.yml) on loopback."""

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None,
                 tracker_store: Optional[Dict[str, Any]] = None, rasa_args: Sequence[str] = (),
                 model: Path = MODEL) -> None:
        super().__init__(workdir, {"DATABASE_URL": f"sqlite:///{workdir / 'loginhelp.db'}",
                                   "LOGINHELP_VAR_DIR": str(workdir / "var"), **(env or {})})
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.tracker_store = tracker_store or {"type": "SQL", "dialect": "sqlite",
                                               "db": str(workdir / "tracker.db")}
        self.rasa_args = list(rasa_args)
        self.model = model

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def start(self, timeout: float = 240.0) -> "RasaStack":
        if not self.model.exists():
            raise ServerFailed(f"{self.model} is missing: run `make train` first")
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(json.dumps({
            "action_endpoint": {"url": f"{self.action_url}/webhook"},
            "tracker_store": self.tracker_store,
        }))
        with self.log("db-upgrade").open("wb") as handle:
            migrated = subprocess.run(DB_UPGRADE, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        if migrated.returncode != 0:
            raise ServerFailed(f"loginhelp db upgrade failed:\n{self.tail('db-upgrade')}")
        try:
            self.spawn("actions", [*ACTION_SERVER, "--port", str(self.action_port)])
            self.spawn("rasa", [*RASA_SERVER, "run", "--model", str(self.model), "--port", str(self.rasa_port),
                                "--credentials", str(REPO / "credentials.yml"), "--endpoints", str(endpoints),
                                *self.rasa_args])
            self.wait_http(f"{self.action_url}/health", timeout, name="actions")
            self.wait_http(f"{self.url}/", timeout, name="rasa")
        except BaseException:
            self.stop()
            raise
        return self

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """One REST turn: the assistant's messages in order."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
