"""Scoring a directory of parquet files larger than memory, partition by partition.

:func:`score_parquet_dir` reads the directory with :func:`dask.dataframe.read_parquet`
and scores one partition at a time with the ordinary engine
(:func:`psychometrics.scoring.score`), so memory holds one partition, never the
whole data. The accounting is the engine's: every input row gets one output
row (with its file and row number), every offending cell is listed, and the
status counts per scale are summed over the partitions.
"""
from __future__ import annotations

import contextlib
import math
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataValidationError, PsychometricsError
from ..results import Summary
from .engine import score
from .plan import STATUSES, make_plan, resolve_instrument

__all__ = ["score_parquet_dir", "PartitionedScoreResult"]

#: Columns added to every output row: the input file and the 0-based row in it.
SOURCE_COLUMNS = ("source_file", "source_row")


class _Totals:
    def __init__(self, scales):
        self.counts = {s: dict.fromkeys(STATUSES, 0) for s in scales}
        self.sums = dict.fromkeys(scales, 0.0)
        self.n_scored = dict.fromkeys(scales, 0)
        self.n_rows = 0
        self.n_issues = 0

    def add(self, scores: pd.DataFrame, n_issues: int) -> None:
        self.n_rows += len(scores)
        self.n_issues += n_issues
        for s in self.counts:
            vc = scores[f"{s}_status"].value_counts()
            for k in STATUSES:
                self.counts[s][k] += int(vc.get(k, 0))
            v = scores[s].to_numpy(dtype=float)
            ok = np.isfinite(v)
            self.sums[s] += float(v[ok].sum())
            self.n_scored[s] += int(ok.sum())

    def table(self) -> pd.DataFrame:
        rows = []
        for s, c in self.counts.items():
            n = self.n_scored[s]
            rows.append({"scale": s, "n": self.n_rows, **c,
                         "mean": self.sums[s] / n if n else math.nan})
        return pd.DataFrame(rows, columns=["scale", "n", *STATUSES, "mean"])


