"""Expected-recovery curves fitted from the clinic's own data (Finch, Lambert & Schaalje, 2001).

Patients are grouped into intake-severity bands (quantiles of the intake score). Within
each band a linear mixed growth model of the outcome on log session number,

    score_ij = b0 + b1 log(session_ij) + u0_i + u1_i log(session_ij) + e_ij,

is fitted by REML with :func:`psychometrics.multilevel.mixed` (lme4's
``lmer(score ~ log_session + (1 + log_session | id))``). A patient's expected score at a
session is the model's prediction *given that patient's own intake score* (the Gaussian
conditional of the later score on the intake, which is what Finch et al.'s intake-specific
curves approximate), and the tolerance band is that prediction plus or minus
``z_{(1+level)/2}`` times its prediction SD (random effects, residual, and the uncertainty
of the fixed effects).

Every fit is stored as a new row of ``models`` (a version): a signal names the model it
came from. The same record keeps the alliance instruments' reliable-change rule (Cronbach's
alpha of the clinic's first alliance assessments and the SD of those scores).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from ..exceptions import ModelSpecificationError
from ..results import Summary
from .instruments import DEFAULT_NORMS, instrument, role_of
from .schema import assessments, models

__all__ = ["fit_expected", "load_model", "ExpectedModel", "FORMULA"]

FORMULA = "score ~ log_session + (1 + log_session | id)"


@dataclass(frozen=True)
class ExpectedModel:
    """A versioned expected-recovery model (and the alliance rules fitted with it).

    Attributes
    ----------
    model_id : int
        Its ``models.id`` (the version signals cite).
    instrument, scale : str
        The outcome measure.
    level : float
        Coverage of the two-sided tolerance band.
    bands : DataFrame
        One row per intake band: ``band, intake_lower, intake_upper, n_patients, n_obs,
        b0, b1, g00, g01, g11, sigma, v00, v01, v11, loglik, converged, singular``
        (fixed effects, random-effect covariance G, residual SD, cov of fixed effects,
        REML log-likelihood).
    alliance : dict
        Instrument -> ``{"scale", "reliability", "sd", "n_patients", "threshold"}``; the
        threshold is the reliable-change distance in raw points, ``1.96 sqrt(2) sd
        sqrt(1 - reliability)`` (Jacobson & Truax, 1991).
    norms : str or None
        The outcome's norm set for reliable change and cut-off.
    created_at : datetime
    """

    model_id: int
    instrument: str
    scale: str
    level: float
    bands: pd.DataFrame = field(repr=False)
    alliance: dict = field(default_factory=dict)
    norms: str | None = None
    created_at: _dt.datetime | None = None
    n_patients: int = 0
    n_obs: int = 0

    @property
    def z(self) -> float:
        return float(stats.norm.ppf(0.5 + self.level / 2))

    def band_of(self, intake: np.ndarray) -> np.ndarray:
        """0-based band index of each intake score."""
        upper = self.bands["intake_upper"].to_numpy(float)[:-1]
        return np.searchsorted(upper, np.asarray(intake, float), side="right")

    def predict(self, intake, intake_session, session) -> pd.DataFrame:
        """Expected score and tolerance band at ``session`` given the intake score.

        Parameters
        ----------
        intake : array-like
            The patient's intake (first) score.
        intake_session : array-like
            Session number of that intake (usually 1).
        session : array-like
            Session numbers to predict.

        Returns
        -------
        DataFrame
            ``band, expected, sd, lower, upper`` (``band`` 1-based).
        """
        y0 = np.atleast_1d(np.asarray(intake, float))
        t0 = np.log(np.atleast_1d(np.asarray(intake_session, float)))
        t = np.log(np.atleast_1d(np.asarray(session, float)))
        y0, t0, t = np.broadcast_arrays(y0, t0, t)
        b = self.band_of(y0)
        B = self.bands
        b0, b1 = B["b0"].to_numpy()[b], B["b1"].to_numpy()[b]
        g00, g01, g11 = B["g00"].to_numpy()[b], B["g01"].to_numpy()[b], B["g11"].to_numpy()[b]
        s2 = B["sigma"].to_numpy()[b] ** 2
        v00, v01, v11 = B["v00"].to_numpy()[b], B["v01"].to_numpy()[b], B["v11"].to_numpy()[b]

        def quad(a0, a1, c0, c1, m00, m01, m11):     # a' M c for 2-vectors
            return a0 * c0 * m00 + (a0 * c1 + a1 * c0) * m01 + a1 * c1 * m11

        mu0, mut = b0 + b1 * t0, b0 + b1 * t
        var0 = quad(1, t0, 1, t0, g00, g01, g11) + s2
        vart = quad(1, t, 1, t, g00, g01, g11) + s2
        cov = quad(1, t, 1, t0, g00, g01, g11)
        same = np.isclose(t, t0)
        k = np.where(same, 0.0, cov / var0)
        expected = np.where(same, y0, mut + k * (y0 - mu0))
        w0, w1 = 1 - k, t - k * t0                    # weights of (b0, b1) in the prediction
        var = vart - k * cov + quad(w0, w1, w0, w1, v00, v01, v11)
        sd = np.where(same, 0.0, np.sqrt(np.maximum(var, 0.0)))
        return pd.DataFrame({"band": b + 1, "expected": expected, "sd": sd,
                             "lower": expected - self.z * sd, "upper": expected + self.z * sd})

    def to_frame(self) -> pd.DataFrame:
        """The per-band estimates."""
        return self.bands

    def summary(self) -> Summary:
        head = (f"Model #{self.model_id}: {self.instrument} {self.scale}, {FORMULA} per intake "
                f"band (REML)", f"Patients {self.n_patients}, assessments {self.n_obs}, "
                f"tolerance band {self.level:.0%}, norms {self.norms}",
                f"Fitted {self.created_at}")
        blocks = [("Intake bands", self.bands)]
        if self.alliance:
            blocks.append(("Alliance reliable-change rules", pd.DataFrame(
                [{"instrument": k, **v} for k, v in self.alliance.items()])))
        return Summary("Expected recovery (Finch, Lambert & Schaalje, 2001)", head,
                       tuple(blocks))


def _history(engine: Engine, instrument_name: str) -> pd.DataFrame:
    q = select(assessments.c.patient_id, assessments.c.session, assessments.c.score,
               assessments.c.responses).where(assessments.c.instrument == instrument_name,
                                              assessments.c.score.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(rows, columns=["id", "session", "score", "responses"])


def _alliance_rule(engine: Engine, name: str) -> dict | None:
    from ..reliability import alpha

    df = _history(engine, name)
    if df.empty:
        return None
    first = df.sort_values(["id", "session"]).drop_duplicates("id")
    if len(first) < 10:
        return None
    spec = instrument(name)
    items = pd.DataFrame([json.loads(r) for r in first["responses"]],
                         columns=[it.id for it in spec.items])
    scale = role_of(name).scale
    used = [c for c in spec.scale_items(scale) if items[c].notna().any()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rel = float(alpha(items[used]).raw_alpha)
    sd = float(first["score"].std(ddof=1))
    if not (0 < rel < 1) or not sd > 0:
        return None
    return {"scale": scale, "reliability": rel, "sd": sd, "n_patients": int(len(first)),
            "threshold": 1.96 * math.sqrt(2.0) * sd * math.sqrt(1.0 - rel)}


def fit_expected(engine: Engine, instrument_name: str = "oq-45.2", *, n_bands: int = 5,
                 level: float = 0.90, norms: str | None = None,
                 min_patients_per_band: int = 30) -> ExpectedModel:
    """Fit expected-recovery curves from the store and save them as a new model version.

    Parameters
    ----------
    engine : Engine
    instrument_name : str, default "oq-45.2"
        The outcome instrument (its tracked scale, ``total``).
    n_bands : int, default 5
        Intake-severity bands (quantiles of the intake score); fewer when the clinic has
        fewer than ``min_patients_per_band`` patients with two or more assessments per band.
    level : float, default 0.90
        Coverage of the tolerance band (a patient above its upper limit is "not on track").
    norms : str, optional
        Norm set for reliable change and cut-off (default: ``us`` for the OQ-45.2).

    Returns
    -------
    ExpectedModel

    Raises
    ------
    ModelSpecificationError
        Too few patients with repeated assessments to fit one band.

    Notes
    -----
    R equivalent per band: ``lme4::lmer(score ~ log(session) + (1 + log(session) | id),
    REML = TRUE)``; the band is ``predict`` conditional on the intake score plus or minus
    ``qnorm((1 + level) / 2)`` prediction SDs.
    """
    from ..multilevel.mixed import mixed

    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter must lie in (0, 1). Got {level!r} instead.")
    role = role_of(instrument_name)
    norms = norms if norms is not None else DEFAULT_NORMS.get(instrument_name)
    df = _history(engine, instrument_name).drop(columns="responses")
    counts = df.groupby("id")["session"].transform("size")
    df = df[counts >= 2].sort_values(["id", "session"]).reset_index(drop=True)
    n_pat = df["id"].nunique()
    if n_pat < min_patients_per_band:
        raise ModelSpecificationError(
            f"Expected-recovery curves need at least {min_patients_per_band} patients with two "
            f"or more {instrument_name} assessments; the store has {n_pat}. Ingest more data "
            "or lower min_patients_per_band.")
    intake = df.drop_duplicates("id").set_index("id")["score"]
    k = max(1, min(int(n_bands), n_pat // min_patients_per_band))
    edges = np.unique(np.quantile(intake.to_numpy(), np.linspace(0, 1, k + 1)[1:-1]))
    band = np.searchsorted(edges, intake.to_numpy(), side="right")
    band_of = pd.Series(band, index=intake.index)
    df["band"] = df["id"].map(band_of).to_numpy()
    df["log_session"] = np.log(df["session"].to_numpy(float))
    rows = []
    lowers = np.concatenate([[-np.inf], edges])
    uppers = np.concatenate([edges, [np.inf]])
    for b in range(len(edges) + 1):
        d = df[df["band"] == b]
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            fit = mixed(FORMULA, d[["id", "score", "log_session"]])
        th = fit.theta.to_numpy()
        L = np.array([[th[0], 0.0], [th[1], th[2]]])
        G = fit.sigma ** 2 * L @ L.T
        V = fit.vcov.to_numpy()
        rows.append({"band": b + 1, "intake_lower": lowers[b], "intake_upper": uppers[b],
                     "n_patients": int(fit.n_groups), "n_obs": int(fit.n_obs),
                     "b0": float(fit.fixef.iloc[0]), "b1": float(fit.fixef.iloc[1]),
                     "g00": G[0, 0], "g01": G[0, 1], "g11": G[1, 1], "sigma": float(fit.sigma),
                     "v00": V[0, 0], "v01": V[0, 1], "v11": V[1, 1],
                     "loglik": float(fit.loglik), "converged": bool(fit.converged),
                     "singular": bool(fit.singular)})
    bands = pd.DataFrame(rows)
    alliance = {}
    from .instruments import ALLIANCE
    for name in ALLIANCE:
        rule = _alliance_rule(engine, name)
        if rule is not None:
            alliance[name] = rule
    spec = {"formula": FORMULA, "level": level, "norms": norms, "scale": role.scale,
            "bands": json.loads(bands.to_json(orient="records")), "alliance": alliance}
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        mid = conn.execute(insert(models).values(
            instrument=instrument_name, scale=role.scale, created_at=now,
            n_patients=int(n_pat), n_obs=int(len(df)),
            spec=json.dumps(spec, allow_nan=True))).inserted_primary_key[0]
    return ExpectedModel(int(mid), instrument_name, role.scale, level, bands, alliance, norms,
                         now, int(n_pat), int(len(df)))


def load_model(engine: Engine, model_id: int | None = None,
               instrument_name: str = "oq-45.2") -> ExpectedModel | None:
    """The model with this id, or the newest one of the instrument (None if none)."""
    with engine.connect() as conn:
        q = select(models.c.id, models.c.created_at)
        head = conn.execute(q.where(models.c.id == model_id) if model_id is not None else
                            q.where(models.c.instrument == instrument_name)
                            .order_by(models.c.id.desc()).limit(1)).first()
        if head is None:
            return None
        model_id = head.id
        key = (engine.url.render_as_string(hide_password=False), int(head.id), head.created_at)
        if key in _CACHE:                       # model records are never changed
            return _CACHE[key]
        r = conn.execute(select(models).where(models.c.id == model_id)).first()
    if r is None:
        return None
    spec = json.loads(r.spec)
    bands = pd.DataFrame(spec["bands"])
    for c in ("intake_lower", "intake_upper"):
        bands[c] = bands[c].astype(float).fillna(np.inf if c == "intake_upper" else -np.inf)
    model = ExpectedModel(int(r.id), r.instrument, r.scale, float(spec["level"]), bands,
                          spec.get("alliance", {}), spec.get("norms"), r.created_at,
                          int(r.n_patients), int(r.n_obs))
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = model
    return model


_CACHE: dict = {}


def n_models(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(models)).scalar_one())
