"""One replication: draw a data set, fit the analysis, record every effect.

Everything here is a plain function of (design, cell index, replication
index), so that a replication gives the same record in any process, on any
worker, in any order: its random numbers come from
``SeedSequence(design.seed, spawn_key=(cell, replication))`` only.
"""
from __future__ import annotations

import functools
import time as _time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import PsychometricsError
from .design import generate
from .spec import AnalysisSpec, PowerDesign

__all__ = ["run_chunk", "replication_seed", "analysis_data", "RECORD_COLUMNS"]

#: Columns of the replication records (one row per replication and effect).
RECORD_COLUMNS = ("cell", "rep", "effect", "truth", "est", "se", "df", "p_value", "ci_lower",
                  "ci_upper", "converged", "singular", "n_obs", "n_patients", "error", "warning")


def replication_seed(seed: int, cell: int, rep: int) -> np.random.SeedSequence:
    """The SeedSequence of replication ``rep`` of cell ``cell`` (independent of workers)."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(cell), int(rep)))


@functools.lru_cache(maxsize=8)
def _design(design_json: str) -> PowerDesign:
    return PowerDesign.model_validate_json(design_json)


def _draw(generator: str, params, ss: np.random.SeedSequence) -> pd.DataFrame:
    if generator == "design":
        return generate(params, ss)
    from ..scoring import score
    from ..simulate import simulate

    res = simulate(params, seed=ss)
    d = res.data
    out = pd.DataFrame({"id": d["patient_id"].to_numpy(), "time": d["month"].to_numpy()})
    wai = score(d, "wai-sr", id="patient_id", time="month").scores
    oq = score(d, "oq-45.2", id="patient_id", time="month").scores
    out["x"] = wai["total"].to_numpy(dtype=float)
    out["y"] = oq["total"].to_numpy(dtype=float)
    return out


def analysis_data(data: pd.DataFrame) -> pd.DataFrame:
    """The columns a ``mixed`` formula can use: the data plus ``x_between``, ``x_within``,
    ``x_between_c`` (:func:`~psychometrics.multilevel.decompose`) and ``y_lead`` (next
    consecutive month's ``y``, :func:`~psychometrics.multilevel.lead`)."""
    from ..exceptions import DataQualityWarning
    from ..multilevel import decompose, lead

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        d = decompose(data, "id", "time", "x")
    return lead(d, "id", "time", "y", k=1).data


def _fit(analysis: AnalysisSpec, data: pd.DataFrame) -> tuple[dict, dict]:
    """Fit the analysis; returns ({effect: row}, flags)."""
    from ..multilevel import mixed, progress

    if analysis.type == "progress":
        res = progress(data, "y", "x", "id", "time",
                       control_prior_outcome=analysis.control_prior_outcome, reml=analysis.reml)
        eff = res.effects[res.effects["model"] == "x"].set_index("effect")
        fit = res.models["x"]
        rows = {e: eff.loc[e].to_dict() for e in eff.index}
        flags = {"converged": all(m.converged for m in res.models.values()),
                 "singular": bool(fit.singular), "n_obs": res.n_obs,
                 "n_patients": res.n_patients}
        return rows, flags
    d = analysis_data(data)
    fit = mixed(analysis.formula, d, reml=analysis.reml)
    rows = {}
    for name, L in analysis.effects.items():
        L = {L: 1.0} if isinstance(L, str) else dict(L)
        rows[name] = fit.contrast(L, ddf=analysis.ddf).iloc[0].to_dict()
    flags = {"converged": bool(fit.converged), "singular": bool(fit.singular),
             "n_obs": fit.n_obs, "n_patients": fit.n_groups}
    return rows, flags


def run_replication(design: PowerDesign, cell: int, rep: int) -> list[dict[str, Any]]:
    """Records (one per effect) of replication ``rep`` of cell ``cell``."""
    c = design.cells()[cell]
    params = c.params()
    truth = c.truth()
    effects = design.analysis.effect_names()
    ss = replication_seed(design.seed, cell, rep)
    error = None
    rows: dict = {}
    flags = {"converged": False, "singular": False, "n_obs": 0, "n_patients": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = _draw(design.generator, params, ss)
            rows, flags = _fit(design.analysis, data)
        except (PsychometricsError, np.linalg.LinAlgError, ArithmeticError, ValueError) as exc:
            # A failed fit is a result of the design (e.g. too few rows after dropout);
            # it is counted per cell (n_failed) and its message kept, never dropped.
            error = f"{type(exc).__name__}: {exc}"
    seen = []
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0][:160]}"
        if msg not in seen:
            seen.append(msg)
    warning = " | ".join(seen) if seen else None
    out = []
    for e in effects:
        r = rows.get(e, {})
        out.append({
            "cell": cell, "rep": rep, "effect": e, "truth": float(truth[e]),
            "est": float(r.get("est", np.nan)), "se": float(r.get("se", np.nan)),
            "df": float(r.get("df", np.nan)), "p_value": float(r.get("p_value", np.nan)),
            "ci_lower": float(r.get("ci_lower", np.nan)),
            "ci_upper": float(r.get("ci_upper", np.nan)),
            "converged": bool(flags["converged"]) and error is None,
            "singular": bool(flags["singular"]), "n_obs": int(flags["n_obs"]),
            "n_patients": int(flags["n_patients"]), "error": error, "warning": warning,
        })
    return out


def normalise_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes for the records, whichever process made them or file they came from."""
    return frame.astype({"cell": "int64", "rep": "int64", "effect": "string", "truth": "float64",
                         "est": "float64", "se": "float64", "df": "float64",
                         "p_value": "float64", "ci_lower": "float64", "ci_upper": "float64",
                         "converged": "bool", "singular": "bool", "n_obs": "int64",
                         "n_patients": "int64", "error": "string", "warning": "string"})


def run_chunk(task: tuple[str, int, int, int]) -> tuple[int, int, int, pd.DataFrame, float]:
    """Run replications ``start..stop-1`` of a cell; the unit of work sent to a worker.

    ``task`` is ``(design_json, cell, start, stop)``. Returns ``(cell, start, stop,
    records, seconds)``.
    """
    from .._blas import single_blas_thread

    design_json, cell, start, stop = task
    design = _design(design_json)
    t0 = _time.perf_counter()
    recs: list[dict] = []
    with single_blas_thread():
        for rep in range(start, stop):
            recs.extend(run_replication(design, cell, rep))
    frame = normalise_records(pd.DataFrame(recs, columns=list(RECORD_COLUMNS)))
    return cell, start, stop, frame, _time.perf_counter() - t0
