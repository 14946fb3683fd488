"""Every environment variable the project reads: its type, default and meaning, in one table.

Why one place: a deployer needs one list of what can be set (the README's table is
generated from :data:`SETTINGS` and a test keeps them equal), and one policy for a
bad value: ``loginhelp settings check`` runs before any server starts (``make
run``, ``make run-prod``) and stops with every problem named, instead of one
module ignoring the value, another logging a warning and a third crashing later.
Code reads a value with :func:`get`, which applies the default and raises
:class:`SettingsError` for a bad value.

``make run-prod`` takes its defaults from here too (``loginhelp settings export
--mode prod`` prints them as shell assignments), so a default is written once.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

MODES = ("run", "prod")
_REFERENCE = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


class SettingsError(ValueError):
    """A value in the environment the project cannot use; the message names the variable and what it expects."""


def _text(raw: str) -> str:
    return raw


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("is not a whole number") from None


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("is not a finite number")
    return value


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("is not one of 1/true/yes/on or 0/false/no/off")


def _port(raw: str) -> int:
    value = _int(raw)
    if not 1 <= value <= 65535:
        raise ValueError("is not a TCP port (1-65535)")
    return value


def _ports(raw: str) -> Tuple[int, ...]:
    parts = raw.split()
    if not parts:
        raise ValueError("lists no ports")
    return tuple(_port(p) for p in parts)


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _http_url(raw: str) -> str:
    if not re.match(r"^https?://[^\s/]+", raw):
        raise ValueError("is not an http(s) URL")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    # Hosting platforms hand out postgres:// which SQLAlchemy 1.4 rejects.
    if raw.startswith("postgres://"):
        raw = "postgresql+psycopg2://" + raw[len("postgres://"):]
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(raw)
    except ArgumentError:
        raise ValueError("is not a database URL (e.g. postgresql+psycopg2://user@host/db or sqlite:///path)") from None
    return raw


def _shaped(pattern: str, problem: str) -> Callable[[str], str]:
    """A parser that passes a value of the shape ``pattern`` on as written."""
    shape = re.compile(pattern)

    def parse(raw: str) -> str:
        if not shape.fullmatch(raw):
            raise ValueError(problem)
        return raw

    return parse


# nginx's time and size syntax (``30s``, ``500ms``, ``1m``), passed to nginx as written.
_duration = _shaped(r"\d+(ms|s|m|h)?", "is not a duration such as 30s, 500ms or 1m")
_size = _shaped(r"\d+[kKmMgG]?", "is not a size such as 1m or 512k")
_alphanumeric = _shaped(r"[A-Za-z0-9]+", "must be letters and digits only (Rasa ignores any other prefix)")
_secret_token = _shaped(r"[A-Za-z0-9_-]{1,256}", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
_bot_token = _shaped(r"\d+:[A-Za-z0-9_-]{20,}", "is not a bot token (expected <digits>:<secret> from @BotFather)")


def _plain_text(raw: str) -> str:
    if re.search(r"[\"'\\$]", raw):
        raise ValueError("must not contain quotes, backslashes or $")
    return raw


def _username(raw: str) -> str:
    return raw.lstrip("@")


#: Parser per kind, and the words the README uses for it.
KINDS: Dict[str, Tuple[Callable[[str], Any], str]] = {
    "text": (_text, "text"),
    "plain_text": (_plain_text, "text without quotes, backslashes or $"),
    "int": (_int, "whole number"),
    "number": (_number, "number"),
    "flag": (_flag, "1/0, true/false, yes/no, on/off"),
    "port": (_port, "TCP port"),
    "ports": (_ports, "TCP ports, space-separated"),
    "path": (_path, "path"),
    "http_url": (_http_url, "http(s) URL"),
    "database_url": (_database_url, "SQLAlchemy database URL"),
    "duration": (_duration, "nginx duration (30s, 500ms)"),
    "size": (_size, "nginx size (1m, 512k)"),
    "alphanumeric": (_alphanumeric, "letters and digits"),
    "secret_token": (_secret_token, "1-256 of A-Z a-z 0-9 _ -"),
    "bot_token": (_bot_token, "Telegram bot token"),
    "username": (_username, "Telegram username"),
}


@dataclass(frozen=True)
class Setting:
    """One environment variable. ``default`` is written as in the environment; ``{NAME}`` in it
    is replaced by that setting's value; ``prod`` overrides the default under ``make run-prod``."""

    name: str
    kind: str
    default: Optional[str]
    help: str
    group: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    prod: Optional[str] = None
    secret: bool = False
    #: Exported to the servers by ``make run-prod`` (read by Python code or by Rasa's endpoints file).
    exported: bool = True

    def default_for(self, mode: str) -> Optional[str]:
        return self.prod if mode == "prod" and self.prod is not None else self.default


