"""Latent growth curve models (lavaan ``growth()``).

:func:`growth` fits lavaan syntax with lavaan's growth defaults: a mean
structure, the intercepts of the observed variables fixed to 0 and the means
of the latent variables (the growth factors) free. :func:`scale_growth` builds
the model from scale scores at occasions (long data, e.g. OQ-45 totals by
month, or raw item responses scored with a bank) in one call: it pivots to one
column per occasion, writes the intercept/slope syntax from the occasion times,
and fits by full-information ML so that missed occasions keep the patient.
:func:`growth_trajectory` and :func:`plot_trajectory` give the model-implied
mean trajectory (table and matplotlib figure).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from .api import fit
from .results import SEMResult

__all__ = ["growth", "scale_growth", "GrowthResult", "growth_trajectory", "plot_trajectory",
           "growth_syntax"]

_GROWTH_FIXED = ("meanstructure", "int_ov_free", "int_lv_free")


def growth(model: str, data: pd.DataFrame | None = None, **options) -> SEMResult:
    """Fit a latent growth curve model with lavaan's ``growth()`` defaults.

    Parameters
    ----------
    model : str
        lavaan syntax, e.g. ``i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4`` and
        ``s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4``; time-invariant covariates as ``i + s ~ x1``,
        time-varying ones as ``t1 ~ c1``.
    data : DataFrame
        One row per person, one column per occasion (wide).
    **options
        Any option of :func:`psychometrics.sem.fit` (``missing="ml"`` for FIML with
        missed occasions, ``estimator``, ``group``, ...), except ``meanstructure``,
        ``int_ov_free`` and ``int_lv_free``, which define the growth model.

    Returns
    -------
    SEMResult
        The means of the growth factors are the ``~1`` rows of the latent variables.

    Raises
    ------
    ModelSpecificationError
        If ``meanstructure``, ``int_ov_free`` or ``int_lv_free`` is given, or any error
        of :func:`~psychometrics.sem.fit`.

    Notes
    -----
    R: ``lavaan::growth(model, data)``: ``sem()`` with ``meanstructure = TRUE``,
    ``int.ov.free = FALSE`` and ``int.lv.free = TRUE``. Exogenous covariates keep their
    sample means (``fixed.x = TRUE``).
    """
    bad = [k for k in _GROWTH_FIXED if k in options]
    if bad:
        raise ModelSpecificationError(
            f"growth() sets {', '.join(map(repr, bad))} itself (mean structure, observed "
            f"intercepts fixed to 0, latent means free); use sem.fit() for another mean "
            f"structure.")
    return fit(model, data, meanstructure=True, int_ov_free=False, int_lv_free=True,
               **options)


def growth_syntax(columns, times, *, shape: str = "linear", names=("i", "s", "q")) -> str:
    """lavaan syntax of a growth model: intercept, slope (and quadratic) factors.

    Parameters
    ----------
    columns : sequence of str
        The observed variable of each occasion.
    times : sequence of float
        The time of each occasion; loadings of the slope are ``time - time[0]``.
    shape : {"linear", "quadratic"}
    names : tuple of str
        Names of the intercept, slope and quadratic factors.
    """
    if shape not in ("linear", "quadratic"):
        raise ModelSpecificationError(
            f"The 'shape' argument must be 'linear' or 'quadratic'; got {shape!r}.")
    t = np.asarray(times, dtype=float) - float(times[0])
    need = 3 if shape == "linear" else 4
    if len(columns) < need:
        raise ModelSpecificationError(
            f"A {shape} growth model needs at least {need} occasions; got {len(columns)}.")

    def num(v):
        return f"{v:.10g}"
    lines = [f"{names[0]} =~ " + " + ".join(f"1*{c}" for c in columns),
             f"{names[1]} =~ " + " + ".join(f"{num(v)}*{c}" for v, c in zip(t, columns))]
    if shape == "quadratic":
        lines.append(f"{names[2]} =~ " + " + ".join(f"{num(v * v)}*{c}"
                                                     for v, c in zip(t, columns)))
    return "\n".join(lines)


@dataclass(frozen=True)
class GrowthResult:
    """A growth model of one scale over occasions, built by :func:`scale_growth`.

    Attributes
    ----------
    fit : SEMResult
        The lavaan-equal fit (``growth()`` defaults, FIML by default).
    model : str
        The syntax that was fitted.
    scale : str
        The scale (score column) modelled.
    times : Mapping[str, float]
        Occasion column -> time value (the slope loadings are ``time - first time``).
    data : DataFrame
        The wide data fitted: one row per ``id`` (index), one column per occasion.
    n_long_rows, n_long_dropped : int
        Rows of the long input, and those not used (outside the chosen occasions or
        with a missing id, time or score; listed in ``dropped``).
    dropped : DataFrame
        The long rows not used: ``row`` (input index label), ``reason``.
    """

    fit: SEMResult
    model: str
    scale: str
    times: Mapping[str, float]
    data: pd.DataFrame
    n_long_rows: int
    n_long_dropped: int
    dropped: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The growth-factor rows: means, variances and covariances of the factors, and
        their regressions on covariates (``lhs, op, rhs, est, se, z, p_value, ci_lower,
        ci_upper``)."""
        lv = set(self.fit._problem.pt.names.lv) if self.fit._problem is not None else set()
        e = self.fit.estimates
        keep = e["lhs"].isin(lv) & e["op"].isin(["~1", "~~", "~"])
        cols = ["lhs", "op", "rhs", "group", "est", "se", "z", "p_value", "ci_lower", "ci_upper"]
        return e.loc[keep, cols].reset_index(drop=True)

    def trajectory(self) -> pd.DataFrame:
        """Model-implied and observed mean per occasion (see :func:`growth_trajectory`)."""
        return growth_trajectory(self.fit, self.times)

    def plot(self, ax=None):
        """Figure of the implied mean trajectory (see :func:`plot_trajectory`)."""
        return plot_trajectory(self.fit, self.times, ax=ax, ylabel=self.scale)

    def summary(self):
        """:class:`psychometrics.results.Summary` with the fit and the growth factors."""
        from ..results import Summary
        fm = self.fit.fit_measures
        header = (f"Scale: {self.scale}",
                  "Occasions: " + ", ".join(f"{c} (t={v:g})" for c, v in self.times.items()),
                  f"Persons: {sum(self.fit.n_obs)}; long rows used: "
                  f"{self.n_long_rows - self.n_long_dropped} of {self.n_long_rows}",
                  f"Missing data: {self.fit.options.get('missing')}",
                  f"chisq = {fm.get('chisq', np.nan):.3f}, df = {fm.get('df', np.nan):.0f}, "
                  f"p_value = {fm.get('pvalue', np.nan):.4g}; CFI = {fm.get('cfi', np.nan):.3f}, "
                  f"RMSEA = {fm.get('rmsea', np.nan):.3f}")
        return Summary(title="Latent growth model (lavaan growth())", header=header,
                       blocks=(("Growth factors", self.to_frame()),
                               ("Implied trajectory", self.trajectory())))


