"""What the exchange's public status page says right now, for the assistant's outage branch.

A customer who cannot log in during an outage should hear about the outage, not be
walked through password resets. The page is read in the Atlassian Statuspage v2
format (``GET <STATUS_PAGE_URL>/api/v2/summary.json``), which many status-page
products also serve.

Why it is built this way:

* The action server asks from many conversations at once, so one answer is reused
  for ``STATUS_PAGE_CACHE_SECONDS`` and callers that arrive while a fetch is in
  flight wait for that fetch instead of starting their own.
* The status page is least reliable exactly when it matters, so :meth:`StatusPageClient.current`
  never raises: it returns a :class:`StatusCheck` saying either what the page reports
  or why it could not tell (``unreachable``, ``timeout``, ``bad_response``). A failure
  is remembered for a few seconds so a dead status page is not hammered.
* The page is someone else's JSON: every field is checked before use, and the body
  is capped, so a broken or hostile page yields ``bad_response``, never an exception.

Replies to customers are worded by the actions; this module only gives facts and
:func:`format_utc` / :func:`incident_since` for times.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Literal, Mapping, Optional

import aiohttp

from loginhelp import settings

logger = logging.getLogger(__name__)

SUMMARY_PATH = "/api/v2/summary.json"
#: The documented indicators, and ``maintenance``, which live Statuspage pages send while one is under way.
INDICATORS = ("none", "minor", "major", "critical", "maintenance")
#: Incident statuses that mean the incident is still open (the summary lists only those, but is not trusted to).
OPEN_INCIDENT_STATUSES = ("investigating", "identified", "monitoring")
MAINTENANCE_IN_PROGRESS = ("in_progress", "verifying")
#: How far ahead a scheduled maintenance is worth mentioning.
UPCOMING_WINDOW = timedelta(hours=24)
#: Words in an incident's or component's name that mean customers may be unable to log in.
LOGIN_TERMS = (
    "login", "log in", "log-in", "sign in", "sign-in", "signin", "account", "authentication", "auth",
    "2fa", "two-factor", "two factor", "website", "app", "api",
)
_LOGIN_PATTERN = re.compile(
    r"\b(?:" + "|".join(re.escape(term).replace(r"\ ", r"\s+") for term in LOGIN_TERMS) + r")s?\b",
    re.IGNORECASE,
)
#: Largest body read from the page; a summary is a few kilobytes.
MAX_BODY_BYTES = 1_000_000
#: How long a failed check is reused (capped by the client's cache time).
FAILURE_CACHE_SECONDS = 10.0

FailureKind = Literal["unreachable", "timeout", "bad_response"]


def mentions_login(name: str) -> bool:
    """Whether ``name`` (of an incident, component or maintenance) names something a login depends on."""
    return bool(_LOGIN_PATTERN.search(name))


@dataclass(frozen=True)
class Incident:
    """An unresolved incident. ``components`` are the names the page attaches to it, when it does."""

    name: str
    impact: str
    status: str
    started_at: Optional[datetime]
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class Maintenance:
    """A maintenance in progress or starting within :data:`UPCOMING_WINDOW`."""

    name: str
    starts: Optional[datetime]
    ends: Optional[datetime]
    in_progress: bool


@dataclass(frozen=True)
class StatusReport:
    """What the page said. ``affected_components``: components not operational, groups left out."""

    indicator: str
    description: str
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Maintenance, ...] = ()
    affected_components: tuple[str, ...] = ()

    @property
    def maintenance_in_progress(self) -> bool:
        return any(m.in_progress for m in self.maintenances)

    @property
    def all_clear(self) -> bool:
        """Nothing that could explain a failed login: indicator none, no incident, no maintenance under way."""
        return self.indicator == "none" and not self.incidents and not self.maintenance_in_progress

    @property
    def login_incident(self) -> Optional[Incident]:
        """The first open incident whose name or components name login-related things."""
        return next((i for i in self.incidents if any(mentions_login(n) for n in (i.name, *i.components))), None)

    @property
    def login_affected(self) -> bool:
        """An open incident, a component not operational or a maintenance under way names login-related things."""
        names = [*self.affected_components, *(m.name for m in self.maintenances if m.in_progress)]
        return self.login_incident is not None or any(mentions_login(name) for name in names)


@dataclass(frozen=True)
class StatusCheck:
    """The outcome of asking the page: a report, or the kind of failure and a detail for the logs."""

    report: Optional[StatusReport] = None
    failure: Optional[FailureKind] = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.report is not None

    @classmethod
    def of(cls, report: StatusReport) -> "StatusCheck":
        return cls(report=report)

    @classmethod
    def failed(cls, kind: FailureKind, detail: str) -> "StatusCheck":
        return cls(failure=kind, detail=detail)


class BadSummary(ValueError):
    """The page answered with JSON that is not a Statuspage summary."""


# --- Parsing -----------------------------------------------------------------------------

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable.

    Python 3.10's ``fromisoformat`` rejects ``Z`` and fractions other than 3 or 6 digits,
    both of which status pages send.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _text(value: Any, default: str = "") -> str:
    return value.strip() if isinstance(value, str) else default


def _entries(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects of list ``key``: absent is empty, another type is a bad summary, odd entries are skipped."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadSummary(f"{key} is not a list")
    return [entry for entry in value if isinstance(entry, dict)]


def _affected_components(data: Mapping[str, Any]) -> tuple[str, ...]:
    names = []
    for component in _entries(data, "components"):
        name, status = _text(component.get("name")), component.get("status")
        is_group = component.get("group") is True or isinstance(component.get("components"), list)
        if name and isinstance(status, str) and status != "operational" and not is_group:
            names.append(name)
    return tuple(names)


def _incidents(data: Mapping[str, Any]) -> tuple[Incident, ...]:
    found = []
    for entry in _entries(data, "incidents"):
        name, status = _text(entry.get("name")), _text(entry.get("status"))
        if not name or status not in OPEN_INCIDENT_STATUSES:
            continue
        components = entry.get("components")
        found.append(Incident(
            name=name,
            impact=_text(entry.get("impact"), "none"),
            status=status,
            started_at=parse_time(entry.get("started_at")) or parse_time(entry.get("created_at")),
            components=tuple(
                _text(c.get("name")) for c in (components if isinstance(components, list) else [])
                if isinstance(c, dict) and _text(c.get("name"))
            ),
        ))
    return tuple(found)


def _maintenances(data: Mapping[str, Any], now: datetime) -> tuple[Maintenance, ...]:
    found = []
    for entry in _entries(data, "scheduled_maintenances"):
        name, status = _text(entry.get("name")), _text(entry.get("status"))
        starts, ends = parse_time(entry.get("scheduled_for")), parse_time(entry.get("scheduled_until"))
        if not name:
            continue
        if status in MAINTENANCE_IN_PROGRESS:
            found.append(Maintenance(name, starts, ends, in_progress=True))
        elif status == "scheduled" and starts is not None and starts <= now + UPCOMING_WINDOW:
            if ends is None or ends > now:
                found.append(Maintenance(name, starts, ends, in_progress=False))
    far = datetime.max.replace(tzinfo=timezone.utc)
    return tuple(sorted(found, key=lambda m: (not m.in_progress, m.starts or far)))


def parse_summary(data: Any, now: Optional[datetime] = None) -> StatusReport:
    """The report in a decoded summary.json; :class:`BadSummary` when it has no usable ``status.indicator``
    or a list field of another type. ``now`` decides which scheduled maintenances are near."""
    now = now or datetime.now(timezone.utc)
    if not isinstance(data, dict):
        raise BadSummary("the summary is not a JSON object")
    status = data.get("status")
    if not isinstance(status, dict):
        raise BadSummary("status is missing")
    indicator = status.get("indicator")
    if indicator not in INDICATORS:
        raise BadSummary(f"status.indicator is {indicator!r}, not one of {', '.join(INDICATORS)}")
    return StatusReport(
        indicator=indicator,
        description=_text(status.get("description")),
        incidents=_incidents(data),
        maintenances=_maintenances(data, now),
        affected_components=_affected_components(data),
    )


# --- Times -------------------------------------------------------------------------------


def format_utc(moment: datetime, now: Optional[datetime] = None) -> str:
    """``14:05 UTC`` today, ``3 Dec 14:05 UTC`` another day, ``3 Dec 2024 14:05 UTC`` another year."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    clock = f"{moment:%H:%M} UTC"
    if moment.date() == now.date():
        return clock
    day = f"{moment.day} {moment:%b}" + ("" if moment.year == now.year else f" {moment.year}")
    return f"{day} {clock}"


