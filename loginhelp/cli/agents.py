"""``loginhelp agents ...``: manage console accounts from a shell (how the first admin is made)."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from ..agents.models import ROLES
from ..agents.repository import AgentExists, AgentNotFound, AgentRepository, LastAdminError
from ..agents.signin import SignInGuard
from ..handoff.tokens import ApiTokens
from .common import EXIT_OK, fail, open_engine, print_json


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise fail("no terminal to ask for the password; pipe it with --password-stdin", usage=True)
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Repeat the password: ") != first:
        raise fail("the passwords differ", usage=True)
    return first


def cmd_add(args: argparse.Namespace, out: TextIO) -> int:
    password = _read_password(args)
    with open_engine(args) as engine:
        try:
            agent = AgentRepository(engine).add(args.email, password, args.role)
        except AgentExists as exc:
            raise fail(str(exc)) from exc
        except ValueError as exc:
            raise fail(str(exc), usage=True) from exc
    out.write(f"Added {agent.role} {agent.email}. They can sign in to the agent console now.\n")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    with open_engine(args) as engine:
        found = AgentRepository(engine).list()
    if args.json:
        print_json([a.to_dict() for a in found], out, ensure_ascii=True)
        return EXIT_OK
    if not found:
        out.write("No agents. Add one with: loginhelp agents add EMAIL --role admin\n")
    for a in found:
        last = a.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if a.last_sign_in_at else "never"
        out.write(f"{a.email:40} {a.role:6} {'active' if a.active else 'disabled':8} last sign-in {last}\n")
    return EXIT_OK


def _change(args: argparse.Namespace, out: TextIO, **change: object) -> int:
    with open_engine(args) as engine:
        repo = AgentRepository(engine)
        try:
            if "role" in change:
                agent = repo.set_role(args.email, str(change["role"]))
            elif "active" in change:
                agent = repo.set_active(args.email, bool(change["active"]))
            else:
                agent = repo.set_password(args.email, str(change["password"]))
        except (AgentNotFound, LastAdminError) as exc:
            raise fail(str(exc)) from exc
        except ValueError as exc:
            raise fail(str(exc), usage=True) from exc
    state = "active" if agent.active else "disabled"
    out.write(f"{agent.email} is now {agent.role}, {state}.\n")
    return EXIT_OK


def cmd_set_role(args: argparse.Namespace, out: TextIO) -> int:
    return _change(args, out, role=args.role)


def cmd_disable(args: argparse.Namespace, out: TextIO) -> int:
    return _change(args, out, active=False)


def cmd_enable(args: argparse.Namespace, out: TextIO) -> int:
    return _change(args, out, active=True)


def cmd_set_password(args: argparse.Namespace, out: TextIO) -> int:
    return _change(args, out, password=_read_password(args))


def cmd_sign_ins(args: argparse.Namespace, out: TextIO) -> int:
    with open_engine(args) as engine:
        attempts = SignInGuard(engine).recent(limit=args.limit, email=args.email)
    if args.json:
        print_json([a.to_dict() for a in attempts], out, ensure_ascii=True)
        return EXIT_OK
    for a in attempts:
        out.write(f"{a.attempted_at:%Y-%m-%d %H:%M:%S} {a.email:40} {a.ip:16} {a.reason}\n")
    if not attempts:
        out.write("No sign-in attempts.\n")
    return EXIT_OK


def cmd_token(args: argparse.Namespace, out: TextIO) -> int:
    """A new personal API token, printed once (only its hash is kept); the agent's earlier tokens stop working."""
    with open_engine(args) as engine:
        agent = AgentRepository(engine).find(args.email)
        if agent is None:
            raise fail(f"No agent with the email {args.email.strip().lower()}.")
        if not agent.active:
            raise fail(f"{agent.email} is disabled; enable the account first (a disabled account's tokens open nothing).")
        token = ApiTokens(engine).issue(agent.id)
    out.write(token + "\n")
    return EXIT_OK


def register_agents(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("agents", help="agent console accounts")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = sub.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", choices=ROLES, default="agent", help="agent (default) or admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=cmd_add)

    ls = sub.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    role = sub.add_parser("set-role", help="make an account agent or admin")
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("role", metavar="ROLE", choices=ROLES)
    role.set_defaults(handler=cmd_set_role)

    for name, handler, text in (
        ("disable", cmd_disable, "stop an account from signing in (ends its sessions)"),
        ("enable", cmd_enable, "let a disabled account sign in again"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("email", metavar="EMAIL")
        p.set_defaults(handler=handler)

    pw = sub.add_parser("set-password", help="set a new password (ends the account's sessions)")
    pw.add_argument("email", metavar="EMAIL")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.set_defaults(handler=cmd_set_password)

    token = sub.add_parser(
        "token",
        help="make a personal API token for the console's JSON API (printed once; earlier tokens are revoked)",
    )
    token.add_argument("email", metavar="EMAIL")
    token.set_defaults(handler=cmd_token)

    log = sub.add_parser("sign-ins", help="recent sign-in attempts, newest first")
    log.add_argument("--email", help="only this address")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=cmd_sign_ins)
