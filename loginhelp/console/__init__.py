"""Agent console: a Flask app where support agents review transcripts and work tickets.

``create_app()`` reads its settings from the environment (see settings.py);
tests pass a ConsoleSettings. Run it with ``python -m loginhelp.console``.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..agents.repository import AgentRepository
from ..agents.signin import SignInGuard
from ..db.migrate import check_schema
from ..handoff.relay import relay_from_env
from ..handoff.service import LiveHandoff
from ..handoff.tokens import ApiTokens
from ..tickets.repository import TicketRepository
from ..tickets.statuses import STATUSES
from ..transcripts.config import known_intents
from ..transcripts.service import TranscriptService
from ..transcripts.summary import ADDRESS_VERDICT_LABELS
from . import access
from .context import EXTENSION, ConsoleContext
from .settings import ConsoleSettings

csrf = CSRFProtect()


def _format_time(value: Any, with_seconds: bool = False) -> str:
    """Epoch seconds or datetimes as "2024-11-26 14:03 UTC" (agents work across time zones)."""
    if value is None or value == "":
        return "-"
    moment = datetime.fromtimestamp(value, tz=timezone.utc) if isinstance(value, (int, float)) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    """Seconds as "45s", "3m 05s" or "1h 02m": waits and handling times at a glance."""
    if seconds is None:
        return "-"
    total = int(round(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    return f"{total // 3600}h {total % 3600 // 60:02d}m"


def _pretty_json(value: Any, compact: bool = False) -> str:
    """JSON as plain text; returned unmarked so Jinja escapes it like any customer text."""
    if compact:
        return json.dumps(value, ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def create_app(settings: ConsoleSettings | None = None, transcripts: TranscriptService | None = None) -> Flask:
    """The console app; raises SchemaBehind when the database needs ``loginhelp db upgrade`` first."""
    settings = settings or ConsoleSettings.from_env()
    service = transcripts or TranscriptService.from_urls(
        settings.database_url, settings.tracker_url, refresh_interval=settings.refresh_interval
    )
    if settings.check_schema:
        try:
            check_schema(service.console_engine)
        except Exception:
            if transcripts is None:
                service.dispose()
            raise

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="loginhelp_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # A form stays valid as long as the session, not an arbitrary hour.
        WTF_CSRF_TIME_LIMIT=settings.session_hours * 3600,
        WTF_CSRF_SSL_STRICT=settings.cookie_secure,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]

    engine = service.console_engine
    app.extensions[EXTENSION] = ConsoleContext(
        settings=settings,
        transcripts=service,
        agents=AgentRepository(engine),
        sign_in=SignInGuard(engine),
        tickets=TicketRepository(engine),
        known_intents=known_intents(),
        live=LiveHandoff.on(engine, relay_from_env()),
        tokens=ApiTokens(engine),
    )
    csrf.init_app(app)
    access.install(app)

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .conversations import bp as conversations_bp
    from .live import bp as live_bp
    from .live_api import bp as live_api_bp
    from .new_ticket import bp as new_ticket_bp
    from .tickets import bp as tickets_bp

    # Checked in the blueprint instead: a session needs the CSRF token, a bearer token does not.
    csrf.exempt(live_api_bp)
    for blueprint in (auth_bp, conversations_bp, tickets_bp, admin_bp, api_bp, live_api_bp, live_bp, new_ticket_bp):
        app.register_blueprint(blueprint)

    app.jinja_env.filters["when"] = _format_time
    app.jinja_env.filters["pretty_json"] = _pretty_json
    app.jinja_env.filters["duration"] = _duration
    app.jinja_env.globals.update(current_agent=access.current_agent, TICKET_STATUSES=STATUSES,
                                 address_verdict_labels=ADDRESS_VERDICT_LABELS,
                                 address_verdicts=list(ADDRESS_VERDICT_LABELS.items()))
    _install_error_pages(app)
    return app


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> Any:
        return _error(400, "The form expired or was not sent by the console. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return _error(exc.code or 500, exc.description or exc.name)


def _error(code: int, message: str) -> Any:
    if access.wants_json():
        response = jsonify(error=message)
        response.status_code = code
        return response
    return render_template("error.html", code=code, message=message), code


__all__ = ["ConsoleSettings", "create_app", "csrf"]
