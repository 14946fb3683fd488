"""The Telegram channel's settings, from the environment (credentials.yml values win).

Read once when Rasa builds the channel; an invalid value turns the channel off
with a reason (its webhook answers 503) instead of stopping the server.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from aiogram.bot.api import check_token

from ... import settings

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class RedisSettings:
    """The Redis of the lock store (deploy/endpoints.prod.yml), from the same variables."""

    host: str
    port: int = 6379
    db: int = 1
    password: Optional[str] = None
    key_prefix: str = "loginhelp"

    @classmethod
    def load(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["RedisSettings"]:
        """None when REDIS_HOST is unset; :class:`SettingsError` for a bad value."""
        host = settings.get("REDIS_HOST", environ)
        if not host:
            return None
        return cls(
            host=host,
            port=settings.get("REDIS_PORT", environ),
            db=settings.get("REDIS_DB", environ),
            password=settings.get("REDIS_PASSWORD", environ) or None,
            key_prefix=settings.get("REDIS_KEY_PREFIX", environ),
        )


@dataclass(frozen=True)
class TelegramSettings:
    token: Optional[str] = None
    bot_username: Optional[str] = None
    webhook_url: Optional[str] = None
    secret_token: Optional[str] = None
    api_base: str = DEFAULT_API_BASE
    retry_seconds: float = 5.0
    problem: Optional[str] = None  # why the channel is off, when it is
    redis: Optional[RedisSettings] = None  # shared state of the replicas, when configured

    @property
    def enabled(self) -> bool:
        return self.problem is None

    @property
    def bot_id(self) -> str:
        """The bot's numeric id: the part of the token before the colon."""
        return str(self.token).split(":", 1)[0]

    @classmethod
    def load(
        cls, credentials: Optional[Mapping[str, Any]] = None, environ: Optional[Mapping[str, str]] = None
    ) -> "TelegramSettings":
        credentials = credentials or {}

        def value(key: str, env: str) -> Optional[str]:
            given = credentials.get(key)
            if given is None or str(given).strip() == "":
                return settings.given(env, environ)
            return str(given).strip() or None

        token = value("access_token", "TELEGRAM_TOKEN")
        username = value("verify", "TELEGRAM_BOT_USERNAME")
        webhook_url = value("webhook_url", "TELEGRAM_WEBHOOK_URL")
        secret = value("secret_token", "TELEGRAM_SECRET_TOKEN")
        api_base = (value("api_base", "TELEGRAM_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        username = username.lstrip("@") if username else None

        problem = None
        retry, redis = 5.0, None
        try:
            retry = settings.get("TELEGRAM_WEBHOOK_RETRY_SECONDS", environ)
            redis = RedisSettings.load(environ)
        except settings.SettingsError as exc:
            problem = str(exc)
        if problem is None and token is None:
            problem = "TELEGRAM_TOKEN is not set"
        elif problem is None:
            try:
                check_token(token)
            except Exception:  # noqa: BLE001 - aiogram's ValidationError
                problem = "TELEGRAM_TOKEN is not a bot token (expected <digits>:<secret> from @BotFather)"
        if problem is None and secret is not None and not _SECRET_TOKEN.match(secret):
            problem = "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        if problem is None and not api_base.startswith(("http://", "https://")):
            problem = "TELEGRAM_API_BASE must be an http(s) URL"
        if token is not None and secret is None:
            secret = derived_secret(token)
        return cls(token, username, webhook_url, secret, api_base, retry, problem, redis)


def derived_secret(token: str) -> str:
    """A stable secret for the webhook header when TELEGRAM_SECRET_TOKEN is unset."""
    return hmac.new(token.encode(), b"loginhelp-telegram-webhook", hashlib.sha256).hexdigest()
