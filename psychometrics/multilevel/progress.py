"""The study's analysis in one call: does alliance above a patient's own usual level
predict better functioning next month, apart from stable between-patient differences?
(Aafjes-van Doorn et al., 2022)."""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from .decompose import _as_list, check_panel, decompose, lead
from .mixed import MixedResult, compare, mixed
from ..results import Summary
from .statsby import StatsByResult, statsby

__all__ = ["progress", "ProgressResult", "progress_three_level", "ThreeLevelProgressResult"]

_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True, eq=False)
class ProgressResult:
    """Result of :func:`progress`.

    Attributes
    ----------
    effects : DataFrame
        One row per model x predictor x effect (within, between, contextual):
        model, predictor, effect, est, se, t, df, p_value,
        ci_lower, ci_upper, std_est, sentence.
    comparison : DataFrame
        Likelihood-ratio tests (ML) of each model against the baseline model
        without the predictors: model, npar, aic, bic, loglik, deviance, chisq,
        df, p_value.
    models : dict
        model name -> MixedResult ("baseline", "<predictor>", "joint").
    data : DataFrame
        The analysis data (decomposed predictors, lead outcome), all rows.
    n_obs, n_patients, n_lost_lead : int
        Model rows, their patients, and rows without a usable next assessment
        (``n_lost_end + n_lost_gap + n_lost_missing_next``).
    n_rows : int
        Rows of the input; ``n_rows == n_obs + n_lost_end + n_lost_gap +
        n_lost_missing_next + n_missing_current``.
    n_lost_end : int
        Rows with no later assessment of the patient (end of treatment).
    n_lost_gap : int
        Rows whose next assessment lies more than ``max_gap`` later (skipped
        months).
    n_lost_missing_next : int
        Rows whose next assessment has no outcome value.
    n_missing_current : int
        Rows with a usable next outcome but a missing current outcome or
        predictor (they cannot enter the model).
    max_gap : float
        The largest time difference counted as "next".
    formulas : dict
    correlations : StatsByResult
        psych::statsBy-style within/between correlations and ICC1/ICC2 of the
        predictors, the current and the next outcome over the model rows.
    """

    effects: pd.DataFrame
    comparison: pd.DataFrame
    models: dict = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    outcome: str = ""
    predictors: tuple = ()
    n_obs: int = 0
    n_patients: int = 0
    n_lost_lead: int = 0
    formulas: dict = field(default_factory=dict)
    correlations: StatsByResult | None = field(default=None, repr=False)
    n_rows: int = 0
    n_lost_end: int = 0
    n_lost_gap: int = 0
    n_lost_missing_next: int = 0
    n_missing_current: int = 0
    max_gap: float = 1.0
    method: str = "observed"
    centring: pd.DataFrame | None = field(default=None, repr=False)
    observed: "ProgressResult | None" = field(default=None, repr=False)

    def row_accounting(self) -> str:
        """Where every input row went, in one sentence (the counts add up to n_rows)."""
        if self.method == "latent":
            return _latent_accounting(self)
        return (f"{self.n_rows} rows: {self.n_obs} in the models; {self.n_lost_end} without a "
                f"later assessment (end of treatment); {self.n_lost_gap} whose next assessment "
                f"is more than {self.max_gap:g} time unit(s) later (skipped occasions); "
                f"{self.n_lost_missing_next} whose next assessment has no outcome; "
                f"{self.n_missing_current} with a missing current outcome or predictor")

    def __repr__(self) -> str:
        return (f"<ProgressResult {self.outcome!r} ~ {list(self.predictors)}: {self.n_obs} rows, "
                f"{self.n_patients} patients, {len(self.models)} models>")

    def sentences(self) -> list[str]:
        return list(self.effects["sentence"])

    def to_frame(self) -> pd.DataFrame:
        """The effects table (``effects``)."""
        return self.effects.copy()

    def summary(self) -> Summary:
        cols = ["model", "predictor", "effect", "est", "se", "df", "p_value",
                "ci_lower", "ci_upper", "std_est"]
        if self.method == "latent":
            return _latent_summary(self, cols)
        return Summary(
            f"Within/between-patient effects on the next assessment's {self.outcome}",
            (f"{self.n_obs} assessments with a next assessment, {self.n_patients} patients",
             self.row_accounting() + "."),
            (("Effects:", self.effects[cols]),
             ("Model comparison (ML likelihood-ratio tests against the baseline):", self.comparison)),
            tuple(self.sentences()))


