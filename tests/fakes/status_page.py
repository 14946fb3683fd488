"""A fake Statuspage-compatible status page on loopback, whose answer each test sets.

It serves ``GET /api/v2/summary.json`` from an aiohttp server running in its own
thread and event loop, so both the test process and a separate process (an action
server started by another test, given ``STATUS_PAGE_URL=<page.url>``) can reach it
at ``http://127.0.0.1:<free port>``. It counts the requests it gets, so tests can
see whether a client's cache worked.

Answers: :meth:`FakeStatusPage.serve` (a summary, e.g. from :func:`scenario`),
:meth:`FakeStatusPage.serve_raw` (malformed JSON, huge bodies), :meth:`FakeStatusPage.serve_error`
(a 500), and a ``delay`` on any of them (slower than the client's timeout). For a
page nobody answers on, :func:`closed_port_url`.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Optional

from aiohttp import web

SUMMARY_PATH = "/api/v2/summary.json"
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}


def iso(moment: datetime) -> str:
    """A timestamp the way Statuspage writes it (milliseconds and an offset)."""
    return moment.isoformat(timespec="milliseconds")


def component(name: str, status: str = "operational", group_id: Optional[str] = None) -> dict[str, Any]:
    return {"id": name.lower().replace(" ", "-"), "name": name, "status": status, "group": False,
            "group_id": group_id, "only_show_if_degraded": False, "description": None}


def group(name: str, members: Iterable[dict[str, Any]], status: str = "operational") -> list[dict[str, Any]]:
    """A group container and its members (with ``group_id`` set), as the summary lists them."""
    group_id = "group-" + name.lower().replace(" ", "-")
    children = [{**member, "group_id": group_id} for member in members]
    container = {"id": group_id, "name": name, "status": status, "group": True, "group_id": None,
                 "components": [c["id"] for c in children]}
    return [container, *children]


def incident(
    name: str,
    started_at: datetime,
    status: str = "investigating",
    impact: str = "major",
    components: Iterable[str] = (),
    body: str = "We are investigating reports of problems.",
) -> dict[str, Any]:
    return {
        "id": "inc-" + name.lower().replace(" ", "-")[:20], "name": name, "status": status, "impact": impact,
        "created_at": iso(started_at + timedelta(minutes=2)), "started_at": iso(started_at),
        "updated_at": iso(started_at + timedelta(minutes=5)), "monitoring_at": None, "resolved_at": None,
        "shortlink": "https://stspg.io/x", "page_id": "fakepage",
        "components": [component(c, "major_outage") for c in components],
        "incident_updates": [{"id": "upd-1", "status": status, "body": body,
                              "created_at": iso(started_at + timedelta(minutes=5)),
                              "display_at": iso(started_at + timedelta(minutes=5)), "affected_components": None}],
    }


def maintenance(name: str, starts: datetime, ends: datetime, status: str = "scheduled") -> dict[str, Any]:
    return {
        "id": "mnt-" + name.lower().replace(" ", "-")[:20], "name": name, "status": status, "impact": "maintenance",
        "scheduled_for": iso(starts), "scheduled_until": iso(ends), "created_at": iso(starts - timedelta(days=2)),
        "incident_updates": [], "components": [],
    }


def summary(
    indicator: str = "none",
    description: Optional[str] = None,
    components: Iterable[dict[str, Any]] = (),
    incidents: Iterable[dict[str, Any]] = (),
    maintenances: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A summary.json body in the Statuspage v2 shape."""
    return {
        "page": {"id": "fakepage", "name": "CoinEx", "url": "https://status.example.test",
                 "time_zone": "Etc/UTC", "updated_at": iso(datetime.now(timezone.utc))},
        "status": {"indicator": indicator, "description": DESCRIPTIONS.get(indicator, "") if description is None
                   else description},
        "components": list(components),
        "incidents": list(incidents),
        "scheduled_maintenances": list(maintenances),
    }


def _components(**statuses: str) -> list[dict[str, Any]]:
    names = {"login": "Login", "website": "Website", "app": "Mobile App", "deposits": "Deposits"}
    members = [component(names[key], statuses.get(key, "operational")) for key in ("login", "website", "app")]
    return [*group("Exchange", members), component("Deposits", statuses.get("deposits", "operational"))]


SCENARIOS = (
    "operational", "minor", "major", "critical", "login_degraded", "deposits_outage", "incident",
    "maintenance_in_progress", "maintenance_scheduled",
)


