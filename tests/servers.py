"""Start the real action server and Rasa server for end-to-end tests.

Each stack gets free ports, its own SQLite tracker store and ticket database in
a temporary folder, and is stopped (with its children) when the test ends.
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
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
MODEL = REPO / "models" / "loginhelp.tar.gz"
#: How every mode starts the Rasa server (loginhelp/rasa_launch.py): tests run the same entry point.
RASA_SERVER = [str(VENV_BIN / "python"), "-m", "loginhelp.rasa_launch"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except (urllib.error.URLError, OSError):
        return 0


class RasaStack:
    """An action server and a Rasa server (REST + socket.io) on loopback."""

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None,
                 tracker_store: Optional[Dict[str, Any]] = None) -> None:
        self.workdir = workdir
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                    "DATABASE_URL": f"sqlite:///{workdir / 'loginhelp.db'}",
                    "LOGINHELP_VAR_DIR": str(workdir / "var"), **(env or {})}
        self.tracker_store = tracker_store or {"type": "SQL", "dialect": "sqlite",
                                               "db": str(workdir / "tracker.db")}
        self.processes: List[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self, timeout: float = 240.0) -> "RasaStack":
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(json.dumps({
            "action_endpoint": {"url": f"http://127.0.0.1:{self.action_port}/webhook"},
            "tracker_store": self.tracker_store,
        }))
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        self._spawn([str(VENV_BIN / "rasa"), "run", "actions", "--port", str(self.action_port),
                     "--actions", "actions"], logs / "actions.log")
        self._spawn([*RASA_SERVER, "run", "--model", str(MODEL), "--port", str(self.rasa_port),
                     "--credentials", str(REPO / "credentials.yml"), "--endpoints", str(endpoints)],
                    logs / "rasa.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"a server exited early; see {logs}")
            if _get(f"{self.url}/") == 200 and _get(f"http://127.0.0.1:{self.action_port}/health") == 200:
                return self
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"servers did not start within {timeout} s; see {logs}")

    def _spawn(self, command: List[str], log: Path) -> None:
        handle = log.open("w")
        self.processes.append(subprocess.Popen(command, cwd=REPO, env=self.env, stdout=handle,
                                               stderr=subprocess.STDOUT, start_new_session=True))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """One REST turn: the assistant's messages in order."""
        body = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
