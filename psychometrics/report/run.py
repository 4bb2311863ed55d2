"""The analysis runner: study file -> data -> preflight -> results.

The runner is the only part of the report package that calls computations: it
calls the public functions of the analysis modules (scoring, reliability, efa,
sem, multilevel) and collects their result objects in :class:`StudyResults`.
The section builders and renderers only format those results.

Each analysis is a *step*. A step that raises does not stop the run: its
:class:`Outcome` keeps the error, and its section says why it is missing.
Warnings raised during a step (non-convergence, Heywood cases, singular fits)
are kept on the outcome and printed in the section. Before any step starts,
:func:`preflight` checks everything that can be checked cheaply (columns,
numeric responses within the response scale, enough cases for each analysis)
and raises :class:`~psychometrics.exceptions.StudyFileError` naming the place
in the study file.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..exceptions import BankIssue, DataValidationError, PsychometricsError, StudyFileError, plain
from ..io.itemdata import item_data
from . import adapters, describe, irt_adapter
from .context import (AnalysisUnavailable, Context, Outcome, StudyData, StudyResults,  # noqa: F401
                      describe_error, occasion_text, per_instrument, run_guarded,
                      select_occasion)
from .study import Study

# Old private names, for code written before report/context.py (import from .context instead;
# report.adapters and the sections must not import run, which imports them)
_occasion_text, _per_instrument = occasion_text, per_instrument
_describe_error, _run_guarded = describe_error, run_guarded

__all__ = ["AnalysisUnavailable", "Outcome", "StudyData", "StudyResults", "load_data", "preflight", "run_study",
           "select_occasion", "STEPS"]


# ---------------------------------------------------------------------- data
def load_data(study: Study) -> StudyData:
    """Read and merge the data files and pick out each instrument's items.

    Raises
    ------
    StudyFileError
        A file cannot be read, a mapped column or the id/time column is absent,
        responses are not numbers or lie outside the instrument's response scale.
    """
    from ..io import read_responses

    ds = study.data
    frames = []
    # SPSS value labels are mapped onto each instrument's response scale, by data column
    by_column = {}
    for key in study.instruments:
        if key in study._banks:
            for col in study.item_columns(key).values():
                by_column.setdefault(col, study.instrument(key))
    for k, path in enumerate(study.data_paths()):
        try:
            frames.append(read_responses(path, instrument=by_column or None,
                                         na_values=tuple(ds.missing_values), sep=ds.sep,
                                         decimal=ds.decimal, encoding=ds.encoding))
        except PsychometricsError as exc:
            raise StudyFileError(study.source, [study.issue(
                f"data.files[{k}]", str(exc))]) from None
    issues: list[BankIssue] = []
    for k, f in enumerate(frames):
        for what in ("id", "time"):
            col = getattr(ds, what)
            if col not in f.columns:
                issues.append(study.issue(f"data.{what}", f"column {col!r} is not in data file "
                                                          f"{ds.files[k]!r} (its columns: "
                                                          f"{_cols(f)})."))
    if issues:
        raise StudyFileError(study.source, issues)
    frame = frames[0]
    for f in frames[1:]:
        frame = frame.merge(f, on=[ds.id, ds.time], how="outer", suffixes=("", "__dup"))
    frame = frame.sort_values([ds.id, ds.time], kind="stable")
    # data row (1-based) in the file of each row of the sorted frame (one file only; rows of
    # several merged files have no single file row)
    file_rows = frame.index.to_numpy() + 1 if len(frames) == 1 else None
    frame = frame.reset_index(drop=True)

    tnum = pd.to_numeric(frame[ds.time], errors="coerce")
    if tnum.isna().any():
        pos = int(np.flatnonzero(tnum.isna().to_numpy())[0])
        bad = plain(frame[ds.time].iat[pos])
        where = (f" in data row {file_rows[pos]} of {Path(study.data_paths()[0]).name}"
                 if file_rows is not None else "")
        issues.append(study.issue("data.time", f"time column {ds.time!r} must hold numbers "
                                               f"(occasion number, month, week); found {bad!r}"
                                               f"{where}; correct it."))
    else:
        frame[ds.time] = tnum
    dup = frame.duplicated([ds.id, ds.time])
    if dup.any():
        r = frame.loc[dup].iloc[0]
        issues.append(study.issue("data", f"{int(dup.sum())} rows repeat a (id, time) pair, e.g. "
                                          f"{ds.id}={r[ds.id]!r}, {ds.time}={r[ds.time]!r}; each "
                                          "patient may have one row per occasion."))

    items: dict[str, pd.DataFrame] = {}
    idata: dict = {}
    colmap: dict[str, dict[str, str]] = {}
    for key in study.instruments:
        inst = study.instrument(key)
        cols = study.item_columns(key)
        colmap[key] = cols
        absent = [(iid, c) for iid, c in cols.items() if c not in frame.columns]
        for iid, c in absent:
            where = (f"instruments.{key}.columns.{iid}" if iid in study.instruments[key].columns
                     else f"instruments.{key}")
            issues.append(study.issue(where, f"column {c!r} (item {iid} of {inst.id}) is not in "
                                             f"the data (its columns: {_cols(frame)})."))
        if absent:
            continue
        try:
            # the one response check of the package: items mapped to ids, scale checked once
            idata[key] = item_data(frame, inst, columns=cols, id=ds.id, time=ds.time)
        except DataValidationError as exc:
            issues.extend(_response_issues(study, key, inst, exc, file_rows))
            continue
        items[key] = idata[key].responses
    if len(issues) > 30:
        issues = issues[:30] + [BankIssue("", f"... and {len(issues) - 30} more problems.")]
    if issues:
        raise StudyFileError(study.source, issues)
    return StudyData(frame=frame, items=items, columns=colmap, files=tuple(study.data_paths()),
                     item_data=idata)


def _response_issues(study: Study, key: str, inst, exc: DataValidationError,
                     file_rows=None) -> list[BankIssue]:
    """Study-file issues from the input layer's error: one per column, with its count and
    first example (the study file names columns, not cells)."""
    lo, hi = inst.response_scale.min, inst.response_scale.max
    by_col: dict = {}
    for i in exc.issues:
        by_col.setdefault((i.column, i.problem.split(";")[0]), []).append(i)
    out = []
    for (col, what), lst in by_col.items():
        first = lst[0]
        if what.startswith("the id is missing") or what.startswith("the time is missing"):
            key = "data.id" if what.startswith("the id") else "data.time"
            nums = [i.data_row if file_rows is None else file_rows[i.data_row - 1]
                    for i in lst[:5]]
            src = "" if file_rows is None else f" of {Path(study.data_paths()[0]).name}"
            rows = ", ".join(str(n) for n in nums) + (" ..." if len(lst) > 5 else "")
            out.append(study.issue(key, f"column {col!r} is blank in {len(lst)} data row(s)"
                                        f"{src} ({rows}); every row needs its patient and occasion: "
                                        f"fill them in or remove those rows."))
            continue
        if col in (study.data.id, study.data.time):
            continue  # the id and time columns are checked (and reported) above
        if first.data_row is None:
            where = ""
        elif file_rows is not None:
            where = (f"e.g. {plain(first.value)!r} in data row "
                     f"{file_rows[first.data_row - 1]} of {Path(study.data_paths()[0]).name}")
        else:
            where = (f"e.g. {plain(first.value)!r} in row {first.data_row} of the merged data "
                     "files (sorted by id and time)")
        if what.startswith("outside the response scale"):
            what = f"outside {inst.id}'s scale {lo:g}..{hi:g}"
        elif what.startswith("text in a numeric column"):
            what = "non-numeric"
        out.append(study.issue(f"instruments.{key}", f"column {col!r} has {len(lst)} {what} "
                                                     f"response(s), {where}; correct them in the data file or leave "
                                                     f"the cells blank." if where else
                               f"column {col!r}: {first.problem}"))
    return out


def _cols(df: pd.DataFrame, n: int = 12) -> str:
    cols = [str(c) for c in df.columns]
    return ", ".join(cols[:n]) + (f", ... ({len(cols)} in all)" if len(cols) > n else "")


# ---------------------------------------------------------------------- preflight
def preflight(study: Study, data: StudyData) -> list[str]:
    """Check that the data can support every requested analysis.

    Returns notes (non-fatal); raises :class:`StudyFileError` listing every
    analysis the data cannot support, before anything long runs.
    """
    an = study.analyses
    issues: list[BankIssue] = []
    notes: list[str] = []
    ds = study.data

    def n_cases(key, occasion):
        return int(select_occasion(study, data, key, occasion).dropna(how="all").shape[0])

    if an.efa is not None:
        for k, key in enumerate(study.selected(an.efa.instruments)):
            p = len(study.instrument(key).items)
            n = n_cases(key, an.efa.occasion)
            if p < 3:
                issues.append(study.issue(f"analyses.efa.instruments[{k}]" if an.efa.instruments
                                          else "analyses.efa",
                                          f"{key} has {p} items; an EFA needs at least 3."))
            elif n <= p:
                issues.append(study.issue("analyses.efa", f"{key}: {n} cases at occasion "
                                                          f"{an.efa.occasion!r} for {p} items; an "
                                                          "EFA needs more cases than items."))
            if isinstance(an.efa.n_factors, int) and an.efa.n_factors >= p:
                issues.append(study.issue("analyses.efa.n_factors",
                                          f"{an.efa.n_factors} factors for {key}'s {p} items."))
    if an.cfa is not None:
        for key in study.selected(an.cfa.instruments):
            p = len(study.instrument(key).items)
            n = n_cases(key, an.cfa.occasion)
            if n <= p:
                issues.append(study.issue("analyses.cfa", f"{key}: {n} cases at occasion "
                                                          f"{an.cfa.occasion!r} for {p} items; a "
                                                          "CFA needs more cases than items."))
    if an.reliability is not None:
        for key in study.selected(an.reliability.instruments):
            n = n_cases(key, an.reliability.occasion)
            if n < 3:
                issues.append(study.issue("analyses.reliability",
                                          f"{key}: {n} cases at occasion "
                                          f"{an.reliability.occasion!r}; reliability needs at "
                                          "least 3."))
    inv = an.invariance
    if inv is not None:
        p = len(study.instrument(inv.instrument).items)
        if inv.group is not None:
            if inv.group not in data.frame.columns:
                issues.append(study.issue("analyses.invariance.group",
                                          f"grouping column {inv.group!r} is not in the data "
                                          f"(its columns: {_cols(data.frame)})."))
            else:
                first = select_occasion(study, data, inv.instrument, "first").index
                counts = data.frame.loc[first, inv.group].value_counts(dropna=True)
                if len(counts) < 2:
                    issues.append(study.issue("analyses.invariance.group",
                                              f"column {inv.group!r} has {len(counts)} group(s); "
                                              "invariance needs at least two."))
                small = counts[counts <= p]
                if len(small):
                    issues.append(study.issue(
                        "analyses.invariance.group",
                        f"group(s) {', '.join(map(str, small.index))} have "
                        f"{', '.join(map(str, small.to_numpy()))} patients for {p} items; each "
                        "group needs more cases than items."))
        else:
            for k, t in enumerate(inv.times):
                n = n_cases(inv.instrument, t)
                if n <= p:
                    issues.append(study.issue(f"analyses.invariance.times[{k}]",
                                              f"{n} cases of {inv.instrument} at {ds.time} = "
                                              f"{t:g} for {p} items; each occasion needs more "
                                              "cases than items."))
    per_patient = data.frame.groupby(ds.id)[ds.time].size()
    if an.progress is not None and an.progress.outcome_column is not None:
        col = an.progress.outcome_column
        if col not in data.frame.columns:
            issues.append(study.issue("analyses.progress.outcome_column",
                                      f"column {col!r} is not in the data (its columns: "
                                      f"{_cols(data.frame)})."))
        elif not pd.api.types.is_numeric_dtype(data.frame[col]):
            bad = pd.to_numeric(data.frame[col], errors="coerce").isna() & data.frame[col].notna()
            first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            issues.append(study.issue("analyses.progress.outcome_column",
                                      f"column {col!r} must hold numbers; found "
                                      f"{data.frame[col].iloc[first]!r} in data row {first + 1}."))
    cl = getattr(ds, "cluster", None)
    if cl is not None and cl not in data.frame.columns:
        issues.append(study.issue("data.cluster", f"column {cl!r} (the therapist) is not in the "
                                                  f"data (its columns: {_cols(data.frame)})."))
    elif cl is not None and an.progress is not None and an.progress.method != "observed":
        issues.append(study.issue("analyses.progress.method",
                                  f"method {an.progress.method!r} is not available with three "
                                  "levels (data.cluster); use 'observed' or drop data.cluster."))
    if an.progress is not None:
        lag = an.progress.lag
        if per_patient.max() <= max(lag, 1):
            issues.append(study.issue("analyses.progress", f"no patient has more than "
                                                           f"{per_patient.max()} occasion(s); a "
                                                           f"lag-{lag} progress model needs "
                                                           "repeated measures."))
    if an.clinical_significance is not None and per_patient.max() < 2:
        issues.append(study.issue("analyses.clinical_significance",
                                  "no patient has two occasions; change needs a first and a "
                                  "last assessment."))
    if an.irt is not None and an.irt.dif_group is not None \
            and an.irt.dif_group not in data.frame.columns:
        issues.append(study.issue("analyses.irt.dif_group",
                                  f"grouping column {an.irt.dif_group!r} is not in the data "
                                  f"(its columns: {_cols(data.frame)})."))
    if issues:
        raise StudyFileError(study.source, issues)
    return notes


# ---------------------------------------------------------------------- steps
def _step_sample(ctx: Context):
    s = ctx.study
    items = {k: (s.label(k), [ctx.data.columns[k][i] for i in ctx.data.items[k].columns])
             for k in s.instruments}
    return describe.describe_sample(ctx.data.frame, s.data.id, s.data.time, items)


def _step_scoring(ctx: Context):
    from . import adapters

    def one(key):
        scored = adapters.score(ctx.study, ctx.data, key)
        ctx.scoring_results[key] = scored
        ctx.scores[key] = adapters.scores_frame(scored, ctx.study.instrument(key))
        return scored

    return per_instrument("scoring", list(ctx.study.instruments), one)


def _step_items(ctx: Context):
    spec = ctx.study.analyses.item_distributions

    def one(key):
        inst = ctx.study.instrument(key)
        block = select_occasion(ctx.study, ctx.data, key, spec.occasion)
        return describe.item_distributions(block, {i: i for i in block.columns}, key,
                                           ctx.study.label(key), inst.response_scale.min,
                                           inst.response_scale.max)

    return per_instrument("item_distributions", ctx.study.selected(spec.instruments), one)


def _step_descriptives(ctx: Context):
    spec = ctx.study.analyses.descriptives
    keys = [k for k in ctx.study.selected(spec.instruments)]
    missing = [k for k in keys if k not in ctx.scores]
    if len(missing) == len(keys):
        raise AnalysisUnavailable("no scale scores are available (scoring did not run or "
                                  "failed; see the Scoring messages).")
    scores, meta = {}, {}
    for k in keys:
        if k not in ctx.scores:
            continue
        inst = ctx.study.instrument(k)
        df = ctx.scores[k]
        if spec.occasion != "all":
            idx = select_occasion(ctx.study, ctx.data, k, spec.occasion).index
            df = df.loc[df.index.intersection(idx)]
        scores[k] = df
        meta[k] = {"label": ctx.study.label(k),
                   "names": {sid: sc.name for sid, sc in inst.scales.items()},
                   "ranges": {sid: _scale_range(inst, sid) for sid in inst.scales}}
    return describe.scale_descriptives(scores, meta)


def _scale_range(inst, sid):
    sc = inst.scales[sid]
    return tuple(sc.range) if sc.range is not None else inst.scale_range(sid)


#: (step name, title shown in progress, function, enabled(study))
STEPS: tuple[tuple[str, str, Callable, Callable[[Study], bool]], ...] = (
    ("sample", "Sample", _step_sample, lambda s: s.analyses.sample),
    ("scoring", "Scoring", _step_scoring, lambda s: s.analyses.scoring),
    ("item_distributions", "Item distributions", _step_items,
     lambda s: s.analyses.item_distributions is not None),
    ("descriptives", "Scale descriptives", _step_descriptives,
     lambda s: s.analyses.descriptives is not None),
    ("reliability", "Reliability", adapters.reliability,
     lambda s: s.analyses.reliability is not None),
    ("efa", "Exploratory factor analysis", adapters.efa,
     lambda s: s.analyses.efa is not None),
    ("cfa", "Confirmatory factor analysis", adapters.cfa,
     lambda s: s.analyses.cfa is not None),
    ("invariance", "Measurement invariance", adapters.invariance,
     lambda s: s.analyses.invariance is not None),
    ("progress", "Within/between progress", adapters.progress,
     lambda s: s.analyses.progress is not None),
    ("validity", "Convergent and discriminant validity", adapters.validity,
     lambda s: s.analyses.validity is not None),
    ("clinical_significance", "Clinical significance", adapters.clinical_significance,
     lambda s: s.analyses.clinical_significance is not None),
    ("irt", "Item response theory", irt_adapter.irt,
     lambda s: s.analyses.irt is not None),
)


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_study(study: Study, data: StudyData | None = None,
              progress: Callable[[str], None] | None = _stderr,
              only: set[str] | None = None) -> StudyResults:
    """Run every analysis the study asks for.

    Parameters
    ----------
    study : Study
    data : StudyData, optional
        Already loaded data (:func:`load_data`); loaded from the study's files if absent.
    progress : callable, optional
        Receives lines like ``"[3/9] Reliability ..."``; ``None`` for silence.
        By default they go to stderr.
    only : set of str, optional
        Run only these steps (names in :data:`STEPS`).

    Raises
    ------
    StudyFileError
        From :func:`load_data` or :func:`preflight`, before any analysis runs.
    """
    t_start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if data is None:
        data = load_data(study)
    preflight(study, data)
    ctx = Context(study=study, data=data, seed=study.seed)
    steps = [s for s in STEPS if s[3](study) and (only is None or s[0] in only)]
    for k, (name, title, fn, _) in enumerate(steps, start=1):
        if progress is not None:
            progress(f"[{k}/{len(steps)}] {title} ...")
        out = fn_outcome(name, fn, ctx)
        ctx.outcomes[name] = out
        if progress is not None and not out.ok:
            progress(f"      {title} failed: {out.error.splitlines()[0]}")
    return StudyResults(study=study, data=data, outcomes=dict(ctx.outcomes),
                        seeds={"study": study.seed}, started=started,
                        seconds=time.perf_counter() - t_start, scores=dict(ctx.scores))


def fn_outcome(name: str, fn: Callable, ctx: Context) -> Outcome:
    out = run_guarded(name, lambda: fn(ctx))
    if out.ok and isinstance(out.result, Outcome):  # a per-instrument step
        inner = out.result
        return Outcome(name=name, result=inner.result, error=inner.error,
                       warnings=tuple(dict.fromkeys(out.warnings + inner.warnings)),
                       seconds=out.seconds, parts=inner.parts)
    return out
