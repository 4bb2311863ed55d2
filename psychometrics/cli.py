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
    "psychometrics.power.cli",
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
        print(f"error: {_cli_message(exc, args)}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _cli_message(exc: PsychometricsError, args: argparse.Namespace) -> str:
    """The message of ``exc`` for a command-line user: hints as options
    (``--invalid missing``), and data issues beyond the listed ones written to
    a CSV file that the message names."""
    from .exceptions import DataValidationError
    from .io.cli_options import cli_hints

    msg = str(exc)
    if isinstance(exc, DataValidationError) and len(exc.issues) > exc.max_listed:
        path = _issues_path(args)
        try:
            exc.to_frame().astype({"value": str}).to_csv(path, index=False)
            msg = exc.format(more=f"all of them are listed in {path}")
        except OSError:
            pass
    from .exceptions import EstimationError, ModelSpecificationError

    # problems of the data read from the command's input file (bank, study, store and
    # design errors name their own files)
    if isinstance(exc, (DataValidationError, ModelSpecificationError, EstimationError)):
        msg = _name_the_file(msg, args)
    return cli_hints(msg)


def _name_the_file(msg: str, args: argparse.Namespace) -> str:
    """Prefix ``msg`` with the input file the command read when the message does not
    name it (errors raised on a DataFrame cannot know where it came from)."""
    from pathlib import Path

    for attr in ("data", "file", "design", "study"):
        value = getattr(args, attr, None)
        if isinstance(value, (str, Path)) and str(value):
            name = Path(value).name
            if name and name not in msg:
                return f"{name}: {msg}"
            return msg
    return msg


def _issues_path(args: argparse.Namespace):
    from pathlib import Path

    out = getattr(args, "out", None) or getattr(args, "output", None)
    if out and Path(out).suffix:
        p = Path(out)
        return p.with_name(f"{p.stem}_issues.csv")
    data = getattr(args, "data", None) or getattr(args, "study", None)
    stem = Path(data).stem if data else "psychometrics"
    return Path.cwd() / f"{stem}_issues.csv"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
