"""Longitudinal psychotherapy data with known parameters: the generator.

:func:`simulate` draws patients with monthly sessions and their WAI-SR, PEAR
and OQ-45 item responses from a fully specified model, and returns the data
beside the parameters and the latent values that made them. :func:`replicate`
yields independent replications for power analyses and parameter-recovery
studies.
"""
from __future__ import annotations

import functools
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
from scipy.special import expit

from ..exceptions import InstrumentError
from .params import N_OQ, N_PEAR, N_WAI, SimulationParameterError, SimulationParams

__all__ = ["simulate", "replicate", "SimulationResult", "SimulationTruth", "STREAMS"]

#: Independent random streams, one per part of the model (see Notes of simulate).
STREAMS = ("design", "alliance", "outcome", "wai", "pear", "oq_items", "blanks", "therapists")
#: Banks the simulator writes: key -> (bank name, subscales that partition its items).
BANKS = {"wai": ("wai-sr", None), "pear": ("pear", ("f1", "f2")), "oq": ("oq-45.2", None)}


# ============================================================== result objects
@dataclass(frozen=True, eq=False)
class SimulationTruth:
    """The latent values behind a simulated data set.

    Attributes
    ----------
    patients : DataFrame
        One row per patient: ``patient_id``, ``n_months`` (months in
        treatment, ``n_i``), ``n_sessions`` (sessions attended, which is
        ``n_months`` minus missed sessions), ``latent_wai_between_b`` (``b_i``)
        and ``oq_random_intercept_u`` (``u_i``).
    sessions : DataFrame
        One row per patient and month in treatment (attended or not):
        ``patient_id``, ``month``, ``attended``, ``latent_wai_T`` (``T_it``),
        ``latent_wai_within_w`` (``w_it``), ``latent_oq_total`` (``oq_it``, the
        latent OQ-45 total of the dynamic model, not clamped) and
        ``expected_oq_total`` (the expected observed OQ-45 total given the
        latent state; equal to ``latent_oq_total`` except at the floor or
        ceiling of the scale, see Notes of :func:`simulate`) and
        ``oq_theta_sd``, ``oq_theta_ir``, ``oq_theta_sr`` (the subscales'
        latent values ``theta_its`` of the OQ-45 item model).
    """

    patients: pd.DataFrame
    sessions: pd.DataFrame

    @property
    def b(self) -> np.ndarray:
        """``b_i`` for patients 1..N."""
        return self.patients["latent_wai_between_b"].to_numpy()

    @property
    def u(self) -> np.ndarray:
        """``u_i`` for patients 1..N."""
        return self.patients["oq_random_intercept_u"].to_numpy()


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """A simulated data set with the parameters and latent values that made it.

    Attributes
    ----------
    data : DataFrame
        Wide data, one row per attended session, sorted by patient and month:
        ``patient_id``, ``month``, ``wai_1..wai_12``, ``pear_1..pear_10``,
        ``oq_1..oq_45`` (raw responses as a respondent gives them, i.e. the
        reverse-keyed OQ items not yet reversed). Item columns are ``int64``
        when ``params.missing_rate == 0`` and ``float64`` with NaN for blanks
        otherwise.
    params : SimulationParams
        The generating parameters.
    truth : SimulationTruth
        Per-patient and per-session latent values.
    seed : int or None
        Entropy of the :class:`numpy.random.SeedSequence` used (the integer
        seed you gave, or the entropy drawn when you gave none); ``None`` when
        a :class:`numpy.random.Generator` was passed.
    spawn_key : tuple of int
        Spawn key of that SeedSequence (empty for a plain integer seed; ``(k,)``
        for replication ``k`` of :func:`replicate`).
    instruments : dict
        The banks used, ``{"wai": "wai-sr", ...}`` with their versions.
    numpy_version : str
        The numpy that drew the numbers (streams are stable within a version).
    """

    data: pd.DataFrame
    params: SimulationParams
    truth: SimulationTruth
    seed: int | None
    spawn_key: tuple[int, ...]
    instruments: dict[str, str]
    numpy_version: str

    def call(self) -> str:
        """Python code that reproduces this data set exactly."""
        args = repr(self.params)
        if self.seed is None:
            return (f"psychometrics.simulate.simulate({args}, seed=<a numpy Generator>)  "
                    "# not reproducible from the record")
        if self.spawn_key:
            seed = f"numpy.random.SeedSequence({self.seed}, spawn_key={self.spawn_key!r})"
        else:
            seed = str(self.seed)
        return f"psychometrics.simulate.simulate({args}, seed={seed})"

    def metadata(self) -> dict[str, Any]:
        """JSON-ready record: generator, call, seed, parameters, sizes."""
        from .. import __version__

        return {
            "generator": "psychometrics.simulate.simulate",
            "package_version": __version__,
            "numpy_version": self.numpy_version,
            "call": self.call(),
            "seed": self.seed,
            "spawn_key": list(self.spawn_key),
            "instruments": dict(self.instruments),
            "n_patients": int(self.truth.patients.shape[0]),
            "n_rows": int(self.data.shape[0]),
            "params": self.params.to_dict(),
        }

    def to_csv(self, path: str | Path, *, truth_json: bool = True) -> list[Path]:
        """Write :attr:`data` as CSV and, beside it, ``<stem>_truth.json``.

        The CSV has integer item responses and empty cells for blanks (see
        :func:`psychometrics.simulate.write_csv`). Returns the paths written.
        """
        from .io import write_csv, write_truth_json

        path = Path(path)
        write_csv(self.data, path)
        written = [path]
        if truth_json:
            jpath = path.with_name(path.stem + "_truth.json")
            write_truth_json(self, jpath)
            written.append(jpath)
        return written

    def summary(self) -> str:
        """A short text description of the data set."""
        d, p = self.data, self.truth.patients
        items = d.columns[2:]
        blank = float(d[items].isna().to_numpy().mean()) if len(d) else 0.0
        lines = [
            "Simulated psychotherapy data (psychometrics.simulate)",
            f"  patients: {p.shape[0]}, sessions (rows): {d.shape[0]}",
            f"  months in treatment per patient: {p['n_months'].min()}..{p['n_months'].max()} "
            f"(mean {p['n_months'].mean():.2f}); sessions attended: "
            f"{p['n_sessions'].min()}..{p['n_sessions'].max()}",
            f"  item blanks: {blank:.4%} (requested {self.params.missing_rate:.4%})",
            f"  true effects on next month's OQ total: within {self.params.gamma_within:g}, "
            f"between {self.params.gamma_between:g}",
            f"  reproduce with: {self.call()}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SimulationResult(patients={self.truth.patients.shape[0]}, "
                f"rows={self.data.shape[0]}, seed={self.seed!r}, params={self.params!r})")


