"""The lean design-level generator: the analysis model's data without item responses.

:func:`generate` draws the person-month panel that a within/between analysis
sees (patient ``id``, month ``time``, optional therapist ``cluster``, the
time-varying predictor ``x`` and the outcome ``y``) from the latent part of
the therapy simulator (:func:`psychometrics.simulate.simulate`), extended by
the design knobs a power analysis varies: dropout, missed months, the ICCs,
the within/between effects, a therapist level and measurement error.

Why a second generator: a replication of the full simulator draws 67 item
responses per session and a power analysis needs thousands of replications
per cell. With the same seed and matching parameters, the latent values drawn
here are those of the simulator (``truth.sessions.latent_wai_T`` and
``latent_oq_total``; tested in ``tests/power/test_design_generator.py``),
because the same random streams are used in the same order.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..simulate import STREAMS, SimulationParams

__all__ = ["DesignParams", "DesignParameterError", "generate", "design_from_simulation"]

#: Spawn-key positions of the simulator's streams that this generator shares.
_DESIGN, _ALLIANCE, _OUTCOME = (STREAMS.index(s) for s in ("design", "alliance", "outcome"))
#: Streams of the design knobs the simulator lacks (far from the simulator's 0..6).
_DROPOUT, _CLUSTER, _MEASURE = 100, 101, 102


class DesignParameterError(ModelSpecificationError):
    """A design parameter of the power analysis is invalid (the message names it)."""


_SIM = SimulationParams()


@dataclass(frozen=True)
class DesignParams:
    """Parameters of :func:`generate` (defaults: the simulator's defaults, 12 months).

    Parameters
    ----------
    n_patients : int
        Number of patients.
    n_months : int
        Planned monthly assessments per patient (months ``1..n_months``).
    dropout : float
        Monthly dropout hazard in ``[0, 1)``: after each month a patient leaves
        the study with this probability and has no later assessments (month 1
        is always observed).
    missing_rate : float
        Probability in ``[0, 1)`` that an assessment after month 1 is missed
        (intermittent, MCAR; the latent processes go on). The simulator's
        ``session_miss_rate``.
    x_mean, x_sd : float
        Mean and total SD of the latent predictor (alliance) in month 1.
    icc_x : float
        Share of the predictor's variance that is between patients,
        ``var(b) / (var(b) + var(w))``, in ``[0, 1)``.
    x_ar : float
        Lag-1 autoregression of the within-patient fluctuation ``w`` (|ar| < 1).
    x_trend : float
        Growth of the predictor per month.
    within : float
        Within-patient effect ``gamma_w`` of ``w_it`` on the outcome (next
        month's with ``lag=1``, the same month's with ``lag=0``).
    between : float
        Between-patient effect ``gamma_b`` of the stable level ``b_i``. The
        contextual effect is ``between - within``.
    y_mean : float
        Mean of the outcome in month 1 (``lag=1``) or its intercept (``lag=0``).
    y_start_sd : float
        SD of the month-1 outcome (``lag=1`` only).
    y_intercept, y_ar : float
        Intercept and autoregression of the outcome dynamics (``lag=1`` only).
    y_resid_sd : float
        SD of the outcome's residual part ``u_i + v_c + e_it`` (patient
        intercept, therapist intercept, occasion residual).
    icc : float
        Share of ``y_resid_sd**2`` that is the patient intercept ``u_i``.
    n_clusters : int
        Number of therapists (0: no therapist level). Patient ``i`` (1-based)
        is treated by therapist ``(i - 1) % n_clusters + 1``.
    icc_cluster : float
        Share of ``y_resid_sd**2`` that is the therapist intercept ``v_c``
        (``icc + icc_cluster < 1``).
    x_error_sd, y_error_sd : float
        SD of measurement error added to the observed ``x`` and ``y``
        (0: the latent values are observed).
    lag : {1, 0}
        1: the simulator's dynamic model, the predictor acts on next month's
        outcome; 0: a static model, the predictor acts in the same month.

    Notes
    -----
    With ``lag=1`` (the simulator's model)::

        x_it = x_mean + b_i + x_trend (t - 1) + w_it,  b_i ~ N(0, icc_x x_sd^2)
        w_i1 ~ N(0, s_w^2),  w_it = x_ar w_i,t-1 + N(0, s_w^2 (1 - x_ar^2)),
                              s_w^2 = (1 - icc_x) x_sd^2
        y_i1 = y_mean + N(0, y_start_sd^2)
        y_i,t+1 = y_intercept + u_i + v_c(i) + y_ar y_it + within w_it + between b_i + e_it

    with ``u ~ N(0, icc s^2)``, ``v ~ N(0, icc_cluster s^2)``, ``e ~ N(0,
    (1 - icc - icc_cluster) s^2)``, ``s = y_resid_sd``. With ``lag=0``::

        y_it = y_mean + u_i + v_c(i) + within w_it + between b_i + e_it

    The observed values add ``N(0, x_error_sd^2)`` and ``N(0, y_error_sd^2)``.
    The defaults are the simulator's (``wai_between_sd`` 0.45 and
    ``wai_within_sd`` 0.35 give ``x_sd`` and ``icc_x``; ``oq_u_sd`` 4 and
    ``oq_err_sd`` 7 give ``y_resid_sd`` and ``icc``).
    """

    n_patients: int = 150
    n_months: int = 12
    dropout: float = 0.0
    missing_rate: float = 0.0
    x_mean: float = _SIM.wai_mu
    x_sd: float = math.hypot(_SIM.wai_between_sd, _SIM.wai_within_sd)
    icc_x: float = _SIM.wai_between_sd ** 2 / (_SIM.wai_between_sd ** 2 + _SIM.wai_within_sd ** 2)
    x_ar: float = _SIM.wai_within_ar
    x_trend: float = _SIM.wai_trend
    within: float = _SIM.gamma_within
    between: float = _SIM.gamma_between
    y_mean: float = _SIM.oq_start_mu
    y_start_sd: float = _SIM.oq_start_sd
    y_intercept: float = _SIM.oq_c0
    y_ar: float = _SIM.oq_ar
    y_resid_sd: float = math.hypot(_SIM.oq_u_sd, _SIM.oq_err_sd)
    icc: float = _SIM.oq_u_sd ** 2 / (_SIM.oq_u_sd ** 2 + _SIM.oq_err_sd ** 2)
    n_clusters: int = 0
    icc_cluster: float = 0.0
    x_error_sd: float = 0.0
    y_error_sd: float = 0.0
    lag: int = 1

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _INT_FIELDS:
                if (isinstance(v, bool) or not isinstance(v, numbers.Real)
                        or not float(v).is_integer()):
                    problems.append(f"{f.name!r} must be an integer. Got {v!r} instead.")
                else:
                    object.__setattr__(self, f.name, int(v))
            elif isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                problems.append(f"{f.name!r} must be a finite number. Got {v!r} instead.")
            else:
                object.__setattr__(self, f.name, float(v))
        if problems:
            raise DesignParameterError(_message(problems))
        checks = [
            (self.n_patients >= 2, "'n_patients' must be at least 2"),
            (self.n_months >= 2, "'n_months' must be at least 2"),
            (self.n_clusters >= 0, "'n_clusters' must be >= 0 (0: no therapist level)"),
            (self.lag in (0, 1), "'lag' must be 0 or 1"),
            (0 <= self.dropout < 1, "'dropout' is a monthly probability and must lie in [0, 1)"),
            (0 <= self.missing_rate < 1, "'missing_rate' is a probability and must lie in [0, 1)"),
            (0 <= self.icc_x < 1, "'icc_x' must lie in [0, 1)"),
            (0 <= self.icc < 1, "'icc' must lie in [0, 1)"),
            (0 <= self.icc_cluster < 1, "'icc_cluster' must lie in [0, 1)"),
            (self.icc + self.icc_cluster < 1, "'icc' + 'icc_cluster' must be below 1"),
            (-1 < self.x_ar < 1, "'x_ar' must lie in (-1, 1) for a stationary AR(1)"),
            (self.icc_cluster == 0 or self.n_clusters >= 2,
             "'icc_cluster' > 0 needs a therapist level: set 'n_clusters' >= 2"),
        ]
        for name in ("x_sd", "y_start_sd", "y_resid_sd", "x_error_sd", "y_error_sd"):
            checks.append((getattr(self, name) >= 0,
                           f"{name!r} is a standard deviation and must be >= 0"))
        problems = [f"{msg}. Got {self._got(msg)} instead." for ok, msg in checks if not ok]
        if problems:
            raise DesignParameterError(_message(problems))

    def _got(self, msg: str) -> str:
        names = [f.name for f in fields(self) if f"'{f.name}'" in msg]
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in names)

    @property
    def contextual(self) -> float:
        """The contextual effect ``between - within``."""
        return self.between - self.within

    def truth(self) -> dict[str, float]:
        """The true effects: within, between and contextual."""
        return {"within": self.within, "between": self.between, "contextual": self.contextual}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "DesignParams":
        """Build from a dict; ``contextual`` may replace ``between`` (= within + contextual)."""
        values = dict(values)
        if "contextual" in values:
            if "between" in values:
                raise DesignParameterError(
                    "Give either 'between' or 'contextual' (= between - within), not both.")
            ctx = values.pop("contextual")
            if isinstance(ctx, bool) or not isinstance(ctx, numbers.Real):
                raise DesignParameterError(f"'contextual' must be a number. Got {ctx!r} instead.")
            values["between"] = float(values.get("within", cls.within)) + float(ctx)
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise DesignParameterError(
                f"Unknown design parameter(s) {unknown}. Valid names: "
                f"{', '.join(cls.field_names())}, contextual.")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def replace(self, **changes: Any) -> "DesignParams":
        """A copy with fields changed (``contextual`` keeps ``within``, sets ``between``)."""
        values = self.to_dict()
        if "contextual" in changes:
            values.pop("between")
        values.update(changes)
        return self.from_dict(values)


_INT_FIELDS = {"n_patients", "n_months", "n_clusters", "lag"}


def _message(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid design parameter: {problems[0]}"
    return "Invalid design parameters:\n" + "\n".join(f"  - {p}" for p in problems)


def design_from_simulation(params: SimulationParams | None = None, **changes: Any) -> DesignParams:
    """The :class:`DesignParams` that reproduce a simulator's latent model.

    Needs a balanced design (``sessions_min == sessions_max``, which becomes
    ``n_months``); ``session_miss_rate`` becomes ``missing_rate``. ``changes``
    are further :class:`DesignParams` fields (e.g. ``dropout``).
    """
    p = params or SimulationParams()
    if p.sessions_min != p.sessions_max:
        raise DesignParameterError(
            "The design generator has one number of months per patient: set sessions_min == "
            f"sessions_max (got {p.sessions_min} and {p.sessions_max}).")
    tot_x = p.wai_between_sd ** 2 + p.wai_within_sd ** 2
    tot_y = p.oq_u_sd ** 2 + p.oq_err_sd ** 2
    base = dict(n_patients=p.n_patients, n_months=p.sessions_max, missing_rate=p.session_miss_rate,
                x_mean=p.wai_mu, x_sd=math.sqrt(tot_x),
                icc_x=p.wai_between_sd ** 2 / tot_x if tot_x > 0 else 0.0,
                x_ar=p.wai_within_ar, x_trend=p.wai_trend, within=p.gamma_within,
                between=p.gamma_between, y_mean=p.oq_start_mu, y_start_sd=p.oq_start_sd,
                y_intercept=p.oq_c0, y_ar=p.oq_ar, y_resid_sd=math.sqrt(tot_y),
                icc=p.oq_u_sd ** 2 / tot_y if tot_y > 0 else 0.0, lag=1)
    base.update(changes)
    return DesignParams.from_dict(base)


def _child(ss: np.random.SeedSequence, k: int) -> np.random.Generator:
    c = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (k,),
                               pool_size=ss.pool_size)
    return np.random.Generator(np.random.PCG64(c))


def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed))
    raise DesignParameterError(
        "The 'seed' argument must be a non-negative integer or a numpy.random.SeedSequence. "
        f"Got {seed!r} instead.")


def generate(params: DesignParams, seed: Any) -> pd.DataFrame:
    """Draw one data set of the design (see :class:`DesignParams` for the model).

    Parameters
    ----------
    params : DesignParams
    seed : int or numpy.random.SeedSequence
        The streams are children ``(spawn_key..., k)`` of this SeedSequence as
        in :func:`psychometrics.simulate.simulate` (design 0, alliance 1,
        outcome 2), plus dropout 100, therapists 101 and measurement error 102.

    Returns
    -------
    DataFrame
        One row per observed assessment: ``id``, ``time`` (month), ``cluster``
        (only with a therapist level), ``x``, ``y``; sorted by id and time.
    """
    if not isinstance(params, DesignParams):
        raise DesignParameterError(
            f"The 'params' argument must be a DesignParams. Got {type(params).__name__} instead.")
    ss = _seed_sequence(seed)
    P = params
    N, T = P.n_patients, P.n_months
    months = np.arange(1, T + 1)

    # --- design stream, as the simulator (months in treatment, then missed sessions)
    g = _child(ss, _DESIGN)
    g.integers(T, T, endpoint=True, size=N)  # the simulator's n_i draw (balanced: n_i = T)
    observed = np.ones((N, T), dtype=bool)
    if P.missing_rate > 0:
        missed = g.random((N, T)) < P.missing_rate
        missed[:, 0] = False
        observed &= ~missed
    if P.dropout > 0:
        last = _child(ss, _DROPOUT).geometric(P.dropout, N)  # month of the last assessment
        observed &= months[None, :] <= last[:, None]

    # --- latent predictor (the simulator's alliance stream)
    sd_b = P.x_sd * math.sqrt(P.icc_x)
    sd_w = P.x_sd * math.sqrt(1.0 - P.icc_x)
    g = _child(ss, _ALLIANCE)
    b = g.normal(0.0, sd_b, N)
    w = np.empty((N, T))
    w[:, 0] = g.normal(0.0, sd_w, N)
    innov = g.normal(0.0, sd_w * math.sqrt(1.0 - P.x_ar ** 2), (N, T - 1))
    for t in range(1, T):
        w[:, t] = P.x_ar * w[:, t - 1] + innov[:, t - 1]
    x = P.x_mean + b[:, None] + P.x_trend * (months - 1)[None, :] + w

    # --- outcome (the simulator's outcome stream)
    s2 = P.y_resid_sd ** 2
    g = _child(ss, _OUTCOME)
    u = g.normal(0.0, math.sqrt(P.icc * s2), N)
    if P.n_clusters > 0:
        cluster = np.arange(N) % P.n_clusters + 1
        v = _child(ss, _CLUSTER).normal(0.0, math.sqrt(P.icc_cluster * s2), P.n_clusters)
        u = u + v[cluster - 1]
    e_sd = math.sqrt((1.0 - P.icc - P.icc_cluster) * s2)
    y = np.empty((N, T))
    if P.lag == 1:
        y[:, 0] = P.y_mean + g.normal(0.0, P.y_start_sd, N)
        err = g.normal(0.0, e_sd, (N, T - 1))
        const = P.y_intercept + u + P.between * b
        for t in range(1, T):
            y[:, t] = const + P.y_ar * y[:, t - 1] + P.within * w[:, t - 1] + err[:, t - 1]
    else:
        y[:] = (P.y_mean + u + P.between * b)[:, None] + P.within * w + g.normal(0.0, e_sd, (N, T))

    if P.x_error_sd > 0 or P.y_error_sd > 0:
        g = _child(ss, _MEASURE)
        x = x + g.normal(0.0, P.x_error_sd, (N, T))
        y = y + g.normal(0.0, P.y_error_sd, (N, T))

    keep = observed.ravel()
    out = {"id": np.repeat(np.arange(1, N + 1, dtype=np.int64), T)[keep],
           "time": np.tile(months.astype(np.int64), N)[keep]}
    if P.n_clusters > 0:
        out["cluster"] = np.repeat(cluster.astype(np.int64), T)[keep]
    out["x"] = x.ravel()[keep]
    out["y"] = y.ravel()[keep]
    return pd.DataFrame(out)
