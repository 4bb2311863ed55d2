"""What the report's steps share: the data, the outcomes and guarded execution.

``run.py`` (the sequence of steps) and ``adapters.py`` (the analyses) both import from
here, so neither imports the other's internals.
"""
from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..exceptions import PsychometricsError
from .study import Study

__all__ = ["AnalysisUnavailable", "Outcome", "StudyData", "StudyResults", "Context",
           "select_occasion", "occasion_text", "describe_error", "run_guarded",
           "per_instrument"]


# ---------------------------------------------------------------------- results
class AnalysisUnavailable(PsychometricsError):
    """An analysis cannot run because something it needs did not run or failed."""


@dataclass(frozen=True)
class Outcome:
    """What one step (or one instrument within a step) produced.

    Exactly one of ``result`` (success) and ``error`` (the reason it failed) is
    meaningful; ``parts`` holds per-instrument outcomes of a step that runs once
    per instrument.
    """

    name: str
    result: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    parts: dict[str, "Outcome"] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class StudyData:
    """The merged data and, per instrument, its item responses.

    ``frame`` keeps the id and time columns (and any others) as read;
    ``item_data[key]`` is the instrument's :class:`~psychometrics.io.ItemData`
    (item columns mapped to item ids and checked against the response scale once,
    by :func:`psychometrics.io.item_data`); ``items[key]`` its responses (a float
    DataFrame, columns: item ids, index aligned with ``frame``); ``columns[key]``
    maps item ids to the data columns they came from.
    """

    frame: pd.DataFrame
    items: dict[str, pd.DataFrame]
    columns: dict[str, dict[str, str]]
    files: tuple[Path, ...]
    item_data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StudyResults:
    """Everything the report shows: the study, the data and each step's outcome."""

    study: Study
    data: StudyData
    outcomes: dict[str, Outcome]
    seeds: dict[str, int]
    started: str = ""
    seconds: float = 0.0
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)

    def get(self, name: str) -> Outcome | None:
        return self.outcomes.get(name)


def select_occasion(study: Study, data: StudyData, key: str, occasion) -> pd.DataFrame:
    """The item responses of instrument ``key`` at one occasion per patient.

    ``"first"``/``"last"``: each patient's first/last row with at least one answered
    item; ``"all"``: every row with an answered item; a number: rows at that time.
    The returned frame keeps the original row index.
    """
    block = data.items[key]
    answered = block.notna().any(axis=1)
    frame = data.frame.loc[answered, [study.data.id, study.data.time]]
    if occasion == "all":
        idx = frame.index
    elif occasion == "first_complete":
        complete = block.notna().all(axis=1)
        fc = data.frame.loc[complete, [study.data.id, study.data.time]]
        pick = fc.groupby(study.data.id, sort=False)[study.data.time].idxmin()
        idx = pd.Index(sorted(pick.to_numpy()))
    elif occasion in ("first", "last"):
        g = frame.groupby(study.data.id, sort=False)[study.data.time]
        pick = g.idxmin() if occasion == "first" else g.idxmax()
        idx = pd.Index(sorted(pick.to_numpy()))
    else:
        idx = frame.index[frame[study.data.time] == occasion]
    return block.loc[idx]


def occasion_text(occasion) -> str:
    if occasion == "first":
        return "each patient's first assessment"
    if occasion == "last":
        return "each patient's last assessment"
    if occasion == "all":
        return "all assessments (observations not independent)"
    if occasion == "first_complete":
        return "each patient's first assessment with every item answered"
    return f"assessments at time {occasion:g}"


# ---------------------------------------------------------------------- steps
@dataclass
class Context:
    """What steps share while the study runs."""

    study: Study
    data: StudyData
    seed: int
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    scoring_results: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def run_guarded(name: str, fn: Callable[[], Any]) -> Outcome:
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
            err = None
        except Exception as exc:  # noqa: BLE001  (a failing section says why)
            result, err = None, describe_error(exc)
    msgs = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught
                               if not issubclass(w.category, (DeprecationWarning,
                                                              PendingDeprecationWarning))))
    return Outcome(name=name, result=result, error=err, warnings=msgs,
                   seconds=time.perf_counter() - t0)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.startswith("psychometrics"):
        return (f"the module {exc.name} is not available in this installation, so this analysis "
                "cannot run.")
    if isinstance(exc, ImportError) and (exc.name or "").startswith("psychometrics"):
        what = str(exc).split("'")[1] if str(exc).count("'") >= 2 else "a function"
        return (f"{what} is not available in {exc.name} in this installation, so this analysis "
                "cannot run.")
    msg = str(exc).strip() or repr(exc)
    if isinstance(exc, AnalysisUnavailable):
        return msg
    if isinstance(exc, PsychometricsError):
        return f"{type(exc).__name__}: {msg}"
    tb = traceback.extract_tb(exc.__traceback__)
    pkg = Path(__file__).resolve().parents[1]
    ours = [f for f in tb if Path(f.filename).resolve().is_relative_to(pkg)]
    frame = ours[-1] if ours else (tb[-1] if tb else None)
    where = ""
    if frame is not None:
        fp = Path(frame.filename).resolve()
        name = fp.relative_to(pkg.parent).as_posix() if fp.is_relative_to(pkg) else fp.name
        where = f" (in {name}:{frame.lineno})"
    return f"{type(exc).__name__}: {msg}{where}"


def per_instrument(name: str, keys: list[str], fn: Callable[[str], Any]) -> Outcome:
    t0 = time.perf_counter()
    parts = {k: run_guarded(f"{name}:{k}", lambda k=k: fn(k)) for k in keys}
    failed = [k for k, o in parts.items() if not o.ok]
    err = None
    if parts and len(failed) == len(parts):
        errors = list(dict.fromkeys(parts[k].error for k in failed))
        err = errors[0] if len(errors) == 1 else "; ".join(f"{k}: {parts[k].error}"
                                                           for k in failed)
    return Outcome(name=name, result={k: o.result for k, o in parts.items() if o.ok}, error=err,
                   parts=parts, seconds=time.perf_counter() - t0,
                   warnings=tuple(w for o in parts.values() for w in o.warnings))
