"""``loginhelp settings``: check the environment before a server starts, print the defaults for the run scripts."""
from __future__ import annotations

import argparse
from typing import TextIO

from .. import settings
from .common import EXIT_OK, EXIT_USAGE, CommandError


def cmd_settings_check(args: argparse.Namespace, out: TextIO) -> int:
    found = settings.problems(mode=args.mode)
    if found:
        raise CommandError("bad settings in the environment:\n  " + "\n  ".join(found), EXIT_USAGE)
    out.write(f"Settings are valid for {args.mode}.\n")
    return EXIT_OK


def cmd_settings_export(args: argparse.Namespace, out: TextIO) -> int:
    try:
        out.write(settings.export(mode=args.mode))
    except settings.SettingsError as exc:
        raise CommandError("bad settings in the environment:\n  " + str(exc).replace("\n", "\n  "), EXIT_USAGE) from None
    return EXIT_OK


def cmd_settings_table(args: argparse.Namespace, out: TextIO) -> int:
    out.write(settings.markdown_table())
    return EXIT_OK


def register_settings(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("settings", help="environment variables")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, handler, help_text in (
        ("check", cmd_settings_check, "exit 2 naming every variable with a value the project cannot use"),
        ("export", cmd_settings_export, "print every setting, defaults applied, as shell assignments"),
    ):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("--mode", choices=settings.MODES, default="run",
                            help="run (make run) or prod (make run-prod): the defaults differ")
        parser.set_defaults(handler=handler)
    table = sub.add_parser("table", help="the README's table of settings (Markdown)")
    table.set_defaults(handler=cmd_settings_table)
