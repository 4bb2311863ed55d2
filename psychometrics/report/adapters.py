"""Calls into the analysis modules: the only place that knows their APIs.

Every function here takes the runner's context, calls the public functions of
one analysis module and returns their result objects unchanged, bundled per
instrument for the section builders. Nothing here formats or rounds. Each
bundle keeps the reason of every part that failed (``errors``) so that the
section can say what is missing and why.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context, StudyData
    from .study import Study

__all__ = ["ReliabilityBundle", "EFABundle", "CFABundle", "InvarianceBundle", "ProgressBundle",
           "ClinicalBundle", "cfa_syntax"]


def _err(exc: BaseException) -> str:
    from .context import describe_error

    return describe_error(exc)


# ---------------------------------------------------------------------- scoring
def score(study: "Study", data: "StudyData", key: str) -> Any:
    """:func:`psychometrics.scoring.score` of one instrument on the merged data."""
    from ..scoring import score as _score

    inst = study.instrument(key)
    # the ItemData of load_data: mapped and checked once, scored as it is
    return _score(data.item_data[key], inst)


def scores_frame(scored: Any, inst) -> pd.DataFrame:
    """The scale-score columns of a ScoreResult (index aligned with the data)."""
    return scored.scores[list(scored.scales)]


# ---------------------------------------------------------------------- reliability
@dataclass(frozen=True)
class ReliabilityBundle:
    """Reliability results of one instrument.

    ``internal``: :class:`psychometrics.reliability.InstrumentReliability` (alpha with
    its Feldt interval, split-half, item statistics);
    ``omega``: scale -> :class:`psychometrics.efa.OmegaResult` (``psych::omega``);
    ``omega_cfa``: scale -> :class:`psychometrics.sem.SEMResult` of the scale's
    congeneric CFA whose defined parameter ``omega`` is the composite reliability of
    the (keyed) sum score with its delta-method interval (``semTools::compRelSEM``);
    ``multilevel``: scale -> ``MultilevelReliabilityResult``;
    ``errors``: part (``omega:total``) -> reason.
    """

    instrument: str
    n_factors: dict[str, int]
    internal: Any
    omega: dict[str, Any] = field(default_factory=dict)
    omega_cfa: dict[str, Any] = field(default_factory=dict)
    multilevel: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    level: float = 0.95
    occasion: Any = "first"


def _omega_n_factors(inst, sid: str) -> int:
    sc = inst.scales[sid]
    return len(sc.components) if sc.components else 1


def reliability(ctx: "Context") -> Any:
    from ..reliability import instrument_reliability
    from .context import per_instrument, select_occasion

    spec = ctx.study.analyses.reliability
    study, data = ctx.study, ctx.data

    def one(key):
        inst = study.instrument(key)
        block = select_occasion(study, data, key, spec.occasion)
        internal = instrument_reliability(block, inst, level=spec.ci, seed=ctx.seed)
        # the CFA behind omega drops incomplete rows: take each patient's first complete
        # assessment when the analysis uses the first one
        cfa_block = (select_occasion(study, data, key, "first_complete")
                     if spec.occasion == "first" else block)
        omegas, cfas, ml, errors, nf = {}, {}, {}, {}, {}
        for sid in inst.scales:
            items = list(inst.scale_items(sid))
            if len(items) < 2:
                continue
            nf[sid] = _omega_n_factors(inst, sid)
            if spec.omega:
                try:
                    from ..efa import omega

                    with warnings.catch_warnings():
                        # with one factor psych's omega_h equals omega_t and is not shown
                        if nf[sid] == 1:
                            warnings.filterwarnings("ignore", message="omega with one factor")
                        omegas[sid] = omega(block[items], n_factors=nf[sid])
                except Exception as exc:  # noqa: BLE001  (kept and shown)
                    errors[f"omega:{sid}"] = _err(exc)
                if len(items) >= 3:
                    try:
                        from ..sem import fit, omega_model

                        with warnings.catch_warnings():
                            warnings.filterwarnings("ignore", message=".*listwise deletion.*")
                            cfas[sid] = fit(omega_model(inst, sid), cfa_block[items],
                                            std_lv=True)
                    except Exception as exc:  # noqa: BLE001
                        errors[f"omega_cfa:{sid}"] = _err(exc)
            if spec.multilevel and len(items) > spec.multilevel_max_items:
                errors[f"multilevel:{sid}"] = (
                    f"left out because the scale has {len(items)} items, more than "
                    f"multilevel_max_items = {spec.multilevel_max_items} in the study file.")
            elif spec.multilevel:
                try:
                    from ..reliability import multilevel_reliability

                    frame = pd.concat([data.frame[[study.data.id, study.data.time]],
                                       data.items[key][items]], axis=1)
                    keyed = [("-" + i) if inst.is_reversed(sid, i) else i for i in items]
                    ml[sid] = multilevel_reliability(frame, study.data.id, study.data.time,
                                                     keyed)
                except Exception as exc:  # noqa: BLE001
                    errors[f"multilevel:{sid}"] = _err(exc)
        return ReliabilityBundle(instrument=key, n_factors=nf, internal=internal, omega=omegas,
                                 omega_cfa=cfas, multilevel=ml, errors=errors, level=spec.ci,
                                 occasion=spec.occasion)

    return per_instrument("reliability", study.selected(spec.instruments), one)


# ---------------------------------------------------------------------- EFA
@dataclass(frozen=True)
class EFABundle:
    """EFA of one instrument: adequacy, parallel analysis and the factor solution."""

    instrument: str
    kmo: Any
    bartlett: Any
    parallel: Any
    fit: Any
    n_factors: int
    n_factors_rule: str
    n_obs: int
    occasion: Any
    errors: dict[str, str] = field(default_factory=dict)


def efa(ctx: "Context") -> Any:
    from .. import efa as efa_mod
    from ..sem import factor_scales
    from .context import per_instrument, select_occasion

    spec = ctx.study.analyses.efa
    study, data = ctx.study, ctx.data
    cor = {"pearson": "pearson", "polychoric": "poly"}[spec.correlation]

    def one(key):
        inst = study.instrument(key)
        block = select_occasion(study, data, key, spec.occasion).dropna(how="all")
        errors = {}
        try:
            k = efa_mod.kmo(block)
        except Exception as exc:  # noqa: BLE001
            k, errors["kmo"] = None, _err(exc)
        try:
            b = efa_mod.bartlett(block)
        except Exception as exc:  # noqa: BLE001
            b, errors["bartlett"] = None, _err(exc)
        pa = efa_mod.parallel_analysis(block, method=spec.method,
                                       n_iter=spec.parallel_iterations, seed=ctx.seed)
        if isinstance(spec.n_factors, int):
            nf, rule = spec.n_factors, "set in the study file"
        elif spec.n_factors == "bank":
            nf, rule = len(factor_scales(inst)), "the number of scales in the bank"
        else:
            nf, rule = pa.n_factors, "parallel analysis"
            if nf is None or nf < 1:
                nf = max(1, len(factor_scales(inst)))
                rule = ("the number of scales in the bank (parallel analysis gave no "
                        "usable number)")
        res = efa_mod.fa(block, nf, method=spec.method,
                         rotation=spec.rotation if nf > 1 else "none", cor=cor)
        return EFABundle(instrument=key, kmo=k, bartlett=b, parallel=pa, fit=res, n_factors=nf,
                         n_factors_rule=rule, n_obs=int(len(block)), occasion=spec.occasion,
                         errors=errors)

    return per_instrument("efa", study.selected(spec.instruments), one)


# ---------------------------------------------------------------------- CFA
@dataclass(frozen=True)
class CFABundle:
    instrument: str
    model: str
    fit: Any
    n_obs: int
    occasion: Any
    missing: str = "listwise"


def _missing_kw(missing: str) -> dict:
    # only pass the argument when it differs from sem.fit's default (listwise)
    return {} if missing == "listwise" else {"missing": missing}


def cfa_syntax(inst) -> str:
    """lavaan syntax of an instrument's measurement model (:func:`psychometrics.sem.cfa_model`:
    one factor per item-scored scale)."""
    from ..sem import cfa_model

    return cfa_model(inst)


def cfa(ctx: "Context") -> Any:
    from ..sem import fit
    from .context import per_instrument, select_occasion

    spec = ctx.study.analyses.cfa
    study, data = ctx.study, ctx.data

    def one(key):
        inst = study.instrument(key)
        model = cfa_syntax(inst)
        block = select_occasion(study, data, key, spec.occasion)
        res = fit(model, block, estimator=spec.estimator, **_missing_kw(spec.missing))
        return CFABundle(instrument=key, model=model, fit=res, n_obs=int(sum(res.n_obs)),
                         occasion=spec.occasion, missing=spec.missing)

    return per_instrument("cfa", study.selected(spec.instruments), one)


# ---------------------------------------------------------------------- invariance
@dataclass(frozen=True)
class InvarianceBundle:
    """``longitudinal``: the occasions were compared as one CFA on the patients' wide data
    (a factor per occasion, the same item's residuals correlated across occasions);
    otherwise independent groups in a multi-group CFA."""

    instrument: str
    model: str
    result: Any
    grouping: str
    groups: tuple
    n_per_group: dict
    longitudinal: bool = False
    merged_categories: tuple = ()     # ordered items: (item, category, merged into)


def _factors_of(model: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in model.splitlines():
        if "=~" in line:
            lhs, rhs = line.split("=~", 1)
            out[lhs.strip()] = [t.strip() for t in rhs.split("+") if t.strip()]
    return out


def invariance(ctx: "Context") -> Any:
    from ..sem import invariance as sem_invariance
    from .context import select_occasion

    spec = ctx.study.analyses.invariance
    study, data = ctx.study, ctx.data
    key = spec.instrument
    inst = study.instrument(key)
    model = cfa_syntax(inst)
    if spec.ordered:
        return _invariance_ordinal(ctx, spec, key, model)
    if spec.times is not None:
        from ..validity import longitudinal_invariance

        idc, tc = study.data.id, study.data.time
        block = select_occasion(study, data, key, "all")
        long = block.assign(**{idc: data.frame.loc[block.index, idc],
                               tc: data.frame.loc[block.index, tc]})
        res = longitudinal_invariance(_factors_of(model), long, idc, tc, list(spec.times),
                                      levels=spec.levels, missing=spec.missing)
        grouping = f"occasions {tc} " + " and ".join(f"{t:g}" for t in spec.times)
        return InvarianceBundle(instrument=key, model=model, result=res, grouping=grouping,
                                groups=tuple(spec.times), n_per_group={"patients": res.n_obs},
                                longitudinal=True)
    gcol = "__group__"
    block = select_occasion(study, data, key, spec.occasion)
    frame = block.assign(**{gcol: data.frame.loc[block.index, spec.group].astype(str)})
    grouping = f"groups of {spec.group}"
    frame = frame.dropna(subset=[gcol])
    res = sem_invariance(model, frame, gcol, levels=spec.levels, estimator=spec.estimator,
                         **_missing_kw(spec.missing))
    first = next(iter(res.fits.values()))
    groups = tuple(first.group_labels)
    return InvarianceBundle(instrument=key, model=model, result=res, grouping=grouping,
                            groups=groups, n_per_group=dict(zip(groups, first.n_obs)))


def ordinal_levels(levels) -> tuple[str, ...]:
    """The study's levels as the Wu & Estabrook (2016) sequence: thresholds are constrained
    before the loadings (metric -> loadings, scalar -> intercepts, strict -> residuals)."""
    alias = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
    out = [alias.get(lv, lv) for lv in levels]
    if "configural" in out and len(out) > 1 and "thresholds" not in out:
        out.insert(out.index("configural") + 1, "thresholds")
    elif "configural" not in out and "thresholds" not in out:
        out.insert(0, "thresholds")
    return tuple(out)


def _invariance_ordinal(ctx, spec, key, model):
    """Ordinal items: WLSMV with the Wu & Estabrook identification, across groups (one
    multi-group model per level) or across occasions (one longitudinal model per level);
    categories not observed in every group / occasion merged (listed in the report)."""
    from ..sem import invariance as sem_invariance
    from ..sem.ordinal_mg import merge_sparse_categories
    from ..validity import longitudinal_invariance
    from .context import select_occasion
    study, data = ctx.study, ctx.data
    levels = ordinal_levels(spec.levels)
    prm = "theta" if "residuals" in levels else spec.parameterization
    factors = _factors_of(model)
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    if spec.group is not None:
        gcol = "__group__"
        block = select_occasion(study, data, key, spec.occasion)
        frame = block.assign(**{gcol: data.frame.loc[block.index, spec.group].astype(str)})
        frame = frame.dropna(subset=[gcol]).dropna(how="any")
        merges = []
        if spec.merge_sparse_categories:
            frame, merges = merge_sparse_categories(frame, items, gcol)
        res = sem_invariance(model, frame, gcol, levels=levels, ordered=True,
                             parameterization=prm)
        first = next(iter(res.fits.values()))
        groups = tuple(first.group_labels)
        return InvarianceBundle(instrument=key, model=model, result=res,
                                grouping=f"groups of {spec.group}", groups=groups,
                                n_per_group=dict(zip(groups, first.n_obs)),
                                merged_categories=tuple(merges))
    idc, tc = study.data.id, study.data.time
    block = select_occasion(study, data, key, "all")
    long = block.assign(**{idc: data.frame.loc[block.index, idc],
                           tc: data.frame.loc[block.index, tc]})[[idc, tc, *items]]
    merges = []
    if spec.merge_sparse_categories:
        # the patients complete at every occasion, as the longitudinal model uses
        t_ok = long[tc].isin(list(spec.times)) & long[items].notna().all(axis=1)
        n_occ = long[t_ok].groupby(idc)[tc].nunique()
        keep = long[idc].isin(n_occ.index[n_occ == len(spec.times)]) & t_ok
        long, merges = merge_sparse_categories(long[keep], items, tc)
    res = longitudinal_invariance(factors, long, idc, tc, list(spec.times), levels=levels,
                                  ordered=True, parameterization=prm)
    grouping = f"occasions {tc} " + " and ".join(f"{t:g}" for t in spec.times)
    return InvarianceBundle(instrument=key, model=model, result=res, grouping=grouping,
                            groups=tuple(spec.times), n_per_group={"patients": res.n_obs},
                            longitudinal=True, merged_categories=tuple(merges))


# ---------------------------------------------------------------------- progress
@dataclass(frozen=True)
class ProgressBundle:
    """The within/between progress model and the names it used."""

    result: Any
    outcome: str
    predictors: tuple[str, ...]
    labels: dict[str, str]
    id: str
    time: str
    lead_column: str
    max_patients_plotted: int


def _score_column(ctx: "Context", ref: str) -> tuple[str, pd.Series, str]:
    from .context import AnalysisUnavailable

    key, scale = ctx.study.split_ref(ref)
    if key not in ctx.scores:
        raise AnalysisUnavailable(f"no scores of {ctx.study.label(key)} (scoring did not run or "
                                  "failed; see the Scoring messages).")
    name = f"{key}_{scale}"
    label = f"{ctx.study.label(key)} {ctx.study.instrument(key).scales[scale].name}"
    return name, ctx.scores[key][scale], label


def progress(ctx: "Context") -> Any:
    from ..multilevel import progress as ml_progress

    spec = ctx.study.analyses.progress
    s = ctx.study
    cluster = getattr(s.data, "cluster", None)
    keep = [s.data.id, s.data.time] + ([cluster] if cluster else [])
    frame = ctx.data.frame[keep].copy()
    labels = {}
    preds = []
    for ref in spec.predictors:
        name, col, label = _score_column(ctx, ref)
        frame[name] = col
        labels[name] = label
        preds.append(name)
    if spec.outcome_column is not None:
        oname = olabel = spec.outcome_column
        ocol = ctx.data.frame[spec.outcome_column]
        if oname in frame.columns:
            oname = f"{oname}_outcome"
    else:
        oname, ocol, olabel = _score_column(ctx, spec.outcome)
    frame[oname] = ocol
    labels[oname] = olabel
    if cluster:
        # three levels: assessments within patients within therapists (observed centring)
        res = ml_progress(frame, outcome=oname, predictors=preds, id=s.data.id,
                          time=s.data.time, lag=spec.lag,
                          control_prior_outcome=spec.control_prior_outcome,
                          max_gap=spec.max_gap, cluster=cluster)
    else:
        res = ml_progress(frame, outcome=oname, predictors=preds, id=s.data.id,
                          time=s.data.time, lag=spec.lag,
                          control_prior_outcome=spec.control_prior_outcome,
                          random_slopes=spec.random_slopes, max_gap=spec.max_gap,
                          method=spec.method)
    obs = res.observed if getattr(res, "method", "observed") == "latent" else res
    lead = obs.formulas["baseline"].split("~")[0].strip().strip("`")
    return ProgressBundle(result=res, outcome=oname, predictors=tuple(preds), labels=labels,
                          id=s.data.id, time=s.data.time, lead_column=lead,
                          max_patients_plotted=spec.max_patients_plotted)


# ---------------------------------------------------------------------- clinical significance
@dataclass(frozen=True)
class ClinicalBundle:
    result: Any
    scale: str
    label: str
    norms: str | None


# ---------------------------------------------------------------------- validity
@dataclass(frozen=True)
class ValidityBundle:
    """Scale-score correlations and HTMT at one assessment per patient."""

    correlations: Any
    htmt: Any
    labels: dict
    n_patients: int
    occasion: Any
    htmt_items: dict


def validity(ctx: "Context") -> Any:
    from ..validity import corr_test, htmt
    from .context import AnalysisUnavailable

    spec = ctx.study.analyses.validity
    study, data = ctx.study, ctx.data
    idc, tc = study.data.id, study.data.time
    cols, labels = {}, {}
    for ref in spec.scales:
        name, series, lab = _score_column(ctx, ref)
        cols[name], labels[name] = series, lab
    frame = pd.DataFrame(cols)
    frame[idc] = data.frame.loc[frame.index, idc]
    frame[tc] = data.frame.loc[frame.index, tc]
    complete = frame.dropna(subset=list(cols))
    if spec.occasion in ("first", "last"):
        g = complete.groupby(idc, sort=False)[tc]
        rows = g.idxmin() if spec.occasion == "first" else g.idxmax()
        chosen = complete.loc[sorted(rows.to_numpy())]
    else:
        chosen = complete[complete[tc] == spec.occasion]
    if len(chosen) < 4:
        raise AnalysisUnavailable(f"only {len(chosen)} patients have every listed scale scored "
                                  f"at occasion {spec.occasion!r}; correlations need at least 4.")
    cor = corr_test(chosen[list(cols)])
    res_htmt, items = None, {}
    keys = list(dict.fromkeys(study.split_ref(r)[0] for r in spec.scales))
    if spec.htmt:
        lines = []
        for key in keys:
            model = cfa_syntax(study.instrument(key))
            for fac, its in _factors_of(model).items():
                if len(its) >= 2:
                    name = f"{key}_{fac}" if len(keys) > 1 else fac
                    lines.append(f"{name} =~ " + " + ".join(its))
                    items[name] = its
        if len(lines) >= 2:
            block = pd.concat([data.items[k].loc[chosen.index] for k in keys], axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res_htmt = htmt("\n".join(lines), block, missing="pairwise")
            if not np.isfinite(res_htmt.matrix.to_numpy()).all():
                # a zero item correlation makes the geometric mean (HTMT2) undefined
                res_htmt = htmt("\n".join(lines), block, htmt2=False, missing="pairwise")
    return ValidityBundle(correlations=cor, htmt=res_htmt, labels=labels,
                          n_patients=int(len(chosen)), occasion=spec.occasion,
                          htmt_items=items)


def clinical_significance(ctx: "Context") -> Any:
    from ..scoring import clinical_significance as _cs
    from .context import AnalysisUnavailable

    spec = ctx.study.analyses.clinical_significance
    key, scale = ctx.study.split_ref(spec.scale)
    if key not in ctx.scoring_results:
        raise AnalysisUnavailable(f"no scores of {ctx.study.label(key)} (scoring did not run or "
                                  "failed; see the Scoring messages).")
    inst = ctx.study.instrument(key)
    norms = spec.norms
    if norms is None:
        norms = next(n for n, ns in inst.norms.items() if scale in ns.scales)
    res = _cs(ctx.scoring_results[key], scale=scale, norms=norms)
    return ClinicalBundle(result=res, scale=scale,
                          label=f"{ctx.study.label(key)} {inst.scales[scale].name}",
                          norms=inst.norms[norms].name)
