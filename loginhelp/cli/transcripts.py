"""``loginhelp transcripts ...``: list, show and export conversations (and tickets, corrections) from a shell."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from typing import Iterable, Iterator, TextIO

from ..db.engine import tracker_database_url
from ..exports import json_array
from ..tickets.export import iter_tickets, tickets_csv
from ..tickets.repository import TicketRepository
from ..transcripts.events import make_tracker_engine
from ..transcripts.export import conversations_csv, nlu_yaml
from ..transcripts.queries import ConversationFilters
from ..transcripts.service import TranscriptService
from ..transcripts.summary import OUTCOMES
from ..transcripts.transcript import Transcript, iso
from .common import EXIT_OK, CommandError, fail, open_engine, print_json


@contextmanager
def _service(args: argparse.Namespace, refresh: bool = True) -> Iterator[TranscriptService]:
    """The transcript service on the console database (at the current schema) and the tracker store."""
    with open_engine(args) as console_engine:
        service = TranscriptService(console_engine, make_tracker_engine(args.tracker_url or tracker_database_url()))
        try:
            if refresh:
                service.refresh(force=True)
                if service.last_error:
                    print(f"loginhelp: warning: {service.last_error}", file=sys.stderr)
            yield service
        finally:
            service.dispose()


def _filters(args: argparse.Namespace) -> ConversationFilters:
    raw = {
        "q": args.search, "channel": args.channel, "date_from": args.date_from, "date_to": args.date_to,
        "intent": args.intent, "branch": args.branch, "has_ticket": args.has_ticket, "outcome": args.outcome,
        "reviewed": args.reviewed, "tag": args.tag, "low_confidence": args.low_confidence,
    }
    filters, errors = ConversationFilters.from_mapping(raw)
    if errors:
        raise fail("; ".join(errors), usage=True)
    return filters


@contextmanager
def _output(args: argparse.Namespace, out: TextIO) -> Iterator[TextIO]:
    if not getattr(args, "output", None) or args.output == "-":
        yield out
        return
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        yield handle


def _write(chunks: Iterable[str], target: TextIO) -> None:
    for chunk in chunks:
        target.write(chunk)


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args) as service:
        page = service.query.page(_filters(args), args.page, args.limit)
    if args.json:
        print_json({"total": page.total, "page": page.page, "conversations": [r.to_dict() for r in page.rows]}, out,
                   ensure_ascii=True)
        return EXIT_OK
    if not page.rows:
        out.write("No conversations.\n")
        return EXIT_OK
    for r in page.rows:
        d = r.to_dict()
        flags = ("reviewed " if r.reviewed else "") + " ".join(f"#{t}" for t in r.tags)
        refs = " ".join(t.reference for t in r.tickets)
        out.write(
            f"{r.conversation_id:36} {r.channel or '-':9} {d['last_activity_at']} {r.turns:3} turns "
            f"{r.branch or '-':16} {r.outcome:9} low:{r.low_confidence_turns} {refs} {flags}".rstrip() + "\n"
        )
    out.write(f"-- {len(page.rows)} of {page.total} (page {page.page} of {page.pages})\n")
    return EXIT_OK


def _print_transcript(t: Transcript, out: TextIO) -> None:
    out.write(f"Conversation {t.conversation_id} ({t.event_count} events)\n")
    for session in t.sessions:
        out.write(f"\n== Session {session.number}, started {iso(session.started_at)}\n")
        for turn in session.turns:
            if turn.is_message:
                conf = f" {turn.confidence:.2f}" if turn.confidence is not None else ""
                low = "  [low confidence]" if turn.low_confidence else ""
                out.write(f"\n#{turn.number} {iso(turn.time)} customer: {turn.text}\n")
                out.write(f"    intent {turn.intent}{conf}{low}\n")
                for e in turn.entities:
                    out.write(f"    entity {e['entity']}={e['value']}\n")
            for reply in turn.replies:
                out.write(f"  assistant: {reply.text or ''}\n")
                for b in reply.buttons:
                    out.write(f"    [{b['title']}] {b['payload']}\n")
            for a in turn.actions:
                out.write(f"    action {a.name}\n")
            for s in turn.slots:
                out.write(f"    slot {s.name} = {json.dumps(s.value, ensure_ascii=False)}\n")


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args) as service:
        transcript = service.transcript(args.conversation_id)
        summary = service.summary(args.conversation_id)
    if transcript is None:
        raise CommandError(f"No conversation {args.conversation_id!r} in the tracker store.")
    if args.json:
        print_json({"summary": summary.to_dict() if summary else None, **transcript.to_dict()}, out)
    else:
        if summary:
            out.write(f"Outcome: {summary.outcome_label}; branch: {summary.branch or '-'}; channel: {summary.channel or '-'}\n")
        _print_transcript(transcript, out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args) as service, _output(args, out) as target:
        rows = service.query.iter_rows(_filters(args))
        if args.format == "csv":
            _write(conversations_csv(rows), target)
        else:
            def items() -> Iterator[dict]:
                for row in rows:
                    item = row.to_dict()
                    if args.transcripts:
                        t = service.transcript(row.conversation_id)
                        item["transcript"] = t.to_dict()["sessions"] if t else []
                    yield item

            _write(json_array(items()), target)
    return EXIT_OK


def cmd_export_tickets(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args, refresh=False) as service, _output(args, out) as target:
        try:
            items = iter_tickets(TicketRepository(service.console_engine), args.status)
            _write(tickets_csv(items) if args.format == "csv" else json_array(t.to_dict() for t in items), target)
        except ValueError as exc:
            raise fail(str(exc), usage=True) from exc
    return EXIT_OK


def cmd_corrections(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args, refresh=False) as service, _output(args, out) as target:
        target.write(nlu_yaml(service.reviews.corrections()))
    return EXIT_OK


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    with _service(args, refresh=False) as service:
        result = service.indexer.rebuild() if args.rebuild else service.indexer.refresh()
    verb = "Rebuilt" if result.rebuilt else "Updated"
    out.write(f"{verb} {result.conversations} conversation(s); index covers tracker events up to id {result.stable_id}.\n")
    return EXIT_OK


def _add_filters(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters")
    g.add_argument("--search", "-q", help="words said by the customer or the assistant")
    g.add_argument("--channel")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="active on or after this day (UTC)")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="started on or before this day (UTC)")
    g.add_argument("--intent")
    g.add_argument("--branch")
    g.add_argument("--has-ticket", choices=("yes", "no"))
    g.add_argument("--outcome", choices=OUTCOMES)
    g.add_argument("--reviewed", choices=("yes", "no"))
    g.add_argument("--tag")
    g.add_argument("--low-confidence", choices=("yes", "no"))


def register_transcripts(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("transcripts", help="conversations from the Rasa tracker store")
    group.add_argument(
        "--tracker-url", help="tracker store SQLAlchemy URL (default: $TRACKER_DATABASE_URL, else var/tracker.db)"
    )
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    ls = sub.add_parser("list", help="conversations, most recent activity first")
    _add_filters(ls)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="one conversation, every turn of every session")
    show.add_argument("conversation_id", metavar="ID", help="Rasa sender id (also a ticket's conversation id)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    export = sub.add_parser("export", help="matching conversations as CSV or JSON")
    _add_filters(export)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--transcripts", action="store_true", help="JSON: include every turn")
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_export)

    tickets = sub.add_parser("export-tickets", help="tickets as CSV or JSON")
    tickets.add_argument("--status")
    tickets.add_argument("--format", choices=("csv", "json"), default="csv")
    tickets.add_argument("--output", "-o")
    tickets.set_defaults(handler=cmd_export_tickets)

    corr = sub.add_parser("corrections", help="intent corrections as Rasa NLU training data (YAML)")
    corr.add_argument("--output", "-o")
    corr.set_defaults(handler=cmd_corrections)

    index = sub.add_parser("index", help="bring the conversation index up to date")
    index.add_argument("--rebuild", action="store_true", help="drop and rebuild it from the tracker store")
    index.set_defaults(handler=cmd_index)
