"""What every command group shares: exit codes, CommandError, the engine from the arguments, JSON output.

Command modules import from here, never from ``loginhelp.cli`` itself, so the
package has no import cycle: ``__init__`` imports the groups, the groups import
this module and the domain packages, and nothing imports back.
"""
from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from typing import Iterator, TextIO

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ..db.engine import database_url as default_database_url
from ..db.engine import make_engine, redact
from ..db.migrate import SchemaBehind, check_schema

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A problem to report in one line on stderr (no traceback)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, usage: bool = False) -> CommandError:
    """A CommandError with the usage exit code (bad input) or the failure one; ``raise fail(...)``."""
    return CommandError(message, EXIT_USAGE if usage else EXIT_FAILURE)


def database_url(args: argparse.Namespace) -> str:
    """``--database-url``, else ``$DATABASE_URL``, else the SQLite file in the var directory."""
    return args.database_url or default_database_url()


@contextmanager
def open_engine(args: argparse.Namespace, *, check: bool = True) -> Iterator[Engine]:
    """The database engine for a command, released when the command ends.

    With ``check`` (every command but ``db upgrade``) a database whose schema is
    behind is refused: commands never migrate, ``loginhelp db upgrade`` does.
    """
    engine = make_engine(database_url(args))
    try:
        if check:
            try:
                check_schema(engine)
            except SchemaBehind as exc:
                raise CommandError(str(exc)) from None
        yield engine
    finally:
        engine.dispose()


def print_json(data: object, out: TextIO, *, ensure_ascii: bool = False) -> None:
    """Indented JSON and a newline (machine-readable output of ``--json``)."""
    json.dump(data, out, indent=2, ensure_ascii=ensure_ascii)
    out.write("\n")


def database_problem(args: argparse.Namespace, exc: Exception) -> str:
    """One readable line for a database failure (no traceback, no password)."""
    url = redact(database_url(args))
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else exc.__class__.__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"The database {url} has no ticket tables yet; run `loginhelp db upgrade`. ({first})"
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return f"Cannot reach the database {url}: {first}"
    return f"Database error on {url}: {first}"
