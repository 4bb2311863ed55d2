"""``psychometrics efa adequacy | fit | omega | short-form DATA ...``.

Exposes ``register(subparsers)`` for :mod:`psychometrics.cli`. Data are read
by :func:`psychometrics.io.read_responses`, the package's one reader.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..exceptions import DataValidationError
from ..io.cli_options import add_read_options, read_options

__all__ = ["register", "read_table"]


#: Column names taken for ids, occasions and groups, never analysed by default.
_NOT_ITEMS = {"id", "pid", "patient", "patient_id", "subject", "subject_id", "client",
              "client_id", "case", "case_id", "person", "respondent", "time", "month", "week",
              "day", "session", "occasion", "wave", "visit", "date", "group", "cluster",
              "therapist", "therapist_id", "site", "condition", "arm"}


def read_table(path: str, items: list[str] | None = None, *, instrument: str | None = None,
               form: str | None = None, report=None, **read_kw) -> pd.DataFrame:
    """Read item responses with :func:`psychometrics.io.read_responses` and pick
    the item columns.

    Items are, in this order of preference: ``items``; the item ids of
    ``instrument`` (a bank, optionally with ``form``); else every column that
    looks like item responses (numeric whole numbers with at most 11
    distinct values, not named like an id, occasion or group). Columns left
    out are passed to ``report`` (a callable taking a line) with the reason.
    """
    from ..io import read_responses

    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"Data file {path} does not exist.")
    inst = None
    if instrument is not None:
        from ..instruments import load_instrument

        inst = load_instrument(instrument).with_form(form)
    df = read_responses(p, instrument=inst, **read_kw)
    if inst is not None and not items:
        # the bank's items, checked against its response scale by the input layer
        from ..io import item_data

        try:
            return item_data(df, inst).responses
        except DataValidationError as exc:     # these commands have no --invalid option
            raise DataValidationError(exc.summary, exc.issues,
                                      hint="Correct the values or leave the cells blank.",
                                      max_listed=exc.max_listed) from None
    if items:
        missing = [i for i in items if i not in df.columns]
        if missing:
            raise DataValidationError(
                f"Data file {path} has no column(s) {', '.join(missing)}; its columns are "
                f"{', '.join(map(str, df.columns[:30]))}.")
        return df[items]
    keep, left = [], []
    for c in df.columns:
        s = df[c]
        name = str(c).strip().lower()
        if name in _NOT_ITEMS or name.endswith(("_id", "_time", "_date")):
            left.append(f"{c} (named like an id, occasion or group column)")
        elif not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            left.append(f"{c} (not numeric)")
        elif s.notna().sum() == 0:
            left.append(f"{c} (no responses)")
        else:
            obs = s.dropna().to_numpy(dtype=float)
            if not (obs == obs.round()).all():
                left.append(f"{c} (not whole numbers: a score, not an item response)")
            elif len(set(obs.tolist())) > 11:
                left.append(f"{c} (more than 11 distinct values: an id, score or count, not an "
                            "item response)")
            else:
                keep.append(c)
    if not keep:
        raise DataValidationError(
            f"Data file {path}: no column looks like item responses (numeric whole numbers "
            f"with at most 11 distinct values); name the items with --items or --instrument.")
    if left and report is not None:
        report(f"Analysing {len(keep)} item column(s); left out {len(left)}: "
               + "; ".join(left) + ". Choose the columns with --items or --instrument.")
    return df[keep]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="Item responses: .csv, .tsv, .xlsx, .sav or .parquet.")
    p.add_argument("--items", nargs="+", metavar="ITEM",
                   help="Columns to analyse (default: the --instrument's items, else every "
                        "column that looks like item responses; the others are listed).")
    p.add_argument("--instrument", "-i", metavar="BANK",
                   help="Analyse this bank's items (shipped name or YAML path).")
    p.add_argument("--form", help="Form of --instrument (default: all its items).")
    p.add_argument("--missing", choices=["pairwise", "listwise"], default="pairwise")
    add_read_options(p)


def _data(args) -> pd.DataFrame:
    return read_table(args.data, args.items, instrument=args.instrument, form=args.form,
                      report=lambda line: print(line, file=sys.stderr), **read_options(args))


def _fit_args(p: argparse.ArgumentParser, default_factors: int | None = None) -> None:
    p.add_argument("--factors", "-k", type=int, required=default_factors is None,
                   default=default_factors, help="Number of factors.")
    p.add_argument("--method", default="minres",
                   choices=["minres", "ml", "wls", "gls", "pa", "pc"])
    p.add_argument("--rotation", default="oblimin")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("efa", help="Exploratory factor analysis (psych-equal).")
    sub = p.add_subparsers(dest="efa_command", metavar="ACTION")
    sub.required = True

    a = sub.add_parser("adequacy", help="KMO, Bartlett, MAP and parallel analysis.")
    _common(a)
    a.add_argument("--n-iter", type=int, default=20, help="Parallel-analysis iterations.")
    a.add_argument("--seed", type=int, default=None)
    a.set_defaults(func=_adequacy)

    f = sub.add_parser("fit", help="Fit a factor model and print its summary.")
    _common(f)
    _fit_args(f)
    f.add_argument("--loadings-csv", help="Also write the tidy loadings to this CSV file.")
    f.set_defaults(func=_fit)

    o = sub.add_parser("omega", help="Omega hierarchical / total (Schmid-Leiman).")
    _common(o)
    o.add_argument("--factors", "-k", type=int, default=3, help="Group factors (default 3).")
    o.add_argument("--method", default="minres", choices=["minres", "ml", "wls", "gls", "pa"])
    o.add_argument("--rotation", default="oblimin")
    o.set_defaults(func=_omega)

    s = sub.add_parser("short-form", help="Choose a short form and add it to an item bank.")
    _common(s)
    _fit_args(s)
    s.add_argument("--per-factor", type=int, default=3, help="Items kept per factor.")
    s.add_argument("--min-loading", type=float, default=0.40)
    s.add_argument("--max-cross-loading", type=float, default=0.30)
    s.add_argument("--min-gap", type=float, default=0.0)
    s.add_argument("--bank", help="Item bank (shipped name or YAML) to add the form to.")
    s.add_argument("--form-id", help="Key of the new form in the bank.")
    s.add_argument("--output", help="Where to write the bank with the new form.")
    s.set_defaults(func=_short_form)


def _adequacy(args) -> int:
    from . import bartlett, kmo, parallel_analysis, velicer_map
    data = _data(args)
    print(kmo(data, missing=args.missing).summary().as_text())
    print()
    print(bartlett(data, missing=args.missing).summary().as_text())
    print()
    print(velicer_map(data, missing=args.missing).summary().as_text())
    print()
    pa = parallel_analysis(data, n_iter=args.n_iter, seed=args.seed, missing=args.missing)
    print(pa.summary().as_text())
    return 0


def _fit(args) -> int:
    from . import fa
    data = _data(args)
    res = fa(data, n_factors=args.factors, method=args.method, rotation=args.rotation,
             missing=args.missing)
    print(res.summary().as_text())
    if args.loadings_csv:
        res.loadings_long().to_csv(args.loadings_csv, index=False)
    return 0


def _omega(args) -> int:
    from . import omega
    data = _data(args)
    res = omega(data, n_factors=args.factors, method=args.method, rotation=args.rotation,
                missing=args.missing)
    print(res.summary().as_text())
    return 0


def _short_form(args) -> int:
    from . import ShortFormRule, fa, select_items, short_form_to_bank
    data = _data(args)
    res = fa(data, n_factors=args.factors, method=args.method, rotation=args.rotation,
             missing=args.missing)
    rule = ShortFormRule(items_per_factor=args.per_factor, min_loading=args.min_loading,
                         max_cross_loading=args.max_cross_loading, min_gap=args.min_gap)
    sf = select_items(res, rule)
    print(sf.summary().as_text())
    if args.bank:
        if not args.form_id or not args.output:
            raise DataValidationError("--bank needs --form-id and --output.")
        short_form_to_bank(sf, args.bank, args.form_id, output=args.output)
        print(f"\nWrote {args.output} with form {args.form_id!r}.")
    return 0
