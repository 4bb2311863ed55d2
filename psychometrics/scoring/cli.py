"""``psychometrics score``: score a response file against an item bank.

    psychometrics score DATA --instrument NAME [--form FORM] [--norms NAME]
                        [--id COL] [--time COL] [--invalid raise|missing]
                        [--impute none|item_mean] [--scale SCALE] --out FILE

Writes the scores to ``--out`` (format from its extension: .csv, .xlsx, .sav,
.parquet). With ``--invalid missing``, the issues go to ``<out>_issues.<ext>``;
with ``--norms`` (and ``--id``), the clinical significance of each patient's
change on ``--scale`` (default every scale the norm set covers) goes to
``<out>_clinical.<ext>``. A summary is printed.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from ..io.cli_options import add_read_options, read_options

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="score item responses against an item bank",
        description="Score a response file (CSV, Excel, SPSS .sav, parquet; wide or long) "
                    "against an item bank and write one row of scale scores per input row.")
    p.add_argument("data", help="response file (.csv, .tsv, .xlsx, .sav, .parquet)")
    p.add_argument("--instrument", "-i", required=True,
                   help="shipped bank name (e.g. oq-45.2, wai-sr) or a YAML path")
    p.add_argument("--form", help="form of the instrument (default: its default form)")
    p.add_argument("--norms", help="norm set for clinical significance (e.g. us, nl)")
    p.add_argument("--scale", action="append",
                   help="scale for clinical significance (repeatable; default: every scale "
                        "the norm set covers)")
    p.add_argument("--id", help="patient id column")
    p.add_argument("--time", help="occasion column")
    p.add_argument("--invalid", choices=("raise", "missing"), default="raise",
                   help="offending cells: stop with one error listing all (raise, default) or "
                        "treat as blank and list them (missing)")
    p.add_argument("--impute", choices=("none", "item_mean"), default="none",
                   help="item_mean: blanks replaced by the item's sample mean "
                        "(psych::scoreItems impute='mean')")
    p.add_argument("--layout", choices=("auto", "wide", "long"), default="auto")
    p.add_argument("--out", "-o", required=True, help="output file (.csv, .xlsx, .sav, .parquet)")
    p.add_argument("--no-value-labels", dest="value_labels", action="store_false",
                   help="keep SPSS codes as they are (do not map value labels onto the bank's "
                        "response scale)")
    add_read_options(p)
    p.set_defaults(func=run)


def _sibling(out: Path, tag: str) -> Path:
    return out.with_name(f"{out.stem}_{tag}{out.suffix}")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as exc:
        from ..exceptions import PsychometricsError

        if isinstance(exc, PsychometricsError):
            raise  # the main CLI prints these
        name = Path(args.data).name
        print(f"error: {'' if name in str(exc) else name + ': '}{exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from ..io import file_format, read_responses, write_table
    from .clinical import clinical_significance
    from .engine import score
    from .plan import make_plan, resolve_instrument

    if Path(args.data).is_dir():  # a directory of parquet files, scored partition by partition
        from .partitioned import run_cli

        return run_cli(args)
    out = Path(args.out)
    file_format(out)  # fail on an unknown extension before doing any work
    inst = resolve_instrument(args.instrument)
    plan = make_plan(inst, args.form)
    data = read_responses(args.data, instrument=plan.instrument,
                          value_labels=getattr(args, "value_labels", True), **read_options(args))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = score(data, inst, form=args.form, invalid=args.invalid, id=args.id, time=args.time,
                    impute=args.impute, layout=args.layout)
    for w in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {w}", file=sys.stderr)
    write_table(res.scores, out)
    print(res.summary().as_text())
    print(f"scores written to {out}")
    if len(res.issues):
        path = _sibling(out, "issues")
        table = res.issues.astype({"value": str})
        table.insert(0, "data_row", table["row"].map(lambda r: None if pd.isna(r) else int(r) + 1))
        write_table(table.drop(columns="row"), path)
        print(f"{len(res.issues)} data issue(s) written to {path} (data_row counts from 1 at "
              "the first row below the header)", file=sys.stderr)
    if args.norms:
        if args.id is None:
            print("error: --norms needs --id (change is computed per patient).", file=sys.stderr)
            return 2
        if args.norms not in inst.norms:
            print(f"error: {inst.id} has no norm set {args.norms!r}; it has "
                  f"{', '.join(inst.norms) or 'none'}.", file=sys.stderr)
            return 2
        scales = args.scale or [s for s in inst.norms[args.norms].scales if s in res.scales]
        tables = []
        for sc in scales:
            try:
                cs = clinical_significance(res, scale=sc, norms=args.norms)
            except ValueError as exc:
                print(f"clinical significance of {sc} skipped: {exc}", file=sys.stderr)
                continue
            t = cs.table.copy()
            t.insert(1, "scale", sc)
            t.insert(2, "method", cs.method)
            t.insert(3, "cutoff", cs.cutoff)
            tables.append(t)
            print(f"\nclinical significance, {sc} ({args.norms} norms, {cs.method}):")
            print(cs.summary().as_text())
        if tables:
            path = _sibling(out, "clinical")
            write_table(pd.concat(tables, ignore_index=True), path)
            print(f"clinical significance written to {path}")
    return 0