def _q(name: str) -> str:
    return name if _IDENT.match(name) else f"`{name}`"


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "p not available"
    if p < 0.001:
        return "p < .001"
    return f"p = {p:.3f}".replace("0.", ".", 1)


def _sentence(effect: str, predictor: str, outcome: str, row: dict, lagk: int, prior: bool,
              model: str) -> str:
    est, lo, hi, p = row["est"], row["ci_lower"], row["ci_upper"], row["p_value"]
    dirw = "lower" if est < 0 else "higher"
    when = "the next assessment" if lagk == 1 else f"{lagk} assessments later"
    ctrl = f", controlling for the current {outcome}" if prior else ""
    adj = "" if model != "joint" else " (adjusting for the other predictors)"
    ci = f"95% CI {lo:.2f} to {hi:.2f}, {_fmt_p(p)}"
    if effect == "within":
        return (f"Within patients{adj}: when a patient's {predictor} was 1 point above that "
                f"patient's own average, {outcome} at {when} was {abs(est):.2f} points {dirw}"
                f"{ctrl} ({ci}).")
    if effect == "between":
        return (f"Between patients{adj}: patients whose average {predictor} was 1 point higher "
                f"had {outcome} at {when} {abs(est):.2f} points {dirw}{ctrl} ({ci}).")
    return (f"Contextual effect of {predictor}{adj}: the between-patient effect minus the "
            f"within-patient effect is {est:.2f} points ({ci}); "
            + ("the patient-level association differs from the session-level one."
               if p < 0.05 else "no evidence that the patient-level association differs from the "
               "session-level one."))


