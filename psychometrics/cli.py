"""Command-line interface: ``psychometrics COMMAND ...``.

Each command group lives beside the code it drives, in a module that exposes
``register(subparsers)``; this file only assembles them, so adding a command
never means editing a central switch.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .exceptions import PsychometricsError

# Modules that contribute commands, in the order they appear in --help.
COMMAND_MODULES = (
    "psychometrics.instruments.cli",
    "psychometrics.efa.cli",
    "psychometrics.reliability.cli",
    "psychometrics.scoring.cli",
    "psychometrics.report.cli",
    "psychometrics.simulate.cli",
    "psychometrics.tracking.cli",
    "psychometrics.irt.cli",
)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="psychometrics",
        description="Score and validate psychotherapy questionnaires.",
    )
    parser.add_argument("--version", action="version", version=f"psychometrics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command group not built yet
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PsychometricsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
