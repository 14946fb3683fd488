"""``loginhelp db upgrade``: the one way the schema is migrated (run scripts, deployments and tests call it)."""
from __future__ import annotations

import argparse
from typing import TextIO

from ..db.engine import redact
from ..db.migrate import upgrade
from .common import EXIT_OK, database_url


def cmd_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    url = database_url(args)
    upgrade(url, args.revision)
    out.write(f"Database {redact(url)} is at revision {args.revision}.\n")
    return EXIT_OK


def register_db(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database schema")
    sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply migrations (alembic upgrade)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=cmd_db_upgrade)
