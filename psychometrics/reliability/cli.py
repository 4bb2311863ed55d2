"""``psychometrics reliability``: reliability of every scale of an item bank.

    psychometrics reliability DATA --instrument NAME [--form FORM] [--scale SCALE]...
                              [--missing pairwise|listwise] [--ordinal] [--seed N]
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
from pathlib import Path

from ..io.cli_options import add_read_options, read_options

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
    p.add_argument("--missing", choices=("pairwise", "listwise"), default="pairwise",
                   help="missing data: pairwise-complete covariances (psych default) or complete rows")
    p.add_argument("--ordinal", action="store_true", help="also ordinal alpha (polychoric)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampled split-halves (> 16 items)")
    p.add_argument("--id", metavar="COL",
                   help="patient id column: with repeated assessments, use one per patient "
                        "(see --occasion)")
    p.add_argument("--time", metavar="COL", help="occasion column (orders --occasion first/last)")
    p.add_argument("--occasion", choices=("first", "last", "all"), default=None,
                   help="with --id: each patient's first or last assessment, or all rows "
                        "(default: first when patients repeat, with a warning naming the count)")
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
    data = _one_per_patient(data, args)
    if len(data) < 2:
        from ..exceptions import DataValidationError

        raise DataValidationError(
            f"Data file {Path(args.data).name}: {len(data)} data row(s) to analyse; "
            "reliability needs the responses of at least 2 respondents (and in practice many "
            "more). Check that the file holds every respondent's row.")
    n_items = len(inst.with_form(args.form).item_ids) if args.form else len(inst.item_ids)
    if n_items > 200:
        print(f"note: {inst.id} has {n_items} items; computing the reliability of its scales "
              f"from {len(data)} rows (each scale's correlation matrix is decomposed once) ...",
              file=sys.stderr, flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = instrument_reliability(data, inst, form=args.form, scales=args.scale, missing=args.missing,
                                     ordinal=args.ordinal, seed=args.seed)
    print(res.summary().as_text())
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.out:
        print(f"scale table written to {write_table(res.table, args.out)}")
    if args.items_out:
        print(f"item table written to {write_table(res.items, args.items_out)}")
    return 0


#: Column names that identify patients when --id is not given.
_ID_NAMES = ("id", "pid", "patient", "patient_id", "client", "client_id", "subject",
             "subject_id", "person", "case_id", "respondent")


def _one_per_patient(data, args):
    """Repeated assessments of the same patients are not independent: with
    ``--id``, keep one row per patient (``--occasion``); without it, warn when a
    column named like a patient id repeats."""
    idcol = args.id
    if idcol is None:
        for c in data.columns:
            if str(c).strip().lower() in _ID_NAMES and data[c].duplicated().any():
                n_pat = data[c].nunique()
                print(f"warning: column {c!r} looks like a patient id and has {len(data)} rows "
                      f"for {n_pat} patients; alpha and its interval treat every row as an "
                      f"independent respondent. Pass --id {c} (and --time) to use one "
                      f"assessment per patient, or --id {c} --occasion all to keep every row.",
                      file=sys.stderr)
                break
        return data
    if idcol not in data.columns:
        from ..exceptions import DataValidationError

        raise DataValidationError(f"The id column {idcol!r} is not in {args.data}; its columns "
                                  f"are {', '.join(map(str, data.columns[:20]))}.")
    occasion = args.occasion
    repeats = data[idcol].duplicated()
    if not repeats.any() or occasion == "all":
        if repeats.any():
            print(f"warning: {int(repeats.sum())} rows repeat a patient of {idcol!r} "
                  f"({data[idcol].nunique()} patients, {len(data)} rows); all rows are used as "
                  "if independent (--occasion all).", file=sys.stderr)
        return data
    order = data
    if args.time is not None:
        if args.time not in data.columns:
            from ..exceptions import DataValidationError

            raise DataValidationError(f"The time column {args.time!r} is not in {args.data}.")
        order = data.sort_values(args.time, kind="stable")
    keep = order.drop_duplicates(idcol, keep="last" if occasion == "last" else "first")
    keep = data.loc[sorted(keep.index)]
    print(f"note: {len(data)} rows of {data[idcol].nunique()} patients; using each patient's "
          f"{occasion or 'first'} assessment ({len(keep)} rows, {len(data) - len(keep)} left "
          "out). Pass --occasion all to use every row.", file=sys.stderr)
    return keep