def progress(data: pd.DataFrame, outcome: str, predictors, id: str, time: str, lag: int = 1,
             control_prior_outcome: bool = True, random_slopes: bool = False, reml: bool = True,
             max_gap: float | None = None, detrend: bool = False,
             method: str = "observed", cluster: str | None = None) -> ProgressResult:
    """Within- and between-patient effects of time-varying predictors on the next outcome.

    For each predictor alone, and for all predictors together ("joint"), fits::

        outcome[t+lag] ~ x_within[t] + x_between_c + outcome[t] + (1 | id)

    where ``x_between_c`` is the patient's mean of ``x`` over all of the
    patient's assessments (grand-mean centred) and ``x_within`` the deviation
    from it; with ``random_slopes=True`` the random part is ``(1 + x_within | id)``
    (all within predictors in the joint model).

    Parameters
    ----------
    data : DataFrame
        Long format: one row per patient and assessment.
    outcome : str
        Outcome column (e.g. OQ-45 total; higher = more distress).
    predictors : str or list of str
        Time-varying predictors (e.g. WAI and PEAR scale scores).
    id, time : str
        Patient and numeric time columns (e.g. month).
    lag : int, default 1
        How many assessments ahead the outcome is taken; only consecutive
        assessments count (``max_gap``, default ``lag`` time units).
    control_prior_outcome : bool, default True
        Include the current outcome as a covariate (change model).
    random_slopes : bool, default False
        Random slopes of the within parts.
    reml : bool, default True
        Estimates by REML; model comparisons always by ML refits (as lme4's anova).
    max_gap : float, optional
        Largest time difference to the next assessment (default ``lag``).
    detrend : bool, default False
        Remove each patient's linear time trend from the within parts
        (Wang & Maxwell, 2015; see :func:`decompose`).
    method : {"observed", "latent"}, default "observed"
        ``"observed"``: the mixed models above (observed patient means).
        ``"latent"``: a two-level SEM with latent person means (Lüdtke et al.,
        2008), by maximum likelihood (full-information ML when the installed
        ``sem.fit_twolevel`` offers ``missing="ml"``, so rows without a next
        outcome still inform the person means); see
        :mod:`psychometrics.multilevel.progress_latent` and docs/multilevel.md
        for the specification. Effects then have z tests (``df`` NaN,
        ``t`` holds z), ``comparison`` holds likelihood-ratio tests
        against the same SEM with the predictors' slopes fixed to 0, ``models``
        the ``TwoLevelResult`` objects, ``centring`` the observed and latent
        effects side by side and ``observed`` the full observed-centring result.
        ``reml`` applies only to the observed models; ``random_slopes`` and
        ``detrend`` are not available with ``"latent"`` (error).
    cluster : str, optional
        A level above the patient, e.g. ``"therapist_id"``: the three-level analysis of
        :func:`progress_three_level` (within-patient, between-patient within therapist and
        between-therapist effects, nested random intercepts).

    Returns
    -------
    ProgressResult
        ``effects`` (within, between and contextual effects with SEs,
        Satterthwaite df, p-values, CIs, standardised effects and a plain
        sentence), ``comparison`` (LRTs against the baseline), the fitted models.

    Raises
    ------
    ModelSpecificationError
        Unknown columns, a predictor with no within-patient variance, or no
        rows with a next assessment.
    DataValidationError
        Duplicate patient-time rows or non-numeric times/values.

    Notes
    -----
    Contextual effect = between - within (Raudenbush & Bryk), tested with the
    contrast ``L beta`` and its Satterthwaite df. Standardised effects:
    within = b_w SD(x_within) / SD(y), between = b_b SD(x_between) / SD(y),
    contextual = (b_b - b_w) SD(x_between) / SD(y), where SDs are over the
    model rows (SD(x_between) over patients, one value each) and y the lead
    outcome.

    R equivalent (case 7)::

        d$x_between <- ave(d$x, d$id); d$x_within <- d$x - d$x_between
        d$y_next <- ave(d$y, d$id, FUN = function(v) c(v[-1], NA))
        lmerTest::lmer(y_next ~ x_within + x_between + y + (1 | id), d)
    """
    if cluster is not None:
        if method != "observed":
            raise ModelSpecificationError(
                f"cluster= (three levels) is available with method='observed' only. Got "
                f"method={method!r}.")
        return progress_three_level(data, outcome, predictors, id, time, cluster, lag=lag,
                                    control_prior_outcome=control_prior_outcome, reml=reml,
                                    max_gap=max_gap, random_slopes=random_slopes, detrend=detrend)
    preds = _as_list(predictors, "predictors")
    if method not in ("observed", "latent"):
        raise ModelSpecificationError(
            f"The 'method' parameter of progress must be 'observed' or 'latent'. Got {method!r} "
            "instead.")
    if method == "latent" and (random_slopes or detrend):
        raise ModelSpecificationError(
            "method='latent' fits random intercepts (person means) only: random_slopes=True and "
            "detrend=True are available with method='observed'.")
    if outcome in preds:
        raise ModelSpecificationError(f"The outcome {outcome!r} is also listed as a predictor.")
    if len(set(preds)) != len(preds):
        raise ModelSpecificationError(f"predictors contains duplicates: {preds}.")
    if not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ModelSpecificationError(f"The 'lag' parameter must be a positive integer. Got {lag!r}.")
    data = check_panel(data, id, time, [outcome] + preds, func="progress")   # data entry
    _check_observed(data, [outcome] + preds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        d = decompose(data, id, time, preds, detrend=detrend)
    for x in preds:
        w = d[x + "_within"].to_numpy(dtype=float)
        xs = d[x].to_numpy(dtype=float)
        if np.nansum(w ** 2) <= 1e-20 * max(1.0, float(np.nansum(xs ** 2))):
            raise ModelSpecificationError(
                f"Predictor {x!r} has no within-patient variance (each patient's value is constant), "
                "so its within-patient effect cannot be estimated; drop it or use it as a "
                "patient-level covariate.")
    sh = lead(d, id, time, outcome, k=int(lag), max_gap=max_gap)
    d = sh.data
    ycol = sh.columns[outcome]
    has_next = d[ycol].notna()
    model_rows = has_next & d[[outcome] + preds].notna().all(axis=1)
    lost = _lost_rows(d, id, time, int(lag), sh.max_gap)
    # every input row is in exactly one of these or in the model rows
    counts = {"n_lost_end": int(lost["end"].sum()), "n_lost_gap": int(lost["gap"].sum()),
              "n_lost_missing_next": int((~has_next & ~lost["end"] & ~lost["gap"]).sum()),
              "n_missing_current": int((has_next & ~model_rows).sum())}
    if model_rows.sum() == 0:
        raise ModelSpecificationError(
            f"No row has a next assessment of {outcome!r} within max_gap; check the time column "
            f"{time!r} and max_gap.")
    dm = d[model_rows]
    covar = f" + {_q(outcome)}" if control_prior_outcome else ""

    def rnd(ws):
        if not random_slopes:
            return f"(1 | {_q(id)})"
        return f"(1 + {' + '.join(_q(w) for w in ws)} | {_q(id)})"

    formulas = {"baseline": f"{_q(ycol)} ~ 1{covar} + (1 | {_q(id)})"}
    sets = {x: [x] for x in preds}
    if len(preds) > 1:
        sets["joint"] = preds
    for name, xs in sets.items():
        terms = " + ".join(f"{_q(x + '_within')} + {_q(x + '_between_c')}" for x in xs)
        formulas[name] = f"{_q(ycol)} ~ {terms}{covar} + {rnd([x + '_within' for x in xs])}"
    models: dict[str, MixedResult] = {}
    for name, f in formulas.items():
        models[name] = mixed(f, dm, reml=reml)
    sd_y = float(dm[ycol].std(ddof=1))
    rows = []
    for name, xs in sets.items():
        fit = models[name]
        for x in xs:
            wn, bn = x + "_within", x + "_between_c"
            sd_w = float(dm[wn].std(ddof=1))
            sd_b = float(dm.groupby(id)[bn].first().std(ddof=1))
            con = fit.contrast({wn: 1.0}).iloc[0].to_dict(), \
                fit.contrast({bn: 1.0}).iloc[0].to_dict(), \
                fit.contrast({bn: 1.0, wn: -1.0}).iloc[0].to_dict()
            for eff, r, scale in zip(("within", "between", "contextual"), con, (sd_w, sd_b, sd_b)):
                row = {"model": name, "predictor": x, "effect": eff, **r,
                       "std_est": r["est"] * scale / sd_y}
                row["sentence"] = _sentence(eff, x, outcome, r, int(lag), control_prior_outcome, name)
                rows.append(row)
    effects = pd.DataFrame(rows)
    comp_rows = []
    base = models["baseline"]
    for name in sets:
        tab = compare(base, models[name], names=["baseline", name])
        r = tab.iloc[-1].to_dict()
        comp_rows.append(r)
    b0 = compare(base, models[preds[0]], names=["baseline", preds[0]]).iloc[0].to_dict()
    comparison = pd.DataFrame([b0] + comp_rows)
    for c in ("npar", "df"):     # counts (the baseline row has no df): integers, not 2.0
        comparison[c] = comparison[c].round().astype("Int64")
    corr = statsby(dm, id, preds + [outcome, ycol]) if dm[id].nunique() >= 3 else None
    res = ProgressResult(effects=effects, comparison=comparison, models=models, data=d,
                          outcome=outcome, predictors=tuple(preds), n_obs=int(len(dm)),
                          n_patients=int(dm[id].nunique()),
                          n_lost_lead=counts["n_lost_end"] + counts["n_lost_gap"]
                          + counts["n_lost_missing_next"],
                          formulas=formulas, correlations=corr, n_rows=int(len(d)),
                          max_gap=float(sh.max_gap), **counts)
    if method == "latent":
        return _latent_result(res, d, id, outcome, ycol, preds, control_prior_outcome, int(lag))
    return res


def _latent_result(obs: ProgressResult, d: pd.DataFrame, id: str, outcome: str, ycol: str,
                   preds: list, prior: bool, lagk: int) -> ProgressResult:
    """progress(method="latent"): the two-level SEM beside the observed result ``obs``."""
    from dataclasses import replace

    from .progress_latent import centring_table, progress_latent
    lat = progress_latent(d, id, outcome, ycol, preds, prior, lagk, _latent_sentence)
    return replace(obs, effects=lat["effects"], comparison=lat["comparison"],
                   models=lat["models"], formulas=lat["formulas"], n_obs=lat["n_obs"],
                   n_patients=lat["n_patients"], method="latent",
                   centring=centring_table(obs.effects, lat["effects"]), observed=obs)


def _latent_sentence(effect, predictor, outcome, row, lagk, prior, model) -> str:
    s = _sentence(effect, predictor, outcome, row, lagk, prior, model)
    if effect == "within":
        return s.replace("that patient's own average", "that patient's latent (true) average")
    if effect == "between":
        return s.replace(f"patients whose average {predictor}",
                         f"patients whose latent average {predictor}")
    return s


def _latent_accounting(r: ProgressResult) -> str:
    lost = r.n_lost_end + r.n_lost_gap + r.n_lost_missing_next
    return (f"{r.n_rows} rows: {r.n_obs} in the two-level model (full-information ML); "
            f"{lost} of them have no next outcome ({r.n_lost_end} end of treatment, "
            f"{r.n_lost_gap} before a skipped occasion, {r.n_lost_missing_next} next outcome "
            "missing) and inform the person means through their current values"
            + (f"; {r.n_rows - r.n_obs} with no model variable observed" if r.n_rows > r.n_obs
               else ""))


def _latent_summary(r: ProgressResult, cols: list) -> Summary:
    return Summary(
        f"Within/between-patient effects on the next assessment's {r.outcome} "
        "(latent person means, two-level SEM)",
        (f"{r.n_obs} assessments of {r.n_patients} patients", r.row_accounting() + "."),
        (("Effects (z tests):", r.effects[cols]),
         ("Likelihood-ratio tests against the model with the predictors' slopes fixed to 0:",
          r.comparison),
         ("Observed versus latent centring:", r.centring)),
        tuple(r.sentences()))


def _check_observed(data: pd.DataFrame, cols: list) -> None:
    """Refuse, naming them, the outcome/predictor columns with no observed value."""
    empty = [c for c in cols if not data[c].notna().any()]
    if empty:
        raise DataValidationError(
            f"progress: column(s) {empty} have no observed value in any of the {len(data)} "
            "row(s) (every value is missing), so no effect can be estimated.",
            hint="Check that the column holds the scale scores you meant (for instance the "
                 "'total' column of pm.score(...).scores renamed to this name), or drop it.")


def _lost_rows(d: pd.DataFrame, id: str, time: str, k: int, max_gap: float) -> dict:
    """Per row (input order): no k-th later assessment of the patient (``end``),
    or one more than ``max_gap`` later (``gap``); as :func:`lead` decides."""
    codes, _ = pd.factorize(d[id], sort=False)
    t = d[time].to_numpy(dtype=float)
    order = np.lexsort((t, codes))
    n = len(d)
    src = np.arange(n) + k
    inside = src < n
    src_c = np.minimum(src, n - 1)
    c_s, t_s = codes[order], t[order]
    same = inside & (c_s[src_c] == c_s)
    far = same & (np.abs(t_s[src_c] - t_s) > max_gap + 1e-9)
    end = np.empty(n, dtype=bool)
    gap = np.empty(n, dtype=bool)
    end[order] = ~same
    gap[order] = far
    return {"end": end, "gap": gap}


# =========================================================================== three levels
@dataclass(frozen=True, eq=False)
class ThreeLevelProgressResult:
    """Result of :func:`progress_three_level` (``progress(..., cluster=...)``).

    Attributes
    ----------
    effects : DataFrame
        One row per model x predictor x effect: model, predictor, effect ("within",
        "between_patient", "between_cluster", "contextual_patient" = between_patient - within,
        "contextual_cluster" = between_cluster - between_patient), est, se, t, df
        (Satterthwaite), p_value, ci_lower, ci_upper.
    variance_shares : DataFrame
        For the outcome and each predictor: the share of its variance at each level (cluster,
        patient within cluster, occasion), from ``v ~ 1 + (1 | cluster/patient)`` (REML):
        variable, level, variance, share.
    comparison : DataFrame
        ML likelihood-ratio tests of each model against the baseline (as :func:`progress`).
    models : dict
        model name -> MultiMixedResult.
    data : DataFrame
        Analysis data: decomposed predictors (``_within``, ``_between_c`` = patient mean minus
        the cluster mean, ``_cluster_c`` = cluster mean centred), the lead outcome.
    """

    effects: pd.DataFrame
    variance_shares: pd.DataFrame
    comparison: pd.DataFrame
    models: dict = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    outcome: str = ""
    predictors: tuple = ()
    cluster: str = ""
    n_obs: int = 0
    n_patients: int = 0
    n_clusters: int = 0
    formulas: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.effects

    def __repr__(self) -> str:
        return (f"<ThreeLevelProgressResult {self.outcome!r} ~ {list(self.predictors)}: "
                f"{self.n_obs} rows, {self.n_patients} patients, {self.n_clusters} "
                f"{self.cluster}>")

    def summary(self) -> Summary:
        return Summary(
            f"Within-patient, between-patient and between-{self.cluster} effects on the next "
            f"assessment's {self.outcome}",
            (f"{self.n_obs} assessments with a next assessment, {self.n_patients} patients, "
             f"{self.n_clusters} levels of {self.cluster}",),
            (("Effects:", self.effects),
             ("Variance shares per level:", self.variance_shares),
             ("Model comparison (ML likelihood-ratio tests against the baseline):",
              self.comparison)), ())


def progress_three_level(data: pd.DataFrame, outcome: str, predictors, id: str, time: str,
                         cluster: str, lag: int = 1, control_prior_outcome: bool = True,
                         reml: bool = True, max_gap: float | None = None,
                         random_slopes: bool = False, detrend: bool = False
                         ) -> ThreeLevelProgressResult:
    """Three-level version of :func:`progress`: assessments within patients within a cluster
    (the therapist).

    Observed centring at both levels (:func:`decompose` with ``id=[cluster, id]``): for each
    predictor ``x = x_within + x_between_c + x_cluster``, and for each predictor alone and all
    together ("joint")::

        outcome[t+lag] ~ x_within + x_between_c + x_cluster_c + outcome[t] + (1 | cluster/id)

    ``x_within`` (deviation from the patient's mean) gives the within-patient effect,
    ``x_between_c`` (patient mean minus the therapist's mean) the between-patient effect
    within therapists, ``x_cluster_c`` (the therapist's mean, centred) the between-therapist
    effect (Baldwin, Wampold & Imel, 2007). Contextual effects: between_patient - within and
    between_cluster - between_patient, each tested as a contrast with Satterthwaite df.
    Patient ids may repeat across clusters (a patient is the pair cluster, id).

    R equivalent: ``lmerTest::lmer(y_next ~ x_within + x_between_c + x_cluster_c + y +
    (1 | therapist/patient), d)``.

    Raises
    ------
    ModelSpecificationError
        Unknown columns, ``random_slopes`` or ``detrend`` (not available at three levels
        yet), a cluster with a single patient only for all clusters, fewer than 2 clusters.
    """
    from .decompose import decompose as _decompose
    preds = _as_list(predictors, "predictors")
    if random_slopes or detrend:
        raise ModelSpecificationError(
            "random_slopes=True and detrend=True are not available with cluster= yet; use the "
            "two-level progress() for them.")
    if cluster not in data.columns:
        raise ModelSpecificationError(
            f"cluster={cluster!r} is not a column of data; columns are {list(map(str, data.columns))}.")
    if cluster == id:
        raise ModelSpecificationError("cluster= and id= name the same column; cluster is the level "
                                      "above the patient (e.g. the therapist).")
    if outcome in preds:
        raise ModelSpecificationError(f"The outcome {outcome!r} is also listed as a predictor.")
    if not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ModelSpecificationError(f"The 'lag' parameter must be a positive integer. Got {lag!r}.")
    miss = data[cluster].isna()
    if miss.any():
        raise ModelSpecificationError(
            f"cluster column {cluster!r} is missing in rows {list(data.index[miss][:10])}; every "
            "assessment needs its therapist.")
    # one patient key (the pair cluster, id): ids may repeat across therapists
    d0 = data.copy()
    key = "_patient_key"
    d0[key] = d0[cluster].astype(str) + "|" + d0[id].astype(str)
    n_cl_per_id = d0.groupby(id)[cluster].nunique()
    check_panel(d0, key, time, [outcome] + preds)
    _check_observed(d0, [outcome] + preds)
    n_clusters = int(d0[cluster].nunique())
    if n_clusters < 2:
        raise ModelSpecificationError(
            f"cluster column {cluster!r} has {n_clusters} level(s); a between-{cluster} effect "
            "needs at least 2 (better 20 or more).")
    per = d0.groupby(cluster)[key].nunique()
    if (per <= 1).all():
        raise ModelSpecificationError(
            f"Every level of {cluster!r} has a single patient: between-patient and "
            f"between-{cluster} effects cannot be told apart.")
    if (per <= 1).any():
        warnings.warn(
            f"{int((per <= 1).sum())} level(s) of {cluster!r} have a single patient: "
            f"{list(per[per <= 1].index[:10])}; for them the patient and {cluster} levels "
            "coincide.", DataQualityWarning, stacklevel=2)
    del n_cl_per_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        d = _decompose(d0, [cluster, key], time, preds)
    for x in preds:
        w = d[x + "_within"].to_numpy(dtype=float)
        if np.nansum(w ** 2) <= 1e-20 * max(1.0, float(np.nansum(d[x].to_numpy(dtype=float) ** 2))):
            raise ModelSpecificationError(
                f"Predictor {x!r} has no within-patient variance; its within-patient effect "
                "cannot be estimated.")
    sh = lead(d, key, time, outcome, k=int(lag), max_gap=max_gap)
    d = sh.data
    ycol = sh.columns[outcome]
    rows_ok = d[ycol].notna() & d[[outcome] + preds].notna().all(axis=1)
    if rows_ok.sum() == 0:
        raise ModelSpecificationError(
            f"No row has a next assessment of {outcome!r} within max_gap; check {time!r}.")
    dm = d[rows_ok]
    covar = f" + {_q(outcome)}" if control_prior_outcome else ""
    rnd = f"(1 | {_q(cluster)}/{key})"
    formulas = {"baseline": f"{_q(ycol)} ~ 1{covar} + {rnd}"}
    sets = {x: [x] for x in preds}
    if len(preds) > 1:
        sets["joint"] = preds
    for name, xs in sets.items():
        terms = " + ".join(f"{_q(x + '_within')} + {_q(x + '_between_c')} + {_q(x + '_cluster_c')}"
                           for x in xs)
        formulas[name] = f"{_q(ycol)} ~ {terms}{covar} + {rnd}"
    models = {name: mixed(f, dm, reml=reml) for name, f in formulas.items()}
    rows = []
    for name, xs in sets.items():
        fit = models[name]
        for x in xs:
            w, b, c = x + "_within", x + "_between_c", x + "_cluster_c"
            for eff, L in (("within", {w: 1.0}), ("between_patient", {b: 1.0}),
                           ("between_cluster", {c: 1.0}),
                           ("contextual_patient", {b: 1.0, w: -1.0}),
                           ("contextual_cluster", {c: 1.0, b: -1.0})):
                r = fit.contrast(L).iloc[0].to_dict()
                rows.append({"model": name, "predictor": x, "effect": eff,
                             **{k: r[k] for k in ("est", "se", "t", "df", "p_value",
                                                  "ci_lower", "ci_upper")}})
    effects = pd.DataFrame(rows)
    shares = []
    for v in [outcome] + preds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f0 = mixed(f"{_q(v)} ~ 1 + {rnd}", d.dropna(subset=[v]), reml=True)
        tab = f0.random_effects
        lev = {cluster: cluster, f"{key}:{cluster}": "patient", "Residual": "occasion"}
        tot = float(tab["variance"].sum())
        for _, r in tab.iterrows():
            shares.append({"variable": v, "level": lev.get(r["group"], r["group"]),
                           "variance": float(r["variance"]), "share": float(r["variance"]) / tot})
    comp = []
    base = models["baseline"]
    for name in sets:
        comp.append(compare(base, models[name], names=["baseline", name]).iloc[-1].to_dict())
    b0 = compare(base, models[preds[0]], names=["baseline", preds[0]]).iloc[0].to_dict()
    return ThreeLevelProgressResult(
        effects=effects, variance_shares=pd.DataFrame(shares), comparison=pd.DataFrame([b0] + comp),
        models=models, data=d, outcome=outcome, predictors=tuple(preds), cluster=cluster,
        n_obs=int(len(dm)), n_patients=int(dm[key].nunique()),
        n_clusters=int(dm[cluster].nunique()), formulas=formulas)
