"""Command-line options shared by every command that reads a data file."""
from __future__ import annotations

import argparse
import re

__all__ = ["add_read_options", "read_options", "cli_hints"]


def add_read_options(p: argparse.ArgumentParser) -> None:
    """``--sep``, ``--decimal``, ``--encoding`` (and ``--sheet``) for the data file."""
    g = p.add_argument_group("reading the data file")
    g.add_argument("--sep", metavar="CHAR",
                   help="CSV field separator (default: guessed from the header among , ; TAB |; "
                        "write TAB as '\\t')")
    g.add_argument("--decimal", metavar="CHAR",
                   help="CSV decimal mark (default '.', or ',' for ';'-separated files whose "
                        "numbers look like 2,5)")
    g.add_argument("--encoding", metavar="NAME",
                   help="CSV text encoding, e.g. cp1252 or latin-1 (default UTF-8)")
    g.add_argument("--sheet", metavar="NAME", default=None,
                   help="Excel sheet (name or 0-based number; default the first)")


def read_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`psychometrics.io.read_responses` from the options."""
    sep = getattr(args, "sep", None)
    if sep in ("\\t", "TAB", "tab"):
        sep = "\t"
    sheet = getattr(args, "sheet", None)
    if sheet is None:
        sheet = 0
    elif str(sheet).isdecimal():
        sheet = int(sheet)
    return {"sep": sep, "decimal": getattr(args, "decimal", None),
            "encoding": getattr(args, "encoding", None), "sheet": sheet}


#: Keyword arguments whose name differs from their command-line option.
_OPTION = {"value_labels": "--no-value-labels", "allow_partial": "--allow-partial",
           "allow_outside_paths": "--allow-outside-paths"}
#: Keyword arguments that the data commands offer as options of the same name.
_SAME = {"invalid", "impute", "encoding", "sep", "decimal", "missing", "use", "layout", "form",
         "id", "time", "sheet", "items", "max_gap"}
_KWARG = re.compile(r"\b([a-z][a-z_]*)=('([^']*)'|\"([^\"]*)\"|([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*))")


def cli_hints(message: str) -> str:
    """Rewrite Python-call hints in a message as command-line options.

    ``invalid='missing'`` becomes ``--invalid missing``; ``sep=';'`` becomes
    ``--sep ';'``; ``value_labels=False`` becomes ``--no-value-labels``.
    """
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in _SAME and name not in _OPTION:
            return m.group(0)
        value = next(g for g in m.groups()[2:] if g is not None)
        if name in _OPTION and value in ("True", "False"):
            return _OPTION[name]
        flag = "--" + name.replace("_", "-")
        if value in ("True",):
            return flag
        if re.fullmatch(r"[A-Za-z0-9_.\-]+", value):
            return f"{flag} {value}"
        return f"{flag} '{value}'"
    message = message.replace("listed in result.issues",
                              "listed in the _issues file written beside --out")
    return _KWARG.sub(sub, message)
