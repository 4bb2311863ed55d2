"""``psychometrics power``: Monte Carlo power of a within/between design.

    psychometrics power DESIGN.yaml --out DIR [--workers N | --scheduler tcp://HOST:8786]
                        [--figure FILE.png] [--effect within] [--no-progress] [--restart]

Writes ``DIR/design.json``, one parquet file of replication records per
finished cell (``DIR/cells/``), the performance table ``DIR/power.csv`` and,
with ``--figure``, the power curve. Rerunning with the same ``--out`` resumes
an interrupted run. Prints the summary with the smallest design reaching the
target power.
"""
from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "power", help="Monte Carlo power of a within/between design (local processes or Dask)",
        description="Simulate and fit every cell of a design grid (YAML file), report power, "
                    "bias, RMSE and coverage with Monte Carlo SEs and the smallest design "
                    "reaching the target power.")
    p.add_argument("design", type=Path, help="design file (YAML; see docs/power.md)")
    p.add_argument("--out", "-o", type=Path, required=True,
                   help="output directory (per-cell parquet files; reused to resume)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: number of CPUs; 1: in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (needs the power extra)")
    p.add_argument("--figure", type=Path, default=None,
                   help="write the power curve to this image file (.png, .pdf, .svg)")
    p.add_argument("--effect", default="within",
                   help="effect of the power curve (within, between, contextual)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--restart", action="store_true",
                   help="rerun every cell even if its results are in --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .runner import run_power

    res = run_power(args.design, out=args.out, workers=args.workers, scheduler=args.scheduler,
                    progress=not args.no_progress, resume=not args.restart)
    table_path = args.out / "power.csv"
    res.table.to_csv(table_path, index=False)
    print(res.summary().as_text())
    print(f"\nperformance table written to {table_path}")
    if args.figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        fig = res.plot(args.effect)
        fig.savefig(args.figure, dpi=150, bbox_inches="tight")
        print(f"power curve written to {args.figure}")
    return 0