S = Setting
SETTINGS: Tuple[Setting, ...] = (
    # --- Storage ---------------------------------------------------------------------------
    S("DATABASE_URL", "database_url", None,
      "The ticket and console database (Alembic-migrated). Unset: a SQLite file in the var directory.",
      "Storage", prod="postgresql+psycopg2://postgres@127.0.0.1:5432/loginhelp?connect_timeout=5"),
    S("ACTION_DATABASE_URL", "database_url", "{DATABASE_URL}",
      "How the action servers reach the ticket database (another URL only through a pooler).", "Storage",
      exported=False),
    S("TRACKER_DATABASE_URL", "database_url", None,
      "The tracker store the console reads. Unset: var/tracker.db, the SQLite file endpoints.yml gives Rasa.",
      "Storage"),
    S("TRACKER_DB_HOST", "text", "127.0.0.1", "PostgreSQL host of Rasa's tracker store (deploy/endpoints.prod.yml).",
      "Storage"),
    S("TRACKER_DB_PORT", "port", "5432", "Port of the tracker store's PostgreSQL.", "Storage"),
    S("TRACKER_DB_USER", "text", "postgres", "User of the tracker store.", "Storage"),
    S("TRACKER_DB_PASSWORD", "text", "", "Password of the tracker store's user.", "Storage", secret=True),
    S("TRACKER_DB_NAME", "text", "loginhelp_tracker", "Database of the tracker store.", "Storage"),
    S("LOGINHELP_VAR_DIR", "path", None, "Run-time state (SQLite files, console key, logs). Unset: <repo>/var.",
      "Storage"),
    S("LOGINHELP_SPOOL_DIR", "path", None,
      "Where tickets wait while the database is down. Unset: <var>/spool/tickets.", "Storage",
      prod="{PROD_RUN_DIR}/spool"),
    S("LOGINHELP_DB_THREADS", "int", "4", "Threads of the action server that talk to the ticket database.",
      "Storage", minimum=1, maximum=64),
    S("LOGINHELP_SPOOL_RETRY_SECONDS", "number", "30",
      "After a failed flush of the spool, how long before a ticket action tries again.", "Storage",
      minimum=0, maximum=3600),
    # --- Redis -----------------------------------------------------------------------------
    S("REDIS_HOST", "text", None, "Redis of the lock store and the Telegram replicas' shared state. Unset: none.",
      "Redis", prod="127.0.0.1"),
    S("REDIS_PORT", "port", "6379", "Port of that Redis.", "Redis"),
    S("REDIS_DB", "int", "1", "Database number in that Redis.", "Redis", minimum=0, maximum=15),
    S("REDIS_PASSWORD", "text", "", "Password of that Redis.", "Redis", secret=True),
    S("REDIS_KEY_PREFIX", "alphanumeric", "loginhelp", "Keeps this deployment's keys apart in a shared Redis.",
      "Redis"),
    # --- Console ---------------------------------------------------------------------------
    S("CONSOLE_HOST", "text", "127.0.0.1", "Where the agent console listens.", "Console"),
    S("CONSOLE_PORT", "port", "8000", "Port of the agent console.", "Console"),
    S("CONSOLE_SECRET_KEY", "text", None,
      "Signs console sessions. Unset: a random key kept in the var directory (replicas on several hosts must share one).",
      "Console", secret=True),
    S("CONSOLE_COOKIE_SECURE", "flag", "0", "Send the session cookie over HTTPS only (set it behind TLS).", "Console"),
    S("CONSOLE_TRUSTED_PROXIES", "int", "0", "How many reverse proxies set X-Forwarded-For.", "Console",
      minimum=0, maximum=10),
    S("CONSOLE_SESSION_HOURS", "int", "12", "How long an agent stays signed in.", "Console", minimum=1, maximum=24 * 30),
    # --- Live handoff ----------------------------------------------------------------------
    S("LOGINHELP_LIVE_WAIT_SECONDS", "number", "300",
      "How long a customer waits for a support agent before the assistant offers the ticket (Telegram: since their "
      "last message); a customer who left the page is dropped from the queue after it too.", "Live handoff",
      minimum=10, maximum=86400),
    # --- Telegram --------------------------------------------------------------------------
    S("TELEGRAM_TOKEN", "bot_token", None, "The bot's token from @BotFather. Unset: the Telegram channel is off.",
      "Telegram", secret=True),
    S("TELEGRAM_BOT_USERNAME", "username", None, "The bot's username (mentions in groups).", "Telegram"),
    S("TELEGRAM_WEBHOOK_URL", "http_url", None,
      "The public URL Telegram posts updates to. Unset: the webhook is not registered.", "Telegram"),
    S("TELEGRAM_SECRET_TOKEN", "secret_token", None,
      "The webhook's secret header. Unset: derived from the bot token.", "Telegram", secret=True),
    S("TELEGRAM_API_BASE", "http_url", "https://api.telegram.org", "The Bot API (a local fake in tests).", "Telegram"),
    S("TELEGRAM_WEBHOOK_RETRY_SECONDS", "number", "5", "Wait before registering the webhook again after a failure.",
      "Telegram", minimum=0.2, maximum=300),
    # --- Live facts ------------------------------------------------------------------------
    S("STATUS_PAGE_URL", "http_url", None,
      "A Statuspage-compatible status page (its /api/v2/summary.json is read). Unset: customers are asked to check it.",
      "Live facts"),
    S("STATUS_PAGE_TIMEOUT_SECONDS", "number", "2", "How long to wait for the status page.", "Live facts",
      minimum=0.1, maximum=30),
    S("STATUS_PAGE_CACHE_SECONDS", "number", "60", "How long an answer of the status page is reused.", "Live facts",
      minimum=0, maximum=3600),
    # --- Tests and benchmarks --------------------------------------------------------------
    S("TEST_POSTGRES_URL", "database_url", None,
      "The PostgreSQL server tests and benchmarks create their databases on. Unset: postgres@127.0.0.1:5432.",
      "Tests and benchmarks", exported=False),
    S("TEST_REDIS_DB", "int", "13", "The Redis database tests and benchmarks may empty.", "Tests and benchmarks",
      minimum=0, maximum=15, exported=False),
    # --- Embedded mode (make run) ----------------------------------------------------------
    S("RASA_PORT", "port", "5005", "Rasa server (REST, socket.io, Telegram webhook).", "make run", exported=False),
    S("ACTION_PORT", "port", "5055", "Action server.", "make run", exported=False),
    S("WEB_PORT", "port", "8080", "Demo page with the chat widget.", "make run", exported=False),
    # --- Production mode (make run-prod) ---------------------------------------------------
    S("PROD_ENV_FILE", "path", "var/prod.env", "A file of NAME=value lines sourced first (secrets stay out of git).",
      "make run-prod", exported=False),
    S("PROD_HOST", "text", "127.0.0.1", "Where the load balancer listens (0.0.0.0 to expose it).", "make run-prod",
      exported=False),
    S("PROD_PORT", "port", "8005", "The load balancer: REST, socket.io and the Telegram webhook.", "make run-prod",
      exported=False),
    S("RASA_PORTS", "ports", "5011 5012", "One Rasa server replica per port.", "make run-prod", exported=False),
    S("ACTION_PORTS", "ports", "5061 5062", "One action server replica per port.", "make run-prod", exported=False),
    S("ACTION_LB_HOST", "text", "127.0.0.1", "Where nginx serves the action servers to Rasa.", "make run-prod",
      exported=False),
    S("ACTION_LB_PORT", "port", "5060", "Port nginx serves the action servers on.", "make run-prod", exported=False),
    S("RASA_BIND", "text", "127.0.0.1", "Where the replicas listen (reached through nginx only).", "make run-prod",
      exported=False),
    S("MODEL", "path", "models/loginhelp.tar.gz", "The trained model the replicas load.", "make run-prod",
      exported=False),
    S("PROD_RUN_DIR", "path", "var/prod", "Logs, pids, the rendered nginx.conf and the ticket spool.", "make run-prod",
      exported=False),
    S("PROD_CORS", "text", "*", "Origins allowed to call the Rasa servers.", "make run-prod", exported=False),
    S("PROD_MAX_BODY", "size", "1m", "Largest request nginx accepts.", "make run-prod", exported=False),
    S("ACTION_TIMEOUT", "duration", "30s", "An action call that takes longer gets the apology.", "make run-prod",
      exported=False),
    S("ACTION_APOLOGY", "plain_text",
      "Sorry, something went wrong on my side and I could not finish that. Please send your last message again in a minute.",
      "What the customer reads when no action server answers.", "make run-prod", exported=False),
    S("PROD_FAIL_TIMEOUT", "duration", "2s", "A replica that refused a connection is skipped this long.",
      "make run-prod", exported=False),
    S("NGINX_WORKERS", "int", "1", "nginx worker processes.", "make run-prod", minimum=1, maximum=64, exported=False),
    S("NGINX_ACCESS_LOG", "text", "off", "nginx access log: off, or a file and format.", "make run-prod",
      exported=False),
    S("PROD_RESTART_DELAY", "number", "2", "Seconds before a dead server is started again.", "make run-prod",
      minimum=0, maximum=600, exported=False),
    S("PROD_SPOOL_FLUSH_SECONDS", "number", "30", "How often spooled tickets are retried.", "make run-prod",
      minimum=1, maximum=3600, exported=False),
    S("PROD_READY_TIMEOUT", "number", "600", "How long start-up waits for every server to answer.", "make run-prod",
      minimum=1, maximum=7200, exported=False),
)
del S