# ==================================================================== banks
@dataclass(frozen=True)
class _Bank:
    name: str
    version: str
    items: tuple[str, ...]
    subscales: tuple[str, ...]
    subscale_of_item: tuple[int, ...]
    reverse: tuple[bool, ...]
    lo: int
    hi: int


@functools.lru_cache(maxsize=None)
def _banks() -> dict[str, _Bank]:
    from ..instruments import load_instrument

    out = {}
    expected = {"wai": N_WAI, "pear": N_PEAR, "oq": N_OQ}
    for key, (name, subscales) in BANKS.items():
        inst = load_instrument(name)
        if subscales is None:
            subscales = inst.scales["total"].components
        items = inst.item_ids
        sub = [-1] * len(items)
        rev = [False] * len(items)
        for s, sid in enumerate(subscales):
            for iid in inst.scales[sid].items:
                k = items.index(iid)
                if sub[k] != -1:
                    raise InstrumentError(f"Bank {name!r}: item {iid!r} is in two of the subscales "
                                          f"{list(subscales)}; the simulator needs a partition.")
                sub[k] = s
            for iid in inst.scales[sid].reverse:
                rev[items.index(iid)] = True
        orphans = [items[k] for k, s in enumerate(sub) if s == -1]
        if orphans or len(items) != expected[key]:
            raise InstrumentError(f"Bank {name!r} does not have the {expected[key]} items in the "
                                  f"subscales {list(subscales)} the simulator writes "
                                  f"(items outside them: {orphans}).")
        out[key] = _Bank(name, inst.version, items, tuple(subscales), tuple(sub), tuple(rev),
                         inst.response_scale.min, inst.response_scale.max)
    return out


