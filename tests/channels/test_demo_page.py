"""The demo page server (web/serve.py): a fixed set of files, the widget's config, strict headers."""
from __future__ import annotations

import requests

from .conftest import Stack


def test_page_widget_and_socket_io_client_are_served_from_the_project(stack: Stack):
    for path, kind in [("/", "text/html"), ("/widget/loginhelp-chat.js", "text/javascript"),
                       ("/widget/loginhelp-chat.css", "text/css"), ("/vendor/socket.io.min.js", "text/javascript")]:
        reply = requests.get(f"{stack.web_url}{path}", timeout=10)
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith(kind), path
    page = requests.get(f"{stack.web_url}/", timeout=10)
    assert '<script src="/vendor/socket.io.min.js">' in page.text
    assert "https://" not in page.text.split("<body>")[0]  # no CDN in the head
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and stack.rasa_url in csp


def test_config_points_the_widget_at_rasa_on_the_pages_host(stack: Stack):
    config = requests.get(f"{stack.web_url}/config.js", timeout=10).text
    assert f'"socketUrl": "{stack.rasa_url}"' in config
    assert '"socketPath": "/socket.io"' in config


def test_nothing_else_is_served(stack: Stack):
    for path in ("/../../etc/passwd", "/web/serve.py", "/node_modules/socket.io-client/package.json",
                 "/widget/", "/package.json", "/%2e%2e/credentials.yml"):
        assert requests.get(f"{stack.web_url}{path}", timeout=10).status_code == 404, path