@dataclass(frozen=True)
class PartitionedScoreResult:
    """Result of :func:`score_parquet_dir` (the scores themselves are on disk).

    Attributes
    ----------
    out : Path
        Directory of the score files, one ``part-NNNNN.parquet`` per input
        partition; each row carries ``source_file`` and ``source_row``.
    issues_out : Path or None
        Directory of the issue files (``invalid="missing"``), or None when
        there were none.
    n_rows_in, n_rows_out : int
        Rows read and rows written (always equal; checked).
    n_partitions : int
    n_issues : int
    table : DataFrame
        Status counts per scale summed over the partitions (as
        :meth:`ScoreResult.status_counts`), with the mean score (``to_frame()``).
    instrument : str
    n_duplicate_keys : int
        ``(id, time)`` pairs found more than once across the files
        (``invalid="missing"``; listed in ``<issues_out>/duplicates.parquet``).
    """

    out: Path
    issues_out: Path | None
    n_rows_in: int
    n_rows_out: int
    n_partitions: int
    n_issues: int
    table: pd.DataFrame
    instrument: str
    n_duplicate_keys: int = 0

    def summary(self) -> Summary:
        """Status counts per scale, rows in and out, issues."""
        return Summary(
            f"Scored {self.n_rows_out} of {self.n_rows_in} row(s) of {self.instrument} in "
            f"{self.n_partitions} partition(s)",
            (f"scores in {self.out}",
             f"{self.n_issues} data issue(s), {self.n_duplicate_keys} repeated (id, time)"
             + (f"; listed in {self.issues_out}" if self.issues_out is not None else "")),
            (("Status counts per scale:", self.table),))

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def score_parquet_dir(path: str | os.PathLike, instrument, out: str | os.PathLike, *,
                      form: str | None = None, invalid: Literal["raise", "missing"] = "raise",
                      id: str | None = None, time: str | None = None) -> PartitionedScoreResult:
    """Score every row of a directory of parquet files, one partition at a time.

    Parameters
    ----------
    path : path
        Directory of parquet files with wide data (one column per item, one row
        per administration), read by ``dask.dataframe.read_parquet`` with one
        partition per row group (write the files with row groups that fit in
        memory, e.g. ``to_parquet(..., row_group_size=100_000)``).
    instrument, form, invalid, id, time
        As in :func:`psychometrics.scoring.score`.
    out : path
        Directory for the scores (must not exist or be empty). Issues go to
        ``<out>_issues``.

    Returns
    -------
    PartitionedScoreResult

    Raises
    ------
    DataValidationError
        ``invalid="raise"`` and some partitions have offending cells, or an
        ``(id, time)`` occurs more than once across the files: every problem is
        listed with its file and row, and nothing is written (as
        :func:`~psychometrics.scoring.score`).
    PsychometricsError
        The directory does not exist, holds no parquet files, or the output
        directory is not empty; dask is not installed.

    Notes
    -----
    ``impute="item_mean"`` is not offered: item means depend on all rows,
    which a partition does not see. Long-format data are not supported here.
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise PsychometricsError("Scoring a directory of parquet files needs dask: pip install "
                                 "'psychometrics[power]'.") from None
    src = Path(path)
    if not src.is_dir():
        raise PsychometricsError(f"{str(src)!r} is not a directory of parquet files.")
    files = sorted(p for p in src.rglob("*.parquet") if p.is_file())
    if not files:
        raise PsychometricsError(f"The directory {str(src)!r} holds no *.parquet files.")
    if invalid not in ("raise", "missing"):
        raise ValueError(f"The 'invalid' parameter must be 'raise' or 'missing'. Got {invalid!r}.")
    dest = Path(out)
    issues_dest = dest.with_name(dest.name + "_issues")
    for d in (dest, issues_dest):
        if d.exists() and (not d.is_dir() or any(d.iterdir())):
            raise PsychometricsError(
                f"The output directory {str(d)!r} exists and is not empty; choose another "
                "--out or delete it.")
    inst = resolve_instrument(instrument)
    plan = make_plan(inst, form)

    import pyarrow.parquet as pq

    # one partition per row group, in file order; the plan says which file and rows each
    # partition holds (checked against every partition read)
    plan_parts = []
    for f in files:
        try:
            meta = pq.ParquetFile(f).metadata
        except (OSError, ValueError) as exc:
            raise PsychometricsError(f"Cannot read the parquet file {str(f)!r}: {exc}.") from None
        start = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if n:
                plan_parts.append((_rel(str(f), src), start, n))
            start += n
    with _quiet():
        ddf = dd.read_parquet([str(f) for f in files], split_row_groups=True)
    n_rows_in = 0
    problems: list[DataIssue] = []
    dups = None
    if id is not None and time is not None:
        dups = _cross_partition_duplicates(ddf, id, time)
        if invalid == "raise":
            problems += [DataIssue("several rows", None, f"{id}={a!r}, {time}={b!r}",
                                   f"administration occurs {int(n)} times in the files")
                         for a, b, n in dups.itertuples(index=False)]
    tmp = dest.with_name(dest.name + ".partial")
    tmp_issues = issues_dest.with_name(issues_dest.name + ".partial")
    for d in (tmp, tmp_issues):
        if d.exists():
            shutil.rmtree(d)
    tmp.mkdir(parents=True)
    totals = _Totals([s.id for s in plan.scales])
    n_parts = ddf.npartitions
    if n_parts != len(plan_parts):
        raise PsychometricsError(
            f"dask reads {n_parts} partitions from {str(src)!r} but the files have "
            f"{len(plan_parts)} non-empty row groups; the rows cannot be traced to their files.")
    try:
        for k, part in enumerate(ddf.to_delayed()):
            with _quiet():
                df = dask.compute(part, scheduler="synchronous")[0]
            if k >= len(plan_parts) or len(df) != plan_parts[k][2]:
                raise PsychometricsError(
                    f"Partition {k} of {str(src)!r} has {len(df)} rows, but the files' row "
                    "groups say otherwise; the rows cannot be traced to their files.")
            fname, start, n = plan_parts[k]
            srcf = np.full(n, fname, dtype=object)
            rows = np.arange(start, start + n, dtype=np.int64)
            n_rows_in += len(df)
            df = df.reset_index(drop=True)
            try:
                res = score(df, inst, form=form, invalid=invalid, id=id, time=time,
                            layout="wide")
            except DataValidationError as exc:
                problems += [_locate(i, fname, rows) for i in exc.issues]
                continue
            if problems:
                continue  # keep checking the rest; nothing will be written
            scores = res.scores.reset_index(drop=True)
            scores.insert(0, "source_row", rows)
            scores.insert(0, "source_file", srcf)
            if len(scores) != len(df):  # the engine's contract: one row out per row in
                raise PsychometricsError(
                    f"Partition {k}: {len(df)} rows in but {len(scores)} scored.")
            scores.to_parquet(tmp / f"part-{k:05d}.parquet", index=False)
            if len(res.issues):
                iss = res.issues.copy()
                pos = iss["row"].to_numpy()
                has = pd.notna(pos)
                iss.insert(0, "source_file",
                           [srcf[int(r)] if h else None for r, h in zip(pos, has)])
                iss.insert(1, "source_row",
                           pd.array([int(rows[int(r)]) if h else None for r, h in zip(pos, has)],
                                    dtype="Int64"))
                iss = iss.astype({"value": str})
                tmp_issues.mkdir(exist_ok=True)
                iss.to_parquet(tmp_issues / f"part-{k:05d}.parquet", index=False)
            totals.add(scores, len(res.issues))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tmp_issues, ignore_errors=True)
        raise
    if problems:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tmp_issues, ignore_errors=True)
        raise DataValidationError(
            f"The responses to {plan.instrument.id} in {str(src)!r} have {len(problems)} "
            f"problem(s); nothing was scored:", problems,
            hint="Correct the files, or pass invalid='missing' (--invalid missing) to score the "
                 "offending cells as blank and list them.")
    if totals.n_rows != n_rows_in:
        raise PsychometricsError(f"{n_rows_in} rows read but {totals.n_rows} scored.")
    n_dup = 0 if dups is None else len(dups)
    if n_dup:  # invalid='missing': every row is scored; the repeated keys are listed
        tmp_issues.mkdir(exist_ok=True)
        dups.assign(problem="administration occurs more than once in the files",
                    action="all rows scored").to_parquet(tmp_issues / "duplicates.parquet",
                                                         index=False)
    for d, t in ((dest, tmp), (issues_dest, tmp_issues)):
        if d.exists():
            d.rmdir()
        if t.exists():
            os.replace(t, d)
    return PartitionedScoreResult(
        out=dest, issues_out=issues_dest if issues_dest.exists() else None, n_rows_in=n_rows_in,
        n_rows_out=totals.n_rows, n_partitions=n_parts, n_issues=totals.n_issues,
        table=totals.table(), instrument=plan.instrument.id, n_duplicate_keys=n_dup)


@contextlib.contextmanager
def _quiet():
    """Silence dask's own use of a deprecated pandas keyword (not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword")
        yield