def growth_trajectory(result: SEMResult, times: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Model-implied (and observed) mean of each occasion variable.

    Parameters
    ----------
    result : SEMResult
        A growth fit.
    times : mapping, optional
        Occasion variable -> time. Default: the loadings of the slope factor (the
        factor whose fixed loadings vary) plus the time of the first occasion 0.

    Returns
    -------
    DataFrame
        ``group, variable, time, implied_mean, observed_mean`` (observed = the sample
        means, EM estimates under FIML).
    """
    if times is None:
        times = _slope_times(result)
    rows = []
    for key in result.implied_mean:
        mu = result.implied_mean[key]
        m = result.sample_mean[key]
        for v, t in times.items():
            if v not in mu.index:
                raise ModelSpecificationError(f"Occasion variable {v!r} is not in the model.")
            rows.append((key, v, float(t), float(mu[v]), float(m[v])))
    return pd.DataFrame(rows, columns=["group", "variable", "time", "implied_mean",
                                       "observed_mean"])


def _slope_times(result: SEMResult) -> dict:
    e = result.estimates
    ld = e[(e["op"] == "=~") & (~e["free"]) & (e["group"] == e["group"].min())]
    best = None
    for lv, sub in ld.groupby("lhs", sort=False):
        vals = sub["est"].to_numpy()
        if len(np.unique(vals)) > 1 and (best is None or len(sub) > len(best)):
            best = sub
    if best is None:
        raise ModelSpecificationError(
            "No slope factor (fixed loadings that vary over occasions) found; pass 'times'.")
    return dict(zip(best["rhs"], best["est"].astype(float)))


def plot_trajectory(result: SEMResult, times: Mapping[str, float] | None = None, *, ax=None,
                    ylabel: str = "mean", observed: bool = True):
    """matplotlib figure of the model-implied mean trajectory (one line per group).

    The observed (sample or EM) means are drawn as points when ``observed`` is true.
    Returns the Figure. matplotlib is imported only here.
    """
    try:
        import matplotlib
        if ax is None:
            matplotlib.use(matplotlib.get_backend())
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the 'all' extra
        raise ImportError("plot_trajectory needs matplotlib: pip install matplotlib") from exc
    tr = growth_trajectory(result, times)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    many = tr["group"].nunique() > 1
    for key, sub in tr.groupby("group", sort=False):
        lab = f"{key}: implied" if many else "model-implied mean"
        line, = ax.plot(sub["time"], sub["implied_mean"], "-", label=lab)
        if observed:
            ax.plot(sub["time"], sub["observed_mean"], "o", color=line.get_color(),
                    label=(f"{key}: observed" if many else "observed mean"))
    ax.set_xlabel("time")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return fig


def _safe(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.]", "_", str(name))
    return s if re.match(r"[A-Za-z_.]", s) else f"v{s}"


def scale_growth(data, scale: str, *, instrument=None, form: str | None = None,
                 id: str | None = None, time: str | None = None, times=None,
                 time_scores: Mapping | None = None, shape: str = "linear",
                 covariates=None, missing: str = "ml", **options) -> GrowthResult:
    """Growth model of one scale's scores over occasions, from long data, in one call.

    Parameters
    ----------
    data : DataFrame or ScoreResult
        Long data with one row per person and occasion: the ``id`` and ``time``
        columns and the score column ``scale`` (e.g. ``psychometrics.score(...).scores``
        or the ScoreResult itself). With ``instrument`` given, raw item responses that
        are scored first with :func:`psychometrics.score`.
    scale : str
        The score column (a scale id of the bank).
    instrument : str or Instrument, optional
        Score ``data`` with this bank first (``form`` selects the form).
    id, time : str
        Person and occasion columns (taken from a ScoreResult when not given).
    times : sequence, optional
        The occasions to model, in order (default: every time value in the data, sorted).
    time_scores : mapping, optional
        Occasion -> time used for the slope loadings (default: numeric occasions are
        their own times; other occasions are numbered 0, 1, 2, ...).
    shape : {"linear", "quadratic"}
    covariates : list of str, optional
        Time-invariant covariates (columns constant within a person), regressed on by
        every growth factor (``i + s ~ x``).
    missing : {"ml", "listwise", "ml.x"}
        Default "ml": full-information ML, persons with missed occasions are kept.
    **options
        Passed to :func:`growth` (e.g. ``estimator="MLR"``).

    Returns
    -------
    GrowthResult

    Raises
    ------
    DataValidationError
        A person has two rows at one occasion (rows named), a covariate varies within
        a person, or an occasion has fewer than 2 observed scores.
    ModelSpecificationError
        Missing columns or bad options.

    Warns
    -----
    DataQualityWarning
        Long rows not used (missing id/time/score, occasions not modelled): counted and
        named, and listed in ``result.dropped``.

    Notes
    -----
    R: reshape to wide (``tidyr::pivot_wider``), then
    ``lavaan::growth('i =~ 1*y1 + ...; s =~ 0*y1 + ...', data, missing = "ml")``.
    """
    if instrument is not None:
        from ..scoring import score
        data = score(data, instrument, form=form, id=id, time=time)
    if hasattr(data, "scores") and hasattr(data, "scales"):
        id = id or data.id
        time = time or data.time
        data = data.scores
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"The 'data' argument must be a DataFrame or a ScoreResult, got {type(data).__name__}.")
    if id is None or time is None:
        raise ModelSpecificationError("scale_growth() needs the 'id' and 'time' columns.")
    covariates = list(covariates or [])
    need = [id, time, scale] + covariates
    absent = [c for c in need if c not in data.columns]
    if absent:
        raise ModelSpecificationError(
            f"Column(s) {', '.join(map(repr, absent))} are not in the data (columns: "
            f"{', '.join(map(str, data.columns[:30]))}).")
    n_long = len(data)
    reasons = pd.Series("", index=data.index, dtype=object)
    reasons[data[id].isna()] = "missing id"
    reasons[(reasons == "") & data[time].isna()] = "missing time"
    if times is None:
        times = sorted(pd.unique(data.loc[reasons == "", time]))
    times = list(times)
    if len(set(times)) != len(times):
        raise ModelSpecificationError("The 'times' argument lists an occasion twice.")
    reasons[(reasons == "") & ~data[time].isin(times)] = "occasion not modelled"
    score_na = data[scale].isna()
    reasons[(reasons == "") & score_na] = "missing score"
    use = reasons == ""
    dup = data.loc[use].duplicated([id, time], keep=False)
    if dup.any():
        rows = data.loc[use].index[dup].tolist()
        raise DataValidationError(
            f"{len(rows)} rows share a person and occasion ({id!r}, {time!r}), e.g. rows "
            f"{', '.join(map(str, rows[:10]))}; keep one administration per occasion.")
    if time_scores is None:
        if all(isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, bool)
               for t in times):
            time_scores = {t: float(t) for t in times}
        else:
            time_scores = {t: float(k) for k, t in enumerate(times)}
    missing_ts = [t for t in times if t not in time_scores]
    if missing_ts:
        raise ModelSpecificationError(f"'time_scores' has no value for occasion(s) {missing_ts}.")
    cols = [_safe(f"{scale}_{t}") for t in times]
    if len(set(cols)) != len(cols):
        cols = [f"{_safe(scale)}_t{k + 1}" for k in range(len(times))]
    long = data.loc[use, [id, time, scale]]
    wide = long.pivot(index=id, columns=time, values=scale)
    persons = pd.unique(data.loc[data[id].notna(), id])
    wide = wide.reindex(index=persons, columns=times)
    wide.columns = cols
    wide.index.name = id
    few = [c for c in cols if wide[c].notna().sum() < 2]
    if few:
        raise DataValidationError(
            f"Occasion column(s) {few} have fewer than 2 observed scores; choose other "
            f"'times'.")
    for cv in covariates:
        g = data.loc[data[id].notna()].groupby(id, sort=False)[cv]
        nun = g.nunique(dropna=True)
        varying = nun.index[nun > 1].tolist()
        if varying:
            raise DataValidationError(
                f"Covariate {cv!r} varies within person(s) {varying[:10]}; a time-invariant "
                f"covariate must be constant within a person (time-varying covariates: "
                f"write the model and call growth()).")
        wide[_safe(cv)] = g.first().reindex(persons).to_numpy()
    n_drop = int((~use).sum())
    dropped = pd.DataFrame({"row": data.index[~use], "reason": reasons[~use].to_numpy()})
    if n_drop:
        counts = dropped["reason"].value_counts().to_dict()
        warnings.warn(
            f"{n_drop} of {n_long} long rows were not used ("
            + ", ".join(f"{v} {k}" for k, v in counts.items())
            + f"; rows {', '.join(map(str, dropped['row'].tolist()[:10]))}"
            + (" ..." if n_drop > 10 else "") + "); result.dropped lists them.",
            DataQualityWarning, stacklevel=2)
    tvals = [time_scores[t] for t in times]
    model = growth_syntax(cols, tvals, shape=shape)
    if covariates:
        factors = "i + s" + (" + q" if shape == "quadratic" else "")
        model += f"\n{factors} ~ " + " + ".join(_safe(c) for c in covariates)
    res = growth(model, wide.reset_index(drop=True), missing=missing, **options)
    return GrowthResult(fit=res, model=model, scale=scale,
                        times=dict(zip(cols, (float(v) for v in tvals))), data=wide,
                        n_long_rows=n_long, n_long_dropped=n_drop, dropped=dropped)
