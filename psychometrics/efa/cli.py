"""``psychometrics efa adequacy | fit | omega | short-form DATA ...``.

Exposes ``register(subparsers)`` for :mod:`psychometrics.cli` (add
``"psychometrics.efa.cli"`` to its ``COMMAND_MODULES``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..exceptions import DataValidationError

__all__ = ["register", "read_table"]


def read_table(path: str, items: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/Excel/SPSS/parquet file of item responses ("NA"/empty = missing)."""
    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"Data file {path} does not exist.")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        df = pd.read_csv(p, na_values=["NA"])
    elif suffix in (".tsv", ".tab"):
        df = pd.read_csv(p, sep="\t", na_values=["NA"])
    elif suffix in (".xlsx", ".xls"):
        df = pd.read_excel(p)
    elif suffix == ".sav":
        df = pd.read_spss(p)
    elif suffix == ".parquet":
        df = pd.read_parquet(p)
    else:
        raise DataValidationError(
            f"Data file {path}: unknown extension {suffix!r}; use .csv, .tsv, .xlsx, .sav "
            "or .parquet.")
    if items:
        missing = [i for i in items if i not in df.columns]
        if missing:
            raise DataValidationError(
                f"Data file {path} has no column(s) {', '.join(missing)}; its columns are "
                f"{', '.join(map(str, df.columns[:30]))}.")
        df = df[items]
    return df


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="Item responses: .csv, .tsv, .xlsx, .sav or .parquet.")
    p.add_argument("--items", nargs="+", metavar="ITEM",
                   help="Columns to analyse (default: every column).")
    p.add_argument("--missing", choices=["pairwise", "listwise"], default="pairwise")


def _fit_args(p: argparse.ArgumentParser, default_factors: int | None = None) -> None:
    p.add_argument("--factors", "-k", type=int, required=default_factors is None,
                   default=default_factors, help="Number of factors.")
    p.add_argument("--method", default="minres", choices=["minres", "ml", "pa", "pc"])
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
    o.add_argument("--method", default="minres", choices=["minres", "ml", "pa"])
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
    data = read_table(args.data, args.items)
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
    data = read_table(args.data, args.items)
    res = fa(data, n_factors=args.factors, method=args.method, rotation=args.rotation,
             missing=args.missing)
    print(res.summary().as_text())
    if args.loadings_csv:
        res.loadings_long().to_csv(args.loadings_csv, index=False)
    return 0


def _omega(args) -> int:
    from . import omega
    data = read_table(args.data, args.items)
    res = omega(data, n_factors=args.factors, method=args.method, rotation=args.rotation,
                missing=args.missing)
    print(res.summary().as_text())
    return 0


def _short_form(args) -> int:
    from . import ShortFormRule, fa, select_items, short_form_to_bank
    data = read_table(args.data, args.items)
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