def _rel(f: str, root: Path) -> str:
    try:
        return str(Path(f).relative_to(root))
    except ValueError:
        return str(f)


def _locate(issue: DataIssue, fname: str, rows) -> DataIssue:
    r = issue.row
    if isinstance(r, (int, np.integer)) and 1 <= int(r) <= len(rows):
        where = f"{fname} row {int(rows[int(r) - 1])}"
    else:  # a whole-column problem
        where = f"{r} (file {fname}, rows {int(rows[0])}..{int(rows[-1])})"
    return DataIssue(where, issue.column, issue.value, issue.problem)


def _cross_partition_duplicates(ddf, id: str, time: str) -> pd.DataFrame:
    """(id, time) pairs that occur more than once anywhere in the files (reads 2 columns)."""
    for col in (id, time):
        if col not in ddf.columns:
            raise ValueError(f"The {col!r} column is not in the data; its columns are "
                             f"{[c for c in ddf.columns if c != 'source_file'][:12]}.")
    with _quiet():
        counts = ddf[[id, time]].groupby([id, time]).size().compute()
    dup = counts[counts > 1]
    return dup.rename("n_rows").reset_index()


def run_cli(args) -> int:
    """``psychometrics score DIRECTORY ... --out OUTDIR``: the partitioned route of the CLI."""
    import sys

    if args.norms:
        print("error: --norms is not available for a directory of parquet files (change is "
              "computed per patient over all rows); score the directory, then read the scores "
              "of the patients you need.", file=sys.stderr)
        return 2
    if args.impute != "none":
        print("error: --impute item_mean is not available for a directory of parquet files "
              "(item means need all rows at once).", file=sys.stderr)
        return 2
    if args.layout == "long":
        print("error: a directory of parquet files must hold wide data (one column per item).",
              file=sys.stderr)
        return 2
    res = score_parquet_dir(args.data, args.instrument, args.out, form=args.form,
                            invalid=args.invalid, id=args.id, time=args.time)
    print(res.summary().as_text())
    print(f"{res.n_rows_out} of {res.n_rows_in} rows scored in {res.n_partitions} partition(s); "
          f"scores written to {res.out}")
    if res.issues_out is not None:
        print(f"{res.n_issues} data issue(s) and {res.n_duplicate_keys} repeated (id, time) "
              f"written to {res.issues_out}", file=sys.stderr)
    return 0
