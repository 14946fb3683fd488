"""One production-mode stack for the whole tests/prod session.

scripts/run_prod.sh runs with two Rasa and two action server replicas behind
nginx, on free ports, two throw-away PostgreSQL databases, a private Redis key
prefix (in Redis db $TEST_REDIS_DB, default 13) and the Telegram channel pointed
at a fake Bot API on loopback. Each test leaves every server running (or
restarting) when it ends; a test that needs them all waits for them.
PostgreSQL or Redis missing is a failure, not a skip.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.channels.fake_telegram import FakeTelegramAPI

from loginhelp.prod_stack import PostgresDatabases, ProdStack, TcpProxy, free_port, redis_cleanup

REPO = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "123456789:PROD-fake_token_for_loopback_only"
TELEGRAM_SECRET = "prod-test-secret_0123456789"


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegramAPI]:
    api = FakeTelegramAPI(TELEGRAM_TOKEN, port=free_port()).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory, fake_telegram: FakeTelegramAPI) -> Iterator[ProdStack]:
    workdir = tmp_path_factory.mktemp("prod")
    try:
        databases = PostgresDatabases().create()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    proxy = TcpProxy(databases.admin_url.host or "127.0.0.1", databases.admin_url.port or 5432).start()
    stack = ProdStack(workdir, databases, proxy, extra_env={
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_BOT_USERNAME": fake_telegram.username,
        "TELEGRAM_API_BASE": fake_telegram.base_url,
    })
    try:
        try:
            stack.start()
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        yield stack
    finally:
        stack.stop()
        proxy.stop()
        keep = REPO / "artifacts" / "logs" / "prod"
        if (stack.run_dir / "log").exists():
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(stack.run_dir / "log", keep)
        databases.drop()
        redis_cleanup(stack.redis_db, stack.redis_prefix)


@pytest.fixture
def healthy(prod: ProdStack) -> ProdStack:
    """The stack with every server up (waits for one a previous test left restarting)."""
    for name in prod.server_names:
        prod.release(name)
    prod.wait_up()
    prod.proxy.restore()
    return prod
