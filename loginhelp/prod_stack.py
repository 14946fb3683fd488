"""The production mode for tests and benchmarks: scripts/run_prod.sh with private ports, databases and Redis keys.

``ProdStack`` starts the real script (migrations, nginx, two Rasa replicas, two
action server replicas, the spool flusher) on free loopback ports, against two
throw-away PostgreSQL databases (tickets and tracker) and a private Redis key
prefix, and stops it with its whole process group. Individual servers are killed
through their pid files and kept down with the script's hold files.

``TcpProxy`` is a TCP forwarder that can be cut and restored: the action servers
reach PostgreSQL through it, so a test can make the database unreachable for
them without touching the shared server.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from loginhelp import settings
from loginhelp.servers import MODEL, REPO, free_port

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


# --------------------------------------------------------------------------------------
# A TCP proxy that can be cut
# --------------------------------------------------------------------------------------


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target; ``cut()`` refuses and drops connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.AbstractServer] = None
        self._writers: Set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)

    def start(self) -> "TcpProxy":
        self._thread.start()
        self.restore()
        return self

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers.update({client_writer, upstream_writer})
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer),
                                 self._pipe(upstream_reader, client_writer))
        finally:
            self._writers.difference_update({client_writer, upstream_writer})

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            if transport is not None:
                transport.abort()  # RST: the database "disappears"
        self._writers.clear()

    def cut(self) -> None:
        self._run(self._close())

    def restore(self) -> None:
        if self._server is None:
            self._run(self._listen())

    def stop(self) -> None:
        try:
            self.cut()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


# --------------------------------------------------------------------------------------
# Throw-away PostgreSQL databases and Redis keys
# --------------------------------------------------------------------------------------


class PostgresDatabases:
    """Two databases (tickets, tracker) with a random name, dropped at the end."""

    def __init__(self, admin_url: Optional[str] = None) -> None:
        self.admin_url = make_url(admin_url or settings.get("TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL)
        token = secrets.token_hex(4)
        self.tickets_name = f"lhprod_{token}"
        self.tracker_name = f"lhprod_{token}_tracker"
        self._admin: Optional[Engine] = None
        self._engines: Dict[str, Engine] = {}

    def create(self) -> "PostgresDatabases":
        """Fails with a readable message when PostgreSQL cannot be used (never skips)."""
        self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", future=True,
                                    connect_args={"connect_timeout": 5})
        try:
            with self._admin.connect() as conn:
                for name in (self.tickets_name, self.tracker_name):
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - a clear message for the test failure
            raise RuntimeError(
                f"PostgreSQL is not usable at {self.admin_url.render_as_string(hide_password=True)} "
                f"({exc.__class__.__name__}); start it or set TEST_POSTGRES_URL") from exc
        return self

    def url(self, name: str, host: Optional[str] = None, port: Optional[int] = None) -> str:
        url = self.admin_url.set(database=name)
        if host is not None:
            url = url.set(host=host)
        if port is not None:
            url = url.set(port=port)
        return url.render_as_string(hide_password=False)

    @property
    def tickets_url(self) -> str:
        return self.url(self.tickets_name)

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            self._engines[name] = create_engine(self.url(name), future=True, pool_size=2)
        return self._engines[name]

    def query(self, name: str, sql: str, **params: Any) -> List[Dict[str, Any]]:
        with self.engine(name).connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]

    def drop(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in (self.tickets_name, self.tracker_name):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


def redis_cleanup(db: int, prefix: str) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=db, socket_timeout=5)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


# --------------------------------------------------------------------------------------
# The stack
# --------------------------------------------------------------------------------------


class ProdStack:
    """scripts/run_prod.sh on private ports; servers are named nginx, rasa-N, action-N."""

    def __init__(self, workdir: Path, databases: PostgresDatabases, action_db_proxy: Optional[TcpProxy] = None,
                 extra_env: Optional[Dict[str, str]] = None, replicas: int = 2) -> None:
        self.workdir = workdir
        self.run_dir = workdir / "run"
        self.db = databases
        self.proxy = action_db_proxy
        self.lb_port = free_port()
        self.action_lb_port = free_port()
        self.rasa_ports = [free_port() for _ in range(replicas)]
        self.action_ports = [free_port() for _ in range(replicas)]
        self.redis_db = int(settings.get("TEST_REDIS_DB"))
        self.redis_prefix = f"lhtest{secrets.token_hex(4)}"
        admin = databases.admin_url
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "TRACKER_", "REDIS_", "PROD_", "ACTION_"))
               and k not in ("RASA_PORTS", "RASA_BIND", "MODEL", "NGINX_WORKERS", "NGINX_ACCESS_LOG")}
        env.pop("DATABASE_URL", None)
        env.pop("LOGINHELP_SPOOL_DIR", None)
        env.update({
            "PROD_ENV_FILE": "/dev/null",
            "PROD_RUN_DIR": str(self.run_dir),
            "PROD_PORT": str(self.lb_port),
            "RASA_PORTS": " ".join(map(str, self.rasa_ports)),
            "ACTION_PORTS": " ".join(map(str, self.action_ports)),
            "ACTION_LB_PORT": str(self.action_lb_port),
            "DATABASE_URL": databases.tickets_url + "?connect_timeout=5",
            # The action servers (and the spool flusher) reach the ticket database through the proxy.
            "ACTION_DATABASE_URL": (databases.url(databases.tickets_name, host="127.0.0.1",
                                                  port=action_db_proxy.port) if action_db_proxy
                                    else databases.tickets_url) + "?connect_timeout=3",
            "TRACKER_DB_HOST": admin.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(admin.port or 5432),
            "TRACKER_DB_USER": admin.username or "postgres",
            "TRACKER_DB_PASSWORD": admin.password or "",
            "TRACKER_DB_NAME": databases.tracker_name,
            "REDIS_DB": str(self.redis_db),
            "REDIS_KEY_PREFIX": self.redis_prefix,
            "NGINX_ACCESS_LOG": f"{self.run_dir}/log/nginx-access.log lb",
            "PROD_RESTART_DELAY": "1",
            "PROD_FAIL_TIMEOUT": "1s",
            "PROD_SPOOL_FLUSH_SECONDS": "2",
            "LOGINHELP_SPOOL_RETRY_SECONDS": "2",
            "LOGINHELP_VAR_DIR": str(workdir / "var"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(extra_env or {}),
        })
        self.env = env
        self.process: Optional[subprocess.Popen] = None
        self.log = workdir / "run_prod.log"

    # ---------------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        """The load balancer."""
        return f"http://127.0.0.1:{self.lb_port}"

    def replica_url(self, index: int) -> str:
        """Rasa replica ``index`` (1-based), bypassing the load balancer."""
        return f"http://127.0.0.1:{self.rasa_ports[index - 1]}"

    @property
    def spool_dir(self) -> Path:
        return self.run_dir / "spool"

    def health_url(self, name: str) -> str:
        kind, _, number = name.partition("-")
        if kind == "rasa":
            return self.replica_url(int(number)) + "/"
        if kind == "action":
            return f"http://127.0.0.1:{self.action_ports[int(number) - 1]}/health"
        return self.url + "/lb-health"

    @property
    def server_names(self) -> List[str]:
        names = ["nginx"]
        names += [f"action-{i + 1}" for i in range(len(self.action_ports))]
        names += [f"rasa-{i + 1}" for i in range(len(self.rasa_ports))]
        return names

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 420.0) -> "ProdStack":
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        handle = self.log.open("w")
        self.process = subprocess.Popen(["bash", "scripts/run_prod.sh"], cwd=REPO, env=self.env,
                                        stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"run_prod.sh exited with {self.process.returncode}:\n{self.tail()}")
            if (self.run_dir / "ready").exists():
                return self
            time.sleep(1)
        raise RuntimeError(f"run_prod.sh not ready within {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        out = self.log.read_text(errors="replace").splitlines()[-lines:] if self.log.exists() else []
        for log in sorted((self.run_dir / "log").glob("*.log")) if (self.run_dir / "log").exists() else []:
            out.append(f"--- {log.name}")
            out += log.read_text(errors="replace").splitlines()[-8:]
        return "\n".join(out)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    # ---------------------------------------------------------------- servers

    def pid(self, name: str) -> int:
        return int((self.run_dir / "pids" / f"{name}.pid").read_text().strip())

    def pids(self) -> Dict[str, int]:
        return {name: self.pid(name) for name in self.server_names}

    def restarts(self) -> int:
        """How many times the supervisor restarted a server so far."""
        return sum(log.read_text(errors="replace").count("restarting in")
                   for log in (self.run_dir / "log").glob("*.log"))

    def kill(self, name: str, hold: bool = True) -> None:
        """SIGKILL a server; with ``hold`` the supervisor keeps it down until ``release``."""
        if hold:
            (self.run_dir / "hold" / name).touch()
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def release(self, name: str) -> None:
        (self.run_dir / "hold" / name).unlink(missing_ok=True)

    def wait_up(self, names: Optional[Iterable[str]] = None, timeout: float = 300.0) -> None:
        waiting = list(names or self.server_names)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            waiting = [name for name in waiting if not http_ok(self.health_url(name))]
            if waiting:
                time.sleep(0.5)
        if waiting:
            raise AssertionError(f"not up within {timeout} s: {waiting}\n{self.tail()}")
        time.sleep(1.2)  # nginx tries a replica it marked failed again after PROD_FAIL_TIMEOUT

    def all_up(self) -> bool:
        return all(http_ok(self.health_url(name)) for name in self.server_names)

    # ---------------------------------------------------------------- conversations

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None,
             base: Optional[str] = None, timeout: float = 120.0) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(f"{base or self.url}/webhooks/rest/webhook", json=body, timeout=timeout)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return response.json()

    # ---------------------------------------------------------------- storage

    def events(self, sender: str) -> List[Dict[str, Any]]:
        rows = self.db.query(self.db.tracker_name,
                             "SELECT id, type_name, timestamp, data FROM events "
                             "WHERE sender_id = :sender ORDER BY id", sender=sender)
        for row in rows:
            row["data"] = json.loads(row["data"])
        return rows

    def tickets(self, conversation_id: Optional[str] = None) -> List[Dict[str, Any]]:
        sql = "SELECT reference, conversation_id, contact_email, description, status FROM tickets"
        if conversation_id is None:
            return self.db.query(self.db.tickets_name, sql + " ORDER BY id")
        return self.db.query(self.db.tickets_name, sql + " WHERE conversation_id = :c ORDER BY id",
                             c=conversation_id)


def texts(replies: List[Dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def buttons(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", []) or []]
