"""``psychometrics irt fit DATA ...``: fit a unidimensional IRT model from a data file and
print its summary; optionally write the parameters, EAP scores and the sum-score table.

Exposes ``register(subparsers)`` for :mod:`psychometrics.cli`.
"""
from __future__ import annotations

import argparse

__all__ = ["register"]


def _fit(args) -> int:
    from ..efa.cli import read_table      # the package's one data-file reader
    from .model import fit_irt
    from .scoring import score_persons, sum_score_table

    df = read_table(args.data, args.items)
    res = fit_irt(df, model=args.model, missing=args.missing)
    print(res.summary().as_text())
    if args.params:
        res.to_frame(args.form).to_csv(args.params, index=False)
    if args.scores:
        score_persons(res, method=args.score_method).to_frame().to_csv(args.scores,
                                                                       index=False)
    if args.sum_score_table:
        sum_score_table(res).to_frame().to_csv(args.sum_score_table, index=False)
    return 0 if res.converged else 1


def register(sub) -> None:
    p = sub.add_parser("irt", help="Item response theory (graded response / GPCM models).")
    s = p.add_subparsers(dest="irt_command", metavar="SUBCOMMAND")
    s.required = True
    f = s.add_parser("fit", help="Fit a unidimensional model and print its summary.")
    f.add_argument("data", help="Item responses: .csv, .tsv, .xlsx, .sav or .parquet.")
    f.add_argument("--items", nargs="+", metavar="ITEM", help="Item columns (default: all).")
    f.add_argument("--model", default="graded", choices=["graded", "gpcm", "graded_probit"])
    f.add_argument("--missing", default="ml", choices=["ml", "listwise", "raise"])
    f.add_argument("--form", default="slope_intercept", choices=["slope_intercept", "irt"],
                   help="Parameterisation written by --params.")
    f.add_argument("--params", metavar="CSV", help="Write the parameter table here.")
    f.add_argument("--scores", metavar="CSV", help="Write person scores here.")
    f.add_argument("--score-method", default="eap", choices=["eap", "map"])
    f.add_argument("--sum-score-table", metavar="CSV",
                   help="Write the EAP sum-score conversion table here.")
    f.set_defaults(func=_fit)