BY_NAME: Dict[str, Setting] = {s.name: s for s in SETTINGS}


def _check_bounds(setting: Setting, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"is below {setting.minimum:g}")
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(f"is above {setting.maximum:g}")


def given(name: str, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """What the environment says for ``name`` as written (stripped), None when unset or blank;
    for values another source can override (credentials.yml), parsed by the caller."""
    BY_NAME[name]  # only names of the table
    value = (os.environ if environ is None else environ).get(name)
    return value.strip() or None if value is not None else None


def _raw(setting: Setting, environ: Mapping[str, str], mode: str, seen: Tuple[str, ...] = ()) -> Optional[str]:
    written = given(setting.name, environ)
    if written is not None:
        return written
    default = setting.default_for(mode)
    if default is None:
        return None
    if setting.name in seen:
        raise SettingsError(f"{setting.name}: its default refers to itself")

    def resolve(match: "re.Match[str]") -> str:
        other = _raw(BY_NAME[match.group(1)], environ, mode, seen + (setting.name,))
        return other or ""

    if not _REFERENCE.search(default):
        return default  # "" stays "": Rasa's endpoints file needs REDIS_PASSWORD set, even empty
    return _REFERENCE.sub(resolve, default) or None


def parse(setting: Setting, raw: str) -> Any:
    """The typed value of ``raw`` for ``setting``, or :class:`SettingsError` saying what is wrong."""
    parser, expected = KINDS[setting.kind]
    try:
        value = parser(raw)
        _check_bounds(setting, value)
    except ValueError as exc:
        shown = "(hidden)" if setting.secret else repr(raw)
        raise SettingsError(f"{setting.name}={shown} {exc} (expected: {expected})") from None
    return value


def get(name: str, environ: Optional[Mapping[str, str]] = None, mode: str = "run") -> Any:
    """The value of setting ``name``: from the environment, else its default, else None."""
    setting = BY_NAME[name]
    raw = _raw(setting, os.environ if environ is None else environ, mode)
    return None if raw is None else parse(setting, raw)


def problems(environ: Optional[Mapping[str, str]] = None, mode: str = "run") -> List[str]:
    """What is wrong with the environment, one line per variable (empty when everything parses)."""
    environ = os.environ if environ is None else environ
    found: List[str] = []
    for setting in SETTINGS:
        derived = given(setting.name, environ) is None and _REFERENCE.search(setting.default_for(mode) or "")
        if derived:
            continue  # the setting it copies is checked under its own name
        try:
            get(setting.name, environ, mode)
        except SettingsError as exc:
            found.append(str(exc))
    return found


def export(environ: Optional[Mapping[str, str]] = None, mode: str = "prod") -> str:
    """Shell assignments of every setting with a value (defaults applied), for the start-up scripts."""
    environ = os.environ if environ is None else environ
    bad = problems(environ, mode)
    if bad:
        raise SettingsError("\n".join(bad))
    lines = []
    for setting in SETTINGS:
        raw = _raw(setting, environ, mode)
        if raw is None:
            continue
        value = str(parse(setting, raw)) if setting.kind == "username" else raw
        lines.append(f"{setting.name}={shlex.quote(value)}")
    exported = [s.name for s in SETTINGS if s.exported and _raw(s, environ, mode) is not None]
    if exported:
        lines.append("export " + " ".join(exported))
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The README's table of settings."""
    rows = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    group = None
    for setting in SETTINGS:
        if setting.group != group:
            group = setting.group
            rows.append(f"| **{group}** | | | |")
        default = "unset" if setting.default is None else f"`{setting.default}`" if setting.default else "empty"
        if setting.prod is not None:
            default += f"; `make run-prod`: `{setting.prod}`"
        default = default.replace("|", "\\|")
        rows.append(f"| `{setting.name}` | {KINDS[setting.kind][1]} | {default} | {setting.help.replace('|', '/')} |")
    return "\n".join(rows) + "\n"
