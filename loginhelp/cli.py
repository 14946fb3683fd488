"""``loginhelp`` command line: database migrations and ticket administration for support staff.

Each command group registers itself with ``register_<group>(subparsers)`` and
sets a handler via ``set_defaults(handler=...)``; add new groups to
COMMAND_GROUPS. Handlers return the process exit code and raise CommandError
for problems the user can fix, which main() prints without a traceback.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator, Sequence, TextIO

from sqlalchemy import exc as sa_exc

from .agents.cli import register_agents
from .tickets.db import database_url as default_database_url
from .tickets.db import make_engine, redact, upgrade
from .tickets.errors import TicketNotFound
from .tickets.references import normalise_reference
from .tickets.repository import TicketRepository
from .tickets.service import TicketService
from .tickets.statuses import STATUSES
from .tickets.views import TicketView
from .transcripts.cli import register_transcripts

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A problem to report in one line on stderr (no traceback)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------ helpers


def _url(args: argparse.Namespace) -> str:
    return args.database_url or default_database_url()


@contextmanager
def _repository(args: argparse.Namespace) -> Iterator[TicketRepository]:
    """A repository whose connections are released when the command ends."""
    engine = make_engine(_url(args))
    try:
        yield TicketRepository(engine)
    finally:
        engine.dispose()


def _reference(text: str) -> str:
    ref = normalise_reference(text)
    if ref is None:
        raise CommandError(
            f"{text!r} is not a ticket reference (expected LH- followed by 6 letters/digits, e.g. LH-7KQ2MX)",
            EXIT_USAGE,
        )
    return ref


def _print_json(data: object, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _one_line(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _print_table(tickets: Sequence[TicketView], out: TextIO) -> None:
    if not tickets:
        out.write("No tickets.\n")
        return
    header = ("REFERENCE", "STATUS", "CATEGORY", "CHANNEL", "CONTACT", "CREATED", "DESCRIPTION")
    rows = [
        (
            t.reference,
            t.status,
            t.category,
            t.channel or "-",
            t.contact_email or t.contact_phone or "-",
            _when(t.created_at),
            _one_line(t.description, 50) or "-",
        )
        for t in tickets
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")


def _print_ticket(t: TicketView, out: TextIO) -> None:
    fields = [
        ("Reference", t.reference),
        ("Status", t.status),
        ("Category", t.category),
        ("Channel", t.channel),
        ("Conversation", t.conversation_id),
        ("Email", t.contact_email),
        ("Phone", t.contact_phone),
        ("Device", t.device),
        ("Browser/app", t.browser_version),
        ("Created", _when(t.created_at)),
        ("Updated", _when(t.updated_at)),
        ("Error message", t.error_message),
    ]
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        out.write(f"{label.ljust(width)}  {value if value not in (None, '') else '-'}\n")
    out.write("\nDescription:\n")
    for line in (t.description or "-").splitlines() or ["-"]:
        out.write(f"  {line}\n")
    out.write("\nSteps tried:\n")
    for step in t.steps_tried:
        out.write(f"  - {step}\n")
    if not t.steps_tried:
        out.write("  -\n")
    out.write("\nScreenshots:\n")
    if not t.screenshots:
        out.write("  -\n")
    for s in t.screenshots:
        extra = ", ".join(x for x in (s.file_name, s.mime_type, f"{s.size_bytes} bytes" if s.size_bytes else None) if x)
        out.write(f"  - [{s.source}] {s.location}" + (f" ({extra})" if extra else "") + "\n")
    out.write("\nHistory:\n")
    for h in t.history:
        change = f"{h.old_status} -> {h.new_status}" if h.old_status else h.new_status
        note = f": {h.note}" if h.note else ""
        out.write(f"  {_when(h.changed_at)}  {change}  by {h.changed_by}{note}\n")


# ----------------------------------------------------------------- handlers


def cmd_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    url = _url(args)
    upgrade(url, args.revision)
    out.write(f"Database {redact(url)} is at revision {args.revision}.\n")
    return EXIT_OK


def cmd_tickets_list(args: argparse.Namespace, out: TextIO) -> int:
    try:
        with _repository(args) as repo:
            tickets = repo.list(status=args.status, limit=args.limit, offset=args.offset)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.json:
        _print_json([t.to_dict() for t in tickets], out)
    else:
        _print_table(tickets, out)
    return EXIT_OK


def cmd_tickets_show(args: argparse.Namespace, out: TextIO) -> int:
    ref = _reference(args.reference)
    with _repository(args) as repo:
        ticket = repo.get(ref)
    if ticket is None:
        raise CommandError(f"No ticket with reference {ref}.")
    if args.json:
        _print_json(ticket.to_dict(), out)
    else:
        _print_ticket(ticket, out)
    return EXIT_OK


def cmd_tickets_set_status(args: argparse.Namespace, out: TextIO) -> int:
    ref = _reference(args.reference)
    try:
        with _repository(args) as repo:
            ticket = repo.set_status(ref, args.status, note=args.note, changed_by=args.changed_by)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except TicketNotFound:
        raise CommandError(f"No ticket with reference {ref}.") from None
    out.write(f"{ticket.reference} is now {ticket.status}.\n")
    return EXIT_OK


def cmd_tickets_flush_spool(args: argparse.Namespace, out: TextIO) -> int:
    async def flush() -> int:
        async with TicketService(_url(args), spool_dir=args.spool_dir) as service:
            return await service.flush_spool()

    count = asyncio.run(flush())
    out.write(f"Stored {count} spooled ticket(s).\n")
    return EXIT_OK


# ------------------------------------------------------------------- parser


def register_db(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database schema")
    sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply migrations (alembic upgrade)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=cmd_db_upgrade)


def register_tickets(commands: argparse._SubParsersAction) -> None:
    tickets = commands.add_parser("tickets", help="support tickets")
    sub = tickets.add_subparsers(dest="action", required=True, metavar="ACTION")

    ls = sub.add_parser("list", help="list tickets, newest first")
    ls.add_argument("--status", help=f"only this status ({', '.join(STATUSES)})")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    ls.add_argument("--offset", type=int, default=0, help="skip this many (paging)")
    ls.add_argument("--json", action="store_true", help="print every field as JSON")
    ls.set_defaults(handler=cmd_tickets_list)

    show = sub.add_parser("show", help="show one ticket with screenshots and history")
    show.add_argument("reference", metavar="REF")
    show.add_argument("--json", action="store_true", help="print every field as JSON")
    show.set_defaults(handler=cmd_tickets_show)

    st = sub.add_parser("set-status", help="change a ticket's status (recorded in its history)")
    st.add_argument("reference", metavar="REF")
    st.add_argument("status", metavar="STATUS", help=", ".join(STATUSES))
    st.add_argument("--note", help="why (kept in the history)")
    st.add_argument("--changed-by", default="cli", help="who made the change (default: cli)")
    st.set_defaults(handler=cmd_tickets_set_status)

    flush = sub.add_parser("flush-spool", help="store tickets spooled while the database was down")
    flush.add_argument("--spool-dir", help="spool directory (default: $LOGINHELP_SPOOL_DIR or <var>/spool/tickets)")
    flush.set_defaults(handler=cmd_tickets_flush_spool)


#: Command groups in --help order.
COMMAND_GROUPS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    register_db,
    register_tickets,
    register_agents,
    register_transcripts,
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
    except sa_exc.SQLAlchemyError as exc:
        print(f"loginhelp: {_database_problem(args, exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def _database_problem(args: argparse.Namespace, exc: Exception) -> str:
    """One readable line for a database failure (no traceback, no password)."""
    url = redact(args.database_url or default_database_url())
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else exc.__class__.__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"The database {url} has no ticket tables yet; run `loginhelp db upgrade`. ({first})"
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return f"Cannot reach the database {url}: {first}"
    return f"Database error on {url}: {first}"


if __name__ == "__main__":
    sys.exit(main())
