"""``loginhelp tickets ...``: list, show and change tickets, store spooled ones (support staff's shell tools)."""
from __future__ import annotations

import argparse
import asyncio
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator, Sequence, TextIO

from ..tickets.errors import TicketNotFound
from ..tickets.references import normalise_reference
from ..tickets.repository import TicketRepository
from ..tickets.service import TicketService
from ..tickets.statuses import STATUSES
from ..tickets.views import TicketView
from .common import EXIT_OK, EXIT_USAGE, CommandError, database_url, open_engine, print_json


@contextmanager
def _repository(args: argparse.Namespace) -> Iterator[TicketRepository]:
    """A repository on a database at the current schema, released when the command ends."""
    with open_engine(args) as engine:
        yield TicketRepository(engine)


def _reference(text: str) -> str:
    ref = normalise_reference(text)
    if ref is None:
        raise CommandError(
            f"{text!r} is not a ticket reference (expected LH- followed by 6 letters/digits, e.g. LH-7KQ2MX)",
            EXIT_USAGE,
        )
    return ref


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


def cmd_tickets_list(args: argparse.Namespace, out: TextIO) -> int:
    try:
        with _repository(args) as repo:
            tickets = repo.list(status=args.status, limit=args.limit, offset=args.offset)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.json:
        print_json([t.to_dict() for t in tickets], out)
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
        print_json(ticket.to_dict(), out)
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
    with open_engine(args):  # refuse a database that is behind even when the spool is empty
        pass

    async def flush() -> int:
        async with TicketService(database_url(args), spool_dir=args.spool_dir) as service:
            return await service.flush_spool()

    count = asyncio.run(flush())
    out.write(f"Stored {count} spooled ticket(s).\n")
    return EXIT_OK


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