def scenario(name: str, now: Optional[datetime] = None) -> dict[str, Any]:
    """A named, realistic summary (see :data:`SCENARIOS`); times are relative to ``now``."""
    now = now or datetime.now(timezone.utc)
    if name == "operational":
        return summary("none", components=_components())
    if name in ("minor", "major", "critical"):
        status = {"minor": "degraded_performance", "major": "partial_outage", "critical": "major_outage"}[name]
        return summary(name, components=_components(login=status),
                       incidents=[incident("Login failures", now - timedelta(minutes=30), impact=name,
                                           components=["Login"])])
    if name == "login_degraded":
        return summary("minor", components=_components(login="degraded_performance"))
    if name == "deposits_outage":
        return summary("major", components=_components(deposits="major_outage"),
                       incidents=[incident("Delayed BTC deposits", now - timedelta(hours=1), status="identified",
                                           components=["Deposits"])])
    if name == "incident":
        return summary("major", components=_components(login="partial_outage"),
                       incidents=[incident("Users unable to sign in", now - timedelta(minutes=20))])
    if name == "maintenance_in_progress":
        return summary("maintenance", components=_components(login="under_maintenance"),
                       maintenances=[maintenance("Account system upgrade", now - timedelta(minutes=10),
                                                 now + timedelta(hours=1), status="in_progress")])
    if name == "maintenance_scheduled":
        return summary("none", components=_components(),
                       maintenances=[maintenance("Wallet maintenance", now + timedelta(hours=3),
                                                 now + timedelta(hours=5))])
    raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")


@dataclass(frozen=True)
class Answer:
    """What the page answers, after ``delay`` seconds; ``chunked`` sends no Content-Length."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    chunked: bool = False


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (a port just freed), for 'unreachable'."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeStatusPage:
    """The fake page; ``start()`` runs it in a daemon thread, ``stop()`` ends it (or use ``with``)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._answer = Answer(body=json.dumps(scenario("operational")).encode())
        self._requests = 0
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self._closing: Optional[asyncio.Event] = None

    # --- What it answers -------------------------------------------------------------

    def serve(self, data: Any, delay: float = 0.0) -> None:
        """Answer 200 with ``data`` as JSON."""
        self.respond(Answer(body=json.dumps(data).encode(), delay=delay))

    def serve_scenario(self, name: str, delay: float = 0.0) -> None:
        self.serve(scenario(name), delay)

    def serve_raw(self, body: bytes | str, status: int = 200, content_type: str = "application/json",
                  delay: float = 0.0, chunked: bool = False) -> None:
        """Answer exactly ``body`` (malformed JSON, a huge body, HTML)."""
        self.respond(Answer(status, body.encode() if isinstance(body, str) else body, content_type, delay, chunked))

    def serve_error(self, status: int = 500, delay: float = 0.0) -> None:
        self.serve_raw("<html><body>Internal Server Error</body></html>", status, "text/html", delay)

    def respond(self, answer: Answer) -> None:
        with self._lock:
            self._answer = answer

    # --- What it saw -----------------------------------------------------------------

    @property
    def requests(self) -> int:
        """Requests for the summary so far (counted on arrival, before any delay)."""
        with self._lock:
            return self._requests

    def reset_requests(self) -> None:
        with self._lock:
            self._requests = 0

    @property
    def url(self) -> str:
        """The page's base URL (what STATUS_PAGE_URL is set to)."""
        return f"http://127.0.0.1:{self.port}"

    # --- Lifecycle -------------------------------------------------------------------

    def start(self) -> "FakeStatusPage":
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:  # noqa: BLE001 - handed to the starting thread
                errors.append(error)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            assert self._runner is not None
            loop.run_until_complete(self._runner.cleanup())
            # Handlers the shutdown cancelled still need a turn of the loop to finish.
            leftover = asyncio.all_tasks(loop)
            for task in leftover:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-status-page", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake status page did not start within 10 s")
        if errors:
            raise errors[0]
        return self

    async def _serve(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_get(SUMMARY_PATH, self._summary)
        # A short shutdown timeout: stop() must not wait for a deliberately slow answer.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self._requests += 1
            answer = self._answer
        if answer.delay:
            assert self._closing is not None
            try:  # a slow answer, cut short when the page stops
                await asyncio.wait_for(self._closing.wait(), answer.delay)
            except asyncio.TimeoutError:
                pass
        if not answer.chunked:
            return web.Response(status=answer.status, body=answer.body, content_type=answer.content_type)
        response = web.StreamResponse(status=answer.status)
        response.content_type = answer.content_type
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(answer.body), 64 * 1024):
                await response.write(answer.body[start:start + 64 * 1024])
            await response.write_eof()
        except ConnectionResetError:
            pass  # a client that stops reading an oversized body hangs up
        return response

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            assert self._closing is not None
            self._loop.call_soon_threadsafe(self._closing.set)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "FakeStatusPage":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
