#!/usr/bin/env bash
# Production mode, step 1 (before any server starts; a Kubernetes Job or an
# init container in a cluster): check PostgreSQL and Redis, create the two
# databases if they are missing, migrate the ticket database (Alembic, via
# `loginhelp db upgrade`) and create the tracker store's table once, so that
# replicas starting together never race to create it.
#
# Reads the same environment as scripts/run_prod.sh (which calls it):
#   DATABASE_URL            ticket database, postgresql+psycopg2://user[:pw]@host:port/db
#   TRACKER_DB_HOST, TRACKER_DB_PORT, TRACKER_DB_USER, TRACKER_DB_PASSWORD, TRACKER_DB_NAME
#   REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD
#   PROD_CREATE_DATABASES   1 (default): CREATE DATABASE when missing; 0 on managed
#                           databases where the application role may not create them
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} SQLALCHEMY_SILENCE_UBER_WARNING=1

for name in DATABASE_URL TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_USER TRACKER_DB_NAME REDIS_HOST REDIS_PORT REDIS_DB; do
  if [ -z "${!name:-}" ]; then
    echo "prod_migrate: $name is not set" >&2
    exit 2
  fi
done

# Reachability and database creation (fails fast with a readable message).
.venv/bin/python -W ignore - <<'PY'
import os
import sys

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

env = os.environ


def fail(message: str) -> None:
    print(f"prod_migrate: {message}", file=sys.stderr)
    sys.exit(1)


tickets = make_url(env["DATABASE_URL"])
tracker = URL.create(
    "postgresql+psycopg2",
    username=env["TRACKER_DB_USER"] or None,
    password=env.get("TRACKER_DB_PASSWORD") or None,
    host=env["TRACKER_DB_HOST"],
    port=int(env["TRACKER_DB_PORT"]),
    database=env["TRACKER_DB_NAME"],
)
create = env.get("PROD_CREATE_DATABASES", "1") == "1"
for label, url in (("ticket", tickets), ("tracker", tracker)):
    if url.get_backend_name() != "postgresql":
        continue  # SQLite files are created on first use
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": url.database}).scalar()
            if not exists and create:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
                print(f"created the {label} database {url.database}")
    except Exception as exc:  # noqa: BLE001 - reported, then exit
        fail(f"PostgreSQL is not usable for the {label} database at "
             f"{url.render_as_string(hide_password=True)}: {exc.__class__.__name__}: "
             f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
    finally:
        admin.dispose()

try:
    redis.Redis(host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]), db=int(env["REDIS_DB"]),
                password=env.get("REDIS_PASSWORD") or None, socket_timeout=5).ping()
except Exception as exc:  # noqa: BLE001
    fail(f"Redis is not reachable at {env['REDIS_HOST']}:{env['REDIS_PORT']}/{env['REDIS_DB']}: {exc}")
PY

# The ticket database: Alembic migrations (idempotent).
.venv/bin/loginhelp db upgrade

# The tracker store's table, created here once (Rasa would create it at start-up,
# and two replicas doing so at the same moment can collide).
.venv/bin/python -W ignore - <<'PY'
import os

from loginhelp.tracker_store import RedactingSQLTrackerStore

env = os.environ
store = RedactingSQLTrackerStore(
    dialect="postgresql",
    host=env["TRACKER_DB_HOST"],
    port=env["TRACKER_DB_PORT"],
    username=env["TRACKER_DB_USER"],
    password=env.get("TRACKER_DB_PASSWORD") or None,
    db=env["TRACKER_DB_NAME"],
)
store.engine.dispose()
print(f"tracker store ready: {env['TRACKER_DB_NAME']} on {env['TRACKER_DB_HOST']}:{env['TRACKER_DB_PORT']}")
PY