def incident_since(incident: Incident, now: Optional[datetime] = None) -> str:
    """When ``incident`` started, as :func:`format_utc` writes it; empty when the page did not say."""
    return format_utc(incident.started_at, now) if incident.started_at else ""


# --- Client ------------------------------------------------------------------------------


class StatusPageClient:
    """Reads one status page, with a cache shared by every caller of this object."""

    def __init__(
        self,
        url: str,
        timeout: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        failure_cache_seconds: float = FAILURE_CACHE_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.summary_url = url.rstrip("/") + SUMMARY_PATH
        self.timeout = timeout
        self.cache_seconds = max(0.0, cache_seconds)
        self.failure_cache_seconds = min(self.cache_seconds, max(0.0, failure_cache_seconds))
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._cached: Optional[StatusCheck] = None
        self._expires = 0.0
        self._inflight: Optional[asyncio.Task[StatusCheck]] = None

    @classmethod
    def from_settings(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["StatusPageClient"]:
        """A client for ``STATUS_PAGE_URL``, or None when it is unset (no status page to ask)."""
        url = settings.get("STATUS_PAGE_URL", environ)
        if url is None:
            return None
        return cls(
            url,
            timeout=settings.get("STATUS_PAGE_TIMEOUT_SECONDS", environ),
            cache_seconds=settings.get("STATUS_PAGE_CACHE_SECONDS", environ),
        )

    def cached(self) -> Optional[StatusCheck]:
        """The remembered answer while it is fresh, without asking the page."""
        if self._cached is not None and self._clock() < self._expires:
            return self._cached
        return None

    async def current(self) -> StatusCheck:
        """What the page says, from the cache when fresh; concurrent callers share one fetch. Never raises
        (except when the caller itself is cancelled)."""
        fresh = self.cached()
        if fresh is not None:
            return fresh
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._inflight = loop.create_task(self._refresh())
        # Shielded: a caller that gives up must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    async def _refresh(self) -> StatusCheck:
        check = await self._fetch()
        self._cached = check
        self._expires = self._clock() + (self.cache_seconds if check.ok else self.failure_cache_seconds)
        if not check.ok:
            logger.warning("Status page %s: %s (%s)", self.summary_url, check.failure, check.detail)
        return check

    async def _fetch(self) -> StatusCheck:
        # One session per fetch: fetches are at most one per cache period, and a session that lives no
        # longer than the request cannot be left unclosed or outlive the event loop it is bound to.
        try:
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Accept": "application/json", "User-Agent": "loginhelp-status/1"},
            ) as session:
                async with session.get(self.summary_url) as response:
                    if response.status != 200:
                        return StatusCheck.failed("bad_response", f"HTTP {response.status}")
                    body = await self._read_capped(response)
        except asyncio.TimeoutError:
            return StatusCheck.failed("timeout", f"no answer within {self.timeout:g} s")
        except (aiohttp.ClientConnectionError, OSError) as exc:
            return StatusCheck.failed("unreachable", f"{type(exc).__name__}: {exc}")
        except aiohttp.ClientError as exc:
            return StatusCheck.failed("bad_response", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # never raise to the conversation; the log keeps the traceback
            logger.exception("Status page %s: unexpected error", self.summary_url)
            return StatusCheck.failed("bad_response", f"{type(exc).__name__}: {exc}")
        if body is None:
            return StatusCheck.failed("bad_response", f"body larger than {self.max_body_bytes} bytes")
        try:
            return StatusCheck.of(parse_summary(json.loads(body)))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError and BadSummary are ValueErrors
            return StatusCheck.failed("bad_response", f"{type(exc).__name__}: {exc}")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> Optional[bytes]:
        """The body, or None when it is over the cap (read no further than the cap)."""
        if response.content_length is not None and response.content_length > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


@functools.lru_cache(maxsize=1)
def shared_client() -> Optional[StatusPageClient]:
    """The process's client (None when ``STATUS_PAGE_URL`` is unset), so every conversation shares its cache.

    It holds no connection between fetches, so it is safe from any event loop; ``shared_client.cache_clear()``
    forgets it (tests that change the settings).
    """
    return StatusPageClient.from_settings()
