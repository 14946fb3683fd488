"""The demo login-help page and its chat widget, served from this repository.

    .venv/bin/python web/serve.py [--host 127.0.0.1] [--port 8080] [--rasa-url URL]

Serves only a fixed set of files: the page (web/index.html), the widget
(web/widget/), socket.io-client from web/node_modules (installed by `make web`,
i.e. `npm ci` against web/package-lock.json; no CDN) and /config.js, which tells
the widget where Rasa's socket.io channel is. Without --rasa-url (or
RASA_PUBLIC_URL) that is the host the page was loaded from, on RASA_PORT (5005).
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

WEB = Path(__file__).resolve().parent
SOCKET_IO_DIST = WEB / "node_modules" / "socket.io-client" / "dist"

# URL path -> file. Nothing else is served.
FILES: Dict[str, Path] = {
    "/": WEB / "index.html",
    "/index.html": WEB / "index.html",
    "/page.css": WEB / "page.css",
    "/favicon.svg": WEB / "favicon.svg",
    "/widget/loginhelp-chat.js": WEB / "widget" / "loginhelp-chat.js",
    "/widget/loginhelp-chat.css": WEB / "widget" / "loginhelp-chat.css",
    "/vendor/socket.io.min.js": SOCKET_IO_DIST / "socket.io.min.js",
    "/vendor/socket.io.min.js.map": SOCKET_IO_DIST / "socket.io.min.js.map",
}


def rasa_origin(rasa_url: Optional[str], host_header: Optional[str], rasa_port: int) -> str:
    """Where the widget connects: the configured URL, else this page's host on the Rasa port."""
    if rasa_url:
        return rasa_url.rstrip("/")
    hostname = urlsplit(f"//{host_header or 'localhost'}").hostname or "localhost"
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    return f"http://{hostname}:{rasa_port}"


def make_handler(rasa_url: Optional[str], rasa_port: int):
    class Handler(BaseHTTPRequestHandler):
        server_version = "loginhelp-web"
        sys_version = ""

        def log_message(self, fmt: str, *args) -> None:  # quieter than the default
            if os.environ.get("WEB_ACCESS_LOG"):
                super().log_message(fmt, *args)

        def _headers(self, status: int, content_type: str, length: int, origin: str) -> None:
            ws = origin.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                f"connect-src 'self' {origin} {ws}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            )
            self.end_headers()

        def _send(self, status: int, body: bytes, content_type: str, head_only: bool = False) -> None:
            origin = rasa_origin(rasa_url, self.headers.get("Host"), rasa_port)
            self._headers(status, content_type, len(body), origin)
            if not head_only:
                self.wfile.write(body)

        def _route(self) -> Tuple[int, bytes, str]:
            path = urlsplit(self.path).path
            if path == "/config.js":
                config = {
                    "socketUrl": rasa_origin(rasa_url, self.headers.get("Host"), rasa_port),
                    "socketPath": "/socket.io",
                }
                body = f"window.LOGINHELP_CHAT_CONFIG = {json.dumps(config)};\n"
                return HTTPStatus.OK, body.encode(), "text/javascript; charset=utf-8"
            if path == "/healthz":
                return HTTPStatus.OK, b'{"status": "ok"}', "application/json"
            file = FILES.get(path)
            if file is None:
                return HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8"
            if not file.is_file():
                message = f"{file.relative_to(WEB)} is missing: run `make web` (npm ci in web/).\n"
                return HTTPStatus.SERVICE_UNAVAILABLE, message.encode(), "text/plain; charset=utf-8"
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            return HTTPStatus.OK, file.read_bytes(), content_type

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._send(*self._route())

        def do_HEAD(self) -> None:  # noqa: N802
            self._send(*self._route(), head_only=True)

    return Handler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_PUBLIC_URL") or None,
                        help="public URL of the Rasa server (default: this page's host on --rasa-port)")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    args = parser.parse_args(argv)
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("application/json", ".map")
    if not (SOCKET_IO_DIST / "socket.io.min.js").is_file():
        print("warning: web/node_modules is missing; run `make web`", file=sys.stderr)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa_url, args.rasa_port))
    server.daemon_threads = True
    print(f"demo page on http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
