"""``psychometrics reliability``: reliability of every scale of an item bank.

    psychometrics reliability DATA --instrument NAME [--form FORM] [--scale SCALE]...
                              [--use pairwise|listwise] [--ordinal] [--seed N]
                              [--out FILE] [--items-out FILE]

Reads a wide response file (one column per item id of the bank), prints the
scale table (alpha, G6, average r, Feldt interval, split-half, optionally
ordinal alpha) and writes it to ``--out`` and the item table (item-rest r,
alpha if dropped, floor/ceiling) to ``--items-out`` (format from the extension:
.csv, .xlsx, .sav, .parquet).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from ..io._cli import add_read_options, read_options

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reliability", help="alpha, lambda 6, split-half (and ordinal alpha) of every scale",
        description="Reliability of every scale of an item bank from raw responses "
                    "(psych::alpha and psych::splitHalf per scale; psych 2.2.9 numbers).")
    p.add_argument("data", help="wide response file (.csv, .tsv, .xlsx, .sav, .parquet)")
    p.add_argument("--instrument", "-i", required=True,
                   help="shipped bank name (e.g. oq-45.2, wai-sr) or a YAML path")
    p.add_argument("--form", help="form of the instrument (default: its default form)")
    p.add_argument("--scale", action="append", help="scale id (repeatable; default: all)")
    p.add_argument("--use", choices=("pairwise", "listwise"), default="pairwise",
                   help="missing data: pairwise-complete covariances (psych default) or complete rows")
    p.add_argument("--ordinal", action="store_true", help="also ordinal alpha (polychoric)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampled split-halves (> 16 items)")
    p.add_argument("--out", "-o", help="write the scale table here")
    p.add_argument("--items-out", help="write the item table here")
    add_read_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..instruments import load_instrument
    from ..io import file_format, read_responses, write_table
    from ._instrument import instrument_reliability

    for path in (args.out, args.items_out):
        if path:
            file_format(path)  # fail on an unknown extension before any work
    inst = load_instrument(args.instrument)
    data = read_responses(args.data, instrument=inst, **read_options(args))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = instrument_reliability(data, inst, form=args.form, scales=args.scale, use=args.use,
                                     ordinal=args.ordinal, seed=args.seed)
    print(res.summary().as_text())
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.out:
        print(f"scale table written to {write_table(res.table, args.out)}")
    if args.items_out:
        print(f"item table written to {write_table(res.items, args.items_out)}")
    return 0