# ==================================================================== seeds
def _streams(seed: Any) -> tuple[dict[str, np.random.Generator], int | None, tuple[int, ...]]:
    """One independent Generator per model part, from the user's seed."""
    if isinstance(seed, np.random.Generator):
        children = seed.spawn(len(STREAMS))
        return dict(zip(STREAMS, children)), None, ()
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and int(seed) < 0:
            raise SimulationParameterError(
                f"The 'seed' argument must be a non-negative integer. Got {seed!r} instead.")
        ss = np.random.SeedSequence(None if seed is None else int(seed))
    elif isinstance(seed, np.random.SeedSequence):
        ss = seed
    else:
        raise SimulationParameterError(
            "The 'seed' argument must be a non-negative integer, a numpy.random.SeedSequence, "
            f"a numpy.random.Generator or None. Got {type(seed).__name__} {seed!r} instead.")
    # Children built from (entropy, spawn_key) directly: unlike ss.spawn() this does not
    # advance ss, so the same SeedSequence always gives the same data.
    children = [np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (k,),
                                       pool_size=ss.pool_size)
                for k in range(len(STREAMS))]
    gens = {name: np.random.Generator(np.random.PCG64(c)) for name, c in zip(STREAMS, children)}
    return gens, int(ss.entropy), tuple(int(k) for k in ss.spawn_key)


# ================================================================ the model
def _oq_expected_grids(discrimination: tuple[float, ...], location: tuple[float, ...],
                       thresholds: tuple[float, ...], subscale_of_item: tuple[int, ...],
                       n_sub: int) -> tuple[np.ndarray, np.ndarray]:
    """theta grid and expected subscale scores E_s(theta) on it (n_sub x G)."""
    return _oq_grids_cached(discrimination, location, thresholds, subscale_of_item, n_sub)


@functools.lru_cache(maxsize=16)
def _oq_grids_cached(a, d, tau, sub, n_sub):
    a = np.asarray(a)
    d = np.asarray(d)
    tau = np.asarray(tau)
    # dense where the expected score changes, sparse in the flat tails (beyond 8 / a_min the
    # expected score is within 180 expit(-8) = 0.06 points of its floor or ceiling)
    lo, hi = d.min() + tau[0], d.max() + tau[-1]
    core, tail = 8.0 / a.min(), 40.0 / a.min()
    grid = np.concatenate([np.linspace(lo - tail, lo - core, 201)[:-1],
                           np.linspace(lo - core, hi + core, 6001),
                           np.linspace(hi + core, hi + tail, 201)[1:]])
    expected = np.zeros((n_sub, grid.size))
    for j in range(a.size):
        expected[sub[j]] += expit(a[j] * (grid[:, None] - d[j] - tau[None, :])).sum(axis=1)
    grid.setflags(write=False)
    expected.setflags(write=False)
    return grid, expected


def oq_expected_total(theta: np.ndarray, params: SimulationParams | None = None) -> np.ndarray:
    """Expected OQ-45 total (after reverse keying) at the subscales' latent values.

    Parameters
    ----------
    theta : array of shape (n, 3)
        Latent values of the subscales in bank order (Symptom Distress,
        Interpersonal Relations, Social Role), as in ``truth.sessions``
        columns ``oq_theta_sd``, ``oq_theta_ir``, ``oq_theta_sr``.
    params : SimulationParams, optional
        Supplies the item parameters (defaults if omitted).

    Returns
    -------
    ndarray of shape (n,)
        ``sum_s E_s(theta_s)`` with ``E_s(theta) = sum_{j in s} sum_k
        expit(a_j (theta - d_j - tau_k))``, the graded-response expected
        score that :func:`simulate` inverts.
    """
    params = params or SimulationParams()
    bank = _banks()["oq"]
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    a, d, tau = (np.asarray(v) for v in (params.oq_discrimination, params.oq_location,
                                         params.oq_thresholds))
    total = np.zeros(theta.shape[0])
    for j in range(a.size):
        th = theta[:, bank.subscale_of_item[j]]
        total += expit(a[j] * (th[:, None] - d[j] - tau[None, :])).sum(axis=1)
    return total


