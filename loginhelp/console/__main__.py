"""``python -m loginhelp.console``: serve the agent console (default http://127.0.0.1:8000).

Werkzeug's threaded server is enough for a support team on an internal network;
behind a reverse proxy set CONSOLE_TRUSTED_PROXIES, and CONSOLE_COOKIE_SECURE=1
under HTTPS. A WSGI server can serve ``loginhelp.console:create_app()`` instead.
"""
from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import run_simple

from .. import settings
from ..db.migrate import SchemaBehind
from . import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loginhelp.console", description="CoinEx agent console")
    try:
        host, port = settings.get("CONSOLE_HOST"), settings.get("CONSOLE_PORT")
    except settings.SettingsError as exc:
        sys.exit(f"loginhelp console: {exc}")
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except SchemaBehind as exc:
        sys.exit(f"loginhelp console: {exc}")
    # Build the conversation index before the first agent opens the list.
    app.extensions["loginhelp_console"].transcripts.refresh(force=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
