"""``loginhelp`` command line: database migrations, tickets, agent accounts, transcripts and settings.

Each command group lives in its own module and registers itself with
``register_<group>(subparsers)``, setting a handler via
``set_defaults(handler=...)``; add new groups to COMMAND_GROUPS. Handlers
return the process exit code and raise CommandError (loginhelp.cli.common) for
problems the user can fix, which main() prints without a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from sqlalchemy import exc as sa_exc

from ..db.migrate import SchemaBehind
from .agents import register_agents
from .common import EXIT_FAILURE, CommandError, database_problem
from .db import register_db
from .settings import register_settings
from .tickets import register_tickets
from .transcripts import register_transcripts

#: Command groups in --help order.
COMMAND_GROUPS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    register_db,
    register_tickets,
    register_agents,
    register_transcripts,
    register_settings,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loginhelp", description="CoinEx login-help assistant tools")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $DATABASE_URL, else a SQLite file in the var directory)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMAND_GROUPS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code (0 ok, 1 failure, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args, sys.stdout)
    except CommandError as exc:
        print(f"loginhelp: {exc}", file=sys.stderr)
        return exc.exit_code
    except SchemaBehind as exc:  # from the ticket service (tickets flush-spool)
        print(f"loginhelp: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except sa_exc.SQLAlchemyError as exc:
        print(f"loginhelp: {database_problem(args, exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


__all__ = ["COMMAND_GROUPS", "build_parser", "main"]