def simulate(params: SimulationParams | None = None, *, seed: Any = None,
             **changes: Any) -> SimulationResult:
    """Simulate longitudinal psychotherapy data with known parameters.

    Patients have monthly sessions; at each session they answer the WAI-SR
    (12 items, 1-5), the PEAR (10 items, 1-6, provisional bank) and the OQ-45.2
    (45 items, 0-4). Alliance has a stable between-patient level and a
    within-patient AR(1) fluctuation, each with its own known effect on next
    month's OQ-45 total.

    Parameters
    ----------
    params : SimulationParams, optional
        Generating parameters (defaults: ``SimulationParams()``, the structure
        of the project's R reference generator).
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seed of the random streams. The same integer (or SeedSequence) gives
        byte-identical data with the same numpy version. ``None`` draws fresh
        entropy, which is recorded in ``result.seed`` so that the data can be
        reproduced. A Generator is used (and advanced) as given and the result
        cannot be reproduced from the record.
    **changes
        Fields of :class:`SimulationParams` to change, e.g.
        ``simulate(n_patients=5000, missing_rate=0.02, seed=1)``.

    Returns
    -------
    SimulationResult
        ``.data`` (wide DataFrame), ``.params``, ``.truth`` (latent values),
        ``.seed``; ``.to_csv(path)`` writes the data and the parameters.

    Raises
    ------
    SimulationParameterError
        A parameter or the seed is invalid (the message names it), or an
        unknown parameter name is given in ``changes``.

    See Also
    --------
    replicate : independent replications for power analyses.
    SimulationParams : the parameters and their defaults.

    Notes
    -----
    Patients ``i = 1..N``; months ``t = 1..n_i`` with
    ``n_i ~ Uniform{sessions_min..sessions_max}``.

    **Latent alliance** (1-5 item metric)::

        T_it = wai_mu + b_i + wai_trend (t - 1) + w_it
        b_i  ~ N(0, wai_between_sd^2)
        w_i1 ~ N(0, wai_within_sd^2)
        w_it = wai_within_ar w_i,t-1 + N(0, wai_within_sd^2 (1 - wai_within_ar^2))

    so ``w`` is a stationary AR(1) with marginal SD ``wai_within_sd``.

    **WAI-SR items** ``j = 1..12`` of subscale ``s(j)`` (Task 1, 2, 10, 12;
    Bond 3, 5, 7, 9; Goal 4, 6, 8, 11; read from the bank)::

        eta_its = T_it + p_is + o_its,  p_is ~ N(0, wai_sub_person_sd^2),
                                        o_its ~ N(0, wai_sub_occ_sd^2)
        y*_itj  = wai_mu + wai_offsets_j + wai_loadings_j (eta_its(j) - wai_mu)
                  + N(0, wai_item_err_sd^2)
        wai_j   = clamp(round(y*_itj), 1, 5)

    **PEAR items** (F1: items 1-6, F2: items 7-10, from the bank)::

        zT_it = (T_it - wai_mu) / sqrt(wai_between_sd^2 + wai_within_sd^2)
        F1_it = pear_f1_on_wai zT_it + N(0, pear_person_sd^2)_i + N(0, pear_occ_sd^2)_it
        F2_it = pear_f2_on_f1 F1_it  + N(0, pear_person_sd^2)_i + N(0, pear_occ_sd^2)_it
        pear_j = clamp(round(pear_mu + pear_offsets_j + pear_loadings_j F_it
                             + N(0, pear_item_err_sd^2)), 1, 6)

    **Latent OQ-45 total** (higher = more distress)::

        oq_i1    = oq_start_mu + N(0, oq_start_sd^2)
        oq_i,t+1 = oq_c0 + u_i + oq_ar oq_it + gamma_within w_it
                   + gamma_between b_i + N(0, oq_err_sd^2),   u_i ~ N(0, oq_u_sd^2)

    With therapists (``n_therapists = K > 0``; patient ``i`` treated by therapist
    ``k(i)``) the alliance gains the therapist's level and the OQ recursion its
    intercept and the between-therapist effect::

        T_it += c_k(i),   c_k ~ N(0, wai_therapist_sd^2)
        oq_i,t+1 += v_k(i) + gamma_therapist c_k(i),   v_k ~ N(0, oq_therapist_sd^2)

    This is the R generator's model (defaults 80, 15, 24, .60, 4, -8, -1, 7);
    the recursion uses the unrounded, unclamped latent total
    (``truth.sessions.latent_oq_total``).

    **OQ-45 items** (new compared with the R generator). The latent total is
    shared out to the three subscales ``s`` (Symptom Distress 25 items,
    Interpersonal Relations 11, Social Role 9; ``k_s`` items, from the bank)
    in proportion to their length, plus zero-sum subscale deviations::

        z_its    = N(0, oq_sub_person_sd^2)_is + N(0, oq_sub_occ_sd^2)_its
        target_its = (k_s / 45) clamp(oq_it, 0, 180)
                     + k_s (z_its - sum_r k_r z_itr / 45)

    (the deviations sum to zero over ``s``, so the targets sum to the
    clamped latent total). Each subscale's latent value ``theta_its`` solves
    ``E_s(theta_its) = target_its`` where ``E_s`` is the expected score of a
    graded-response (cumulative logit) model::

        P(X_itj >= k | theta) = expit(a_j (theta_its(j) - d_j - tau_k)), k = 1..4
        E_s(theta) = sum_{j in s} sum_k P(X_j >= k | theta)

    (``a_j = oq_discrimination``, ``d_j = oq_location``,
    ``tau = oq_thresholds``; ``E_s`` is tabulated on a fine grid of theta
    and inverted by linear interpolation, exact to about 1e-4 points).
    Items are independent given ``theta`` and are drawn as
    ``X = #{k : theta - d_j - e/a_j > tau_k}`` with ``e`` standard logistic,
    which is that model exactly. ``X`` is the distress-keyed response; the 9
    reverse-keyed items of the bank (1, 12, 13, 20, 21, 24, 31, 37, 43) are
    written inverted, ``4 - X``, as a respondent answers them, so that the
    bank's reverse keying restores ``X``.

    Hence the scored OQ-45 total (after reverse keying) satisfies
    ``E[total | latent] = expected_oq_total`` which equals
    ``clamp(oq_it, 0, 180)`` unless a subscale target falls outside its
    possible range (then that target is clamped; rare near the floor and
    ceiling). Its conditional variance is the sum of the item variances given
    ``theta`` (with the defaults an SD of about 7 points at the average
    latent level): the observed total is the latent total plus mean-zero
    measurement error. The R generator instead reported the latent total
    rounded to one decimal.

    **Missing data.** Sessions after month 1 are missed independently with
    probability ``session_miss_rate`` (their rows are absent: gaps in
    ``month``; the latent processes go on). Each item response of an
    attended session is blank independently with probability
    ``missing_rate`` (MCAR).

    **Random numbers.** A :class:`numpy.random.SeedSequence` built from
    ``seed`` gives one independent PCG64 stream to each part of the model
    (:data:`STREAMS`: design, alliance, outcome, wai, pear, oq_items,
    blanks), and every draw is made for all ``N x sessions_max`` cells of the
    patient-by-month grid before rows are selected. Consequently the blanks
    and the missed sessions are the only difference between data sets with
    the same seed and different missing rates (common random numbers), and
    changing the PEAR parameters does not change the WAI or OQ responses.

    In R the structure matches ``simulate_therapy()`` in
    ``tests/data/reference/scripts/sim_therapy_lib.R``; the random numbers
    differ (R's Mersenne-Twister versus numpy's PCG64).

    Examples
    --------
    >>> from psychometrics.simulate import simulate
    >>> res = simulate(seed=20240601, missing_rate=0.02)
    >>> res.data.shape[1]
    69
    >>> res.params.gamma_within
    -8.0
    """
    if params is None:
        params = SimulationParams()
    elif not isinstance(params, SimulationParams):
        raise SimulationParameterError(
            "The 'params' argument must be a SimulationParams (build one with "
            f"SimulationParams(...)). Got {type(params).__name__} instead.")
    if changes:
        params = params.replace(**changes)
    rng, seed_entropy, spawn_key = _streams(seed)
    banks = _banks()
    P = params
    N, Tm = P.n_patients, P.sessions_max
    nF = N * Tm
    months = np.arange(1, Tm + 1)

    # --- design: months in treatment, missed sessions
    n_months = rng["design"].integers(P.sessions_min, P.sessions_max, endpoint=True, size=N)
    in_treatment = months[None, :] <= n_months[:, None]
    attended = in_treatment.copy()
    if P.session_miss_rate > 0:
        missed = rng["design"].random((N, Tm)) < P.session_miss_rate
        missed[:, 0] = False
        attended &= ~missed

    # --- latent alliance
    g = rng["alliance"]
    b = g.normal(0.0, P.wai_between_sd, N)
    w = np.empty((N, Tm))
    w[:, 0] = g.normal(0.0, P.wai_within_sd, N)
    innov = g.normal(0.0, P.wai_within_sd * math.sqrt(1.0 - P.wai_within_ar ** 2), (N, Tm - 1))
    for t in range(1, Tm):
        w[:, t] = P.wai_within_ar * w[:, t - 1] + innov[:, t - 1]
    T = P.wai_mu + b[:, None] + P.wai_trend * (months - 1)[None, :] + w
    # --- therapists (own stream: the other parts are unchanged by it)
    K = P.n_therapists
    if K > 0:
        g = rng["therapists"]
        therapist = g.permutation(np.arange(N) % K)          # as even as possible
        c_k = g.normal(0.0, P.wai_therapist_sd, K)
        v_k = g.normal(0.0, P.oq_therapist_sd, K)
        T = T + c_k[therapist][:, None]

    # --- latent OQ total
    g = rng["outcome"]
    u = g.normal(0.0, P.oq_u_sd, N)
    oq = np.empty((N, Tm))
    oq[:, 0] = P.oq_start_mu + g.normal(0.0, P.oq_start_sd, N)
    err = g.normal(0.0, P.oq_err_sd, (N, Tm - 1))
    const = P.oq_c0 + u + P.gamma_between * b
    if K > 0:
        const = const + v_k[therapist] + P.gamma_therapist * c_k[therapist]
    for t in range(1, Tm):
        oq[:, t] = const + P.oq_ar * oq[:, t - 1] + P.gamma_within * w[:, t - 1] + err[:, t - 1]

    Tf = T.ravel()  # grid cells r = i * Tm + (t - 1); item arrays are item x cell

    # --- all item responses go into one item x cell array, the layout pandas stores
    blocks = [banks["wai"], banks["pear"], banks["oq"]]
    item_ids = [iid for bank in blocks for iid in bank.items]
    dtype = np.float64 if P.missing_rate > 0 else np.int64
    values = np.empty((len(item_ids), nF), dtype=dtype)
    wai_rows, pear_rows, oq_rows = (slice(0, N_WAI), slice(N_WAI, N_WAI + N_PEAR),
                                    slice(N_WAI + N_PEAR, N_WAI + N_PEAR + N_OQ))

    # --- WAI-SR items
    bank = banks["wai"]
    sub = np.asarray(bank.subscale_of_item)
    g = rng["wai"]
    p_sub = np.repeat(g.normal(0.0, P.wai_sub_person_sd, (len(bank.subscales), N)), Tm, axis=1)
    o_sub = g.normal(0.0, P.wai_sub_occ_sd, (len(bank.subscales), nF))
    ystar = g.normal(0.0, P.wai_item_err_sd, (N_WAI, nF))
    eta = p_sub + o_sub
    eta += Tf - P.wai_mu
    ystar += np.asarray(P.wai_loadings)[:, None] * eta[sub]
    ystar += P.wai_mu + np.asarray(P.wai_offsets)[:, None]
    _round_clip(ystar, bank.lo, bank.hi, out=values[wai_rows])
    del p_sub, o_sub, eta, ystar

    # --- PEAR items
    bank = banks["pear"]
    sub = np.asarray(bank.subscale_of_item)
    g = rng["pear"]
    scale_T = math.hypot(P.wai_between_sd, P.wai_within_sd) or 1.0
    zT = (Tf - P.wai_mu) / scale_T
    F = np.empty((2, nF))
    F[0] = (P.pear_f1_on_wai * zT + np.repeat(g.normal(0.0, P.pear_person_sd, N), Tm)
            + g.normal(0.0, P.pear_occ_sd, nF))
    F[1] = (P.pear_f2_on_f1 * F[0] + np.repeat(g.normal(0.0, P.pear_person_sd, N), Tm)
            + g.normal(0.0, P.pear_occ_sd, nF))
    ystar = g.normal(0.0, P.pear_item_err_sd, (N_PEAR, nF))
    ystar += np.asarray(P.pear_loadings)[:, None] * F[sub]
    ystar += P.pear_mu + np.asarray(P.pear_offsets)[:, None]
    _round_clip(ystar, bank.lo, bank.hi, out=values[pear_rows])
    del zT, F, ystar

    # --- OQ-45 items
    bank = banks["oq"]
    steps = bank.hi - bank.lo
    if steps != len(P.oq_thresholds):
        raise SimulationParameterError(
            f"'oq_thresholds' must have one value per step of the OQ response scale "
            f"{bank.lo}..{bank.hi} ({steps}). Got {len(P.oq_thresholds)} instead.")
    sub = np.asarray(bank.subscale_of_item)
    n_sub = len(bank.subscales)
    k_s = np.bincount(sub, minlength=n_sub).astype(float)
    g = rng["oq_items"]
    z = np.repeat(g.normal(0.0, P.oq_sub_person_sd, (n_sub, N)), Tm, axis=1)
    z += g.normal(0.0, P.oq_sub_occ_sd, (n_sub, nF))
    dev = k_s[:, None] * (z - k_s @ z / k_s.sum())  # sums to zero over subscales
    total_max = steps * N_OQ
    target = (k_s / k_s.sum())[:, None] * np.clip(oq.ravel(), 0.0, total_max) + dev
    grid, expected = _oq_expected_grids(P.oq_discrimination, P.oq_location, P.oq_thresholds,
                                        bank.subscale_of_item, n_sub)
    theta = np.empty_like(target)
    for s in range(n_sub):
        theta[s] = np.interp(target[s], expected[s], grid)
        np.clip(target[s], expected[s, 0], expected[s, -1], out=target[s])
    expected_total = target.sum(axis=0)
    a = np.asarray(P.oq_discrimination)
    d = np.asarray(P.oq_location)
    tau = np.asarray(P.oq_thresholds)
    reverse = np.asarray(bank.reverse)
    oq_values = values[oq_rows]
    per = max(1, min(N_OQ, _BLOCK // nF))  # items per block: small data in one go
    for j0 in range(0, N_OQ, per):
        js = slice(j0, min(j0 + per, N_OQ))
        # drawn item after item, whatever the block size: (items, cells) in C order
        v = g.logistic(0.0, 1.0, (js.stop - js.start, nF))
        v /= -a[js, None]
        v += theta[sub[js]]
        v -= d[js, None]  # v = theta - d_j - e / a_j
        x = (v > tau[0]).view(np.uint8).copy()  # number of thresholds below v
        for tk in tau[1:]:
            x += (v > tk).view(np.uint8)
        oq_values[js] = np.where(reverse[js, None], bank.hi - x, bank.lo + x)
    del z, dev, v, x

    # --- blanks and the attended rows
    if P.missing_rate > 0:
        g = rng["blanks"]
        for rows in (wai_rows, pear_rows, oq_rows):
            part = values[rows]
            part[g.random(part.shape) < P.missing_rate] = np.nan
    keep = attended.ravel()
    if keep.all():
        keep = slice(None)
    else:
        values = values[:, keep]
    data = pd.DataFrame(values.T, columns=item_ids, copy=False)
    data.insert(0, "month", np.tile(months.astype(np.int64), N)[keep])
    data.insert(0, "patient_id", np.repeat(np.arange(1, N + 1, dtype=np.int64), Tm)[keep])
    if K > 0:
        data.insert(0, "therapist_id", np.repeat(therapist.astype(np.int64) + 1, Tm)[keep])

    treat = in_treatment.ravel()
    if treat.all():
        treat = slice(None)
    patients = pd.DataFrame({
        "patient_id": np.arange(1, N + 1, dtype=np.int64),
        "n_months": n_months.astype(np.int64),
        "n_sessions": attended.sum(axis=1).astype(np.int64),
        "latent_wai_between_b": b,
        "oq_random_intercept_u": u,
    })
    if K > 0:
        patients.insert(1, "therapist_id", therapist.astype(np.int64) + 1)
        patients["latent_wai_therapist_c"] = c_k[therapist]
        patients["oq_therapist_intercept_v"] = v_k[therapist]
    sessions = pd.DataFrame({
        "patient_id": np.repeat(np.arange(1, N + 1, dtype=np.int64), Tm)[treat],
        "month": np.tile(months.astype(np.int64), N)[treat],
        "attended": attended.ravel()[treat],
        "latent_wai_T": Tf[treat],
        "latent_wai_within_w": w.ravel()[treat],
        "latent_oq_total": oq.ravel()[treat],
        "expected_oq_total": expected_total[treat],
        **{f"oq_theta_{sid}": theta[s, treat] for s, sid in enumerate(banks["oq"].subscales)},
    })
    instruments = {k: f"{banks[k].name} {banks[k].version}" for k in ("wai", "pear", "oq")}
    return SimulationResult(data=data, params=P, truth=SimulationTruth(patients, sessions),
                            seed=seed_entropy, spawn_key=spawn_key, instruments=instruments,
                            numpy_version=np.__version__)


#: Cells per block of OQ items (items are drawn in blocks of about this many cells).
_BLOCK = 1 << 15


def _round_clip(ystar: np.ndarray, lo: int, hi: int, out: np.ndarray) -> None:
    """Round half to even (as R's round) and clamp to the response scale, into ``out``."""
    np.rint(ystar, out=ystar)
    np.clip(ystar, lo, hi, out=ystar)
    out[...] = ystar


def replicate(n_rep: int, params: SimulationParams | None = None, seed: Any = None,
              **changes: Any) -> Iterator[SimulationResult]:
    """Independent replications of :func:`simulate`, for power and recovery studies.

    Parameters
    ----------
    n_rep : int
        Number of data sets (>= 1).
    params : SimulationParams, optional
        Generating parameters shared by all replications.
    seed : int, numpy.random.SeedSequence or None
        Root seed. Replication ``k`` (0-based) uses
        ``SeedSequence(seed, spawn_key=(k,))`` (what ``SeedSequence(seed).spawn``
        gives), so its streams are independent of every other replication's
        and it can be reproduced alone: ``simulate(params,
        seed=numpy.random.SeedSequence(seed, spawn_key=(k,)))``; the result
        records ``seed`` and ``spawn_key``.
    **changes
        Fields of :class:`SimulationParams` to change.

    Yields
    ------
    SimulationResult
        One per replication, generated lazily.

    Examples
    --------
    >>> from psychometrics.simulate import replicate
    >>> [r.spawn_key for r in replicate(2, seed=7, n_patients=10)]
    [(0,), (1,)]
    """
    if isinstance(n_rep, bool) or not isinstance(n_rep, numbers.Integral) or n_rep < 1:
        raise SimulationParameterError(
            f"The 'n_rep' argument must be a positive integer. Got {n_rep!r} instead.")
    if params is None:
        params = SimulationParams()
    elif not isinstance(params, SimulationParams):
        raise SimulationParameterError(
            "The 'params' argument must be a SimulationParams (build one with "
            f"SimulationParams(...)). Got {type(params).__name__} instead.")
    if changes:
        params = params.replace(**changes)
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
                          and int(seed) >= 0):
        root = np.random.SeedSequence(None if seed is None else int(seed))
    else:
        raise SimulationParameterError(
            "The 'seed' argument of replicate must be a non-negative integer, a "
            f"numpy.random.SeedSequence or None. Got {seed!r} instead.")
    return _replications(int(n_rep), params, root)


def _replications(n_rep: int, params: SimulationParams,
                  root: np.random.SeedSequence) -> Iterator[SimulationResult]:
    for k in range(n_rep):
        child = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (k,),
                                       pool_size=root.pool_size)
        yield simulate(params, seed=child)


def _json_default(obj: Any) -> Any:  # pragma: no cover - numpy scalars in metadata
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


def metadata_json(result: SimulationResult) -> str:
    return json.dumps(result.metadata(), indent=2, default=_json_default) + "\n"
