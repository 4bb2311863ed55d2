"""Two-level SEM by maximum likelihood, equal to lavaan 0.6-14 ``sem(model, data, cluster=)``.

The model syntax has a ``level: 1`` (``level: within``) and a ``level: 2``
(``level: between``) block. Each block is parsed by :func:`.syntax.parse_model`
and turned into its own parameter table by :func:`.partable.build_partable`
(lavaan's defaults per block, mean structure on), so each level is an ordinary
single-level LISREL model (:mod:`.matrices`) for ``Sigma_W, mu_W`` and
``Sigma_B, mu_B``. Variables named at both levels are split into a within and a
between (random-intercept) part; variables only at level 2 are cluster-level
variables; variables only at level 1 have no between part. Means live at level 2:
level-1 intercepts of split variables are fixed to 0 (lavaan).

Estimation maximises the two-level normal likelihood
(:mod:`.twolevel_stats`, lavaan ``lav_mvnorm_cluster``) with the analytic
gradient (BFGS, then Newton steps on the Hessian); standard errors come from the
observed information (Hessian of -logL by Richardson differences of the
analytic gradient), lavaan's default for multilevel models. The saturated model
is lavaan's EM (same start and stopping rule), so the chi-square equals lavaan's.

Modules: :mod:`.twolevel_stats` (cluster-size statistics, likelihood, EM),
:mod:`.twolevel_model` (level blocks -> parameter vector, optimiser, scores),
:mod:`.twolevel_results` (result objects), :mod:`.twolevel_reliability`
(level-specific omegas); this module validates the data and assembles the fit.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import (ConvergenceWarning, DataQualityWarning, DataValidationError,
                          HeywoodCaseWarning, IdentificationError, ModelSpecificationError,
                          ModelSyntaxError)
from .estimator import FitSpec
from .fit_measures import (incremental_indices, information_criteria, rmsea_diff,
                           rmsea_measures, srmr_twolevel)
from .partable import build_partable
from .results import frozen_mapping, inference
from .syntax import parse_model
from .twolevel_model import (_complex_jacobian, _defined_values, _fix_rows, _hessian,
                             _level_means, _Model, _optimize, _optimize_light, _param_names,
                             _std_all, _std_level, _baseline_table, _cluster_scores,
                             split_levels)
from .twolevel_results import TwoLevelResult
from .twolevel_stats import ClusterStats, H1, cluster_stats, constant, em_saturated

__all__ = ["fit_twolevel", "lrt_twolevel", "TwoLevelResult", "split_levels"]


# ---------------------------------------------------------------------------- data checks
def _prepare_data(data, cluster, y, z, missing="listwise", x_exo=()):
    """Validate the data; returns ``Y, Z, codes, ids, csize, warnings, dropped``.

    ``missing="listwise"``: rows with a missing value in a model variable are dropped.
    ``missing="ml"``: rows stay in with their holes; rows with no observed level-1 variable,
    rows without a cluster id and (with fixed.x) rows with a missing exogenous covariate
    are dropped and counted in ``dropped`` (reason -> rows). ``Z`` is then one row per
    cluster (the cluster's observed value, NaN if none).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"The 'data' argument must be a pandas DataFrame, got "
                                  f"{type(data).__name__}.")
    if not isinstance(cluster, str):
        raise ModelSpecificationError(f"The 'cluster' argument must be a column name (str), got "
                                      f"{cluster!r}.")
    if cluster not in data.columns:
        raise ModelSpecificationError(
            f"The cluster variable {cluster!r} is not a column of 'data'. Available columns: "
            f"{', '.join(map(str, data.columns[:20]))}{' ...' if len(data.columns) > 20 else ''}.")
    needed = list(y) + list(z)
    absent = [v for v in needed if v not in data.columns]
    if absent:
        raise ModelSpecificationError(
            f"Variable(s) {', '.join(map(repr, absent))} of the model are not columns of "
            f"'data'.")
    if cluster in needed:
        raise ModelSpecificationError(
            f"The cluster variable {cluster!r} cannot also be a variable of the model.")
    bad = [v for v in needed if not (pd.api.types.is_numeric_dtype(data[v])
                                     or pd.api.types.is_bool_dtype(data[v]))]
    if bad:
        raise DataValidationError(
            f"Model variable(s) {', '.join(map(repr, bad))} are not numeric; convert them "
            f"(e.g. with pd.to_numeric) before fitting.")
    sub = data[needed + [cluster]]
    warn = []
    dropped: dict[str, int] = {}
    if missing == "listwise":
        ok = sub.notna().all(axis=1).to_numpy()
        if not ok.all():
            n_drop = int((~ok).sum())
            dropped["missing values (listwise deletion)"] = n_drop
            msg = (f"{n_drop} of {len(sub)} rows have missing values in the model variables or "
                   f"the cluster variable {cluster!r} and were removed (listwise deletion). Use "
                   f"missing='ml' to keep incomplete rows (full-information ML).")
            warnings.warn(msg, DataQualityWarning, stacklevel=4)
            warn.append(msg)
            sub = sub[ok]
    else:
        n0 = len(sub)
        reasons = []
        no_id = sub[cluster].isna().to_numpy()
        # as lavaan: a row without any observed level-1 variable is empty (its level-2
        # values are the cluster's, known from the cluster's other rows)
        empty = sub[list(y)].isna().all(axis=1).to_numpy() & ~no_id
        xs = [v for v in x_exo if v in needed]
        no_x = (sub[xs].isna().any(axis=1).to_numpy() & ~no_id & ~empty) if xs else \
            np.zeros(n0, dtype=bool)
        for mask, why in ((no_id, f"no cluster id ({cluster!r} missing)"),
                          (empty, "no observed level-1 variable"),
                          (no_x, f"missing exogenous covariate ({', '.join(xs)}; fixed.x)")):
            if mask.any():
                dropped[why] = int(mask.sum())
                rows = np.flatnonzero(mask)
                # 1-based data rows (sub has every row of data here), as in every message
                reasons.append(f"{int(mask.sum())} with {why} (data rows "
                               f"{', '.join(str(int(r) + 1) for r in rows[:10])}"
                               f"{' ...' if len(rows) > 10 else ''})")
        drop = no_id | empty | no_x
        gone = sorted(set(sub[cluster][drop & ~no_id]) - set(sub[cluster][~drop]), key=str)
        if gone:
            dropped["clusters with no observed values"] = len(gone)
            reasons.append(f"{len(gone)} cluster(s) of {cluster!r} lost every row (ids: "
                           f"{', '.join(map(str, gone[:10]))}{' ...' if len(gone) > 10 else ''})")
        if drop.any():
            msg = (f"{int(drop.sum())} of {n0} rows were removed: {'; '.join(reasons)}. "
                   f"Rows with some observed level-1 variables stay in (missing='ml').")
            warnings.warn(msg, DataQualityWarning, stacklevel=4)
            warn.append(msg)
            sub = sub[~drop]
    if len(sub) == 0:
        raise DataValidationError("No rows with observed model variables are left in 'data'.")
    codes, ids = pd.factorize(sub[cluster], sort=False)
    J = len(ids)
    Y = sub[list(y)].to_numpy(dtype=float)
    Z = sub[list(z)].to_numpy(dtype=float)
    csize = np.bincount(codes, minlength=J)
    if J < 2:
        raise DataValidationError(
            f"The cluster variable {cluster!r} has only {J} cluster; a two-level model needs "
            f"many clusters.")
    if np.all(csize == 1):
        raise DataValidationError(
            f"Every cluster of {cluster!r} has size 1 (each row is its own cluster), so within- "
            f"and between-cluster variance cannot be separated. Check the 'cluster' argument.")
    return Y, Z, codes, list(ids), csize, warn, dropped


def _empty_cluster_check(Y, Zc, codes, ids, y, z, within_only) -> list[str]:
    """With missing='ml': a variable never observed is an error (rows without any observed
    level-1 variable were dropped before, and clusters left without rows reported)."""
    for k, v in enumerate(y):
        if np.isnan(Y[:, k]).all():
            raise DataValidationError(
                f"Level-1 variable {v!r} has no observed value; remove it from the model.")
    for k, v in enumerate(z):
        if np.isnan(Zc[:, k]).all():
            raise DataValidationError(
                f"Level-2 variable {v!r} has no observed value in any cluster; remove it from "
                f"the 'level: 2' block.")
    return []


def _cluster_values(Z, codes, J, z, ids):
    """One value per cluster of each between-only variable (the observed value; NaN if the
    cluster has none). Values differing within a cluster are checked before."""
    out = np.full((J, Z.shape[1]), np.nan)
    for k in range(Z.shape[1]):
        ok = ~np.isnan(Z[:, k])
        out[codes[ok][::-1], k] = Z[ok, k][::-1]     # first observed value per cluster
    return out


def _variance_checks(Y, Z, codes, ids, csize, y, z, within_only):
    """lavaan's checks (lav_data.R): level-1 variables without within variance in some
    (or all) clusters; level-2-only variables varying within clusters."""
    msgs = []
    J = len(ids)
    single = np.flatnonzero(csize == 1)
    if len(single):
        msg = (f"{len(single)} cluster(s) have a single row (ids: "
               f"{' '.join(str(ids[i]) for i in single[:20])}{' ...' if len(single) > 20 else ''}); "
               f"they inform the level-2 (between) part only, not the level-1 (within) part.")
        warnings.warn(msg, DataQualityWarning, stacklevel=4)
        msgs.append(msg)

    def within_var(x, single=10.0):
        ok = ~np.isnan(x)
        c, xo = codes[ok], x[ok]
        n_obs = np.bincount(c, minlength=J).astype(float)
        s1 = np.bincount(c, weights=xo, minlength=J)
        s2 = np.bincount(c, weights=xo * xo, minlength=J)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = s1 / n_obs
            v = (s2 - n_obs * m * m) / (n_obs - 1)
        # exact test for constant clusters (avoid rounding of the formula above)
        mn = np.full(J, np.inf)
        mx = np.full(J, -np.inf)
        np.minimum.at(mn, c, xo)
        np.maximum.at(mx, c, xo)
        v = np.where(mx == mn, 0.0, np.maximum(np.nan_to_num(v), 0.0))
        v[n_obs <= 1] = single  # lavaan: ignore singletons (and clusters with one value)
        return v

    for k, v in enumerate(y):
        wv = within_var(Y[:, k])
        zero = np.flatnonzero(wv < np.finfo(float).eps)
        if len(zero) == 0:
            continue
        if len(zero) == J:
            msg = (f"Level-1 variable {v!r} has no variance at the within level. The variable "
                   f"appears to be a between-level variable; remove it from the level 1 section "
                   f"of the model syntax.")
        else:
            msg = (f"Level-1 variable {v!r} has no variance within some clusters. The cluster "
                   f"ids with zero within variance are: {' '.join(str(ids[i]) for i in zero)}")
        warnings.warn(msg, DataQualityWarning, stacklevel=4)
        msgs.append(msg)
    for k, v in enumerate(z):
        wv = within_var(Z[:, k], single=0.0)
        nz = np.flatnonzero(wv > np.finfo(float).eps)
        if len(nz) == 0:
            continue
        if len(nz) == 1:
            msg = (f"Level-2 variable {v!r} has non-zero variance at the within level in one "
                   f"cluster with id: {ids[nz[0]]}. Please double-check if this is a between "
                   f"only variable.")
            warnings.warn(msg, DataQualityWarning, stacklevel=4)
            msgs.append(msg)
        else:
            raise DataValidationError(
                f"Level-2 variable {v!r} has non-zero variance at the within level in "
                f"{len(nz)} clusters (ids: {' '.join(str(ids[i]) for i in nz[:20])}"
                f"{' ...' if len(nz) > 20 else ''}). A variable named only in the 'level: 2' "
                f"block must be constant within clusters; add it to 'level: 1' as well to split "
                f"it into a within and a between part.")
    return msgs


# ---------------------------------------------------------------------------- main
def _one_blas_thread(fn):
    """Run the fit on one OpenBLAS thread (many small matrix products: the thread pool's
    hand-offs cost milliseconds per call on a loaded machine, see :mod:`.._blas`)."""
    import functools

    from .._blas import single_blas_thread

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_blas_thread():
            return fn(*args, **kwargs)
    return wrapper


@_one_blas_thread
def fit_twolevel(model: str, data: pd.DataFrame, cluster: str, *, missing: str = "listwise",
                 estimator: str = "ML", fixed_x: bool = True, std_lv: bool = False,
                 h1: str = "em", se: str | None = None,
                 max_iter: int = 10000) -> TwoLevelResult:
    """Fit a two-level SEM by maximum likelihood (lavaan ``sem(model, data, cluster =)``).

    Parameters
    ----------
    model : str
        lavaan syntax with ``level: 1`` and ``level: 2`` blocks (``level: within`` /
        ``level: between`` also accepted). Labels shared across levels impose equality
        (e.g. cross-level invariant loadings).
    data : DataFrame
        One row per level-1 observation.
    cluster : str
        Column identifying the clusters (e.g. the patient id).
    missing : {"listwise", "ml"}
        ``"listwise"`` (default): rows with a missing value in a model variable are dropped
        with a :class:`DataQualityWarning`. ``"ml"`` (alias ``"fiml"``): two-level
        full-information ML (lavaan ``missing = "ml"``): every row with at least one
        observed level-1 variable stays in with its holes (each cluster's likelihood is the
        marginal of its observed cells, :mod:`.twolevel_missing`); rows with no observed
        level-1 variable (as lavaan's "empty cases"), without a cluster id or (with
        ``fixed_x``) with a missing exogenous covariate are dropped, counted in
        ``result.dropped`` (clusters left without rows too) and named in a warning. The
        saturated model is then maximised over PSD matrices (:mod:`.twolevel_h1`, as
        lavaan, which fits it by quasi-Newton). Between-only variables take the cluster's
        observed value (lavaan treats a cluster as missing on it if any of its rows is).
    estimator : {"ML", "MLR"}
        ``"MLR"``: ML estimates with robust (Huber-White, cluster-wise) standard errors
        and lavaan's scaled test ``yuan.bentler.mplus`` (``chisq_scaled``,
        ``chisq_scaling_factor``, ``*_scaled`` and ``*_robust`` fit measures), as lavaan
        ``estimator = "MLR"``. With missing values the same formulas run on the FIML
        likelihood's scores and information (lavaan 0.6-14 stops with an error there).
    fixed_x : bool
        Exogenous observed covariates keep their (saturated-model) moments (lavaan
        default).
    std_lv : bool
        Scale latent variables by fixing their variances to 1.
    h1 : {"em", "exact"}
        Saturated model: ``"em"`` replays lavaan's EM, which stops when the log-likelihood
        gains less than 1e-4 per iteration (default: chi-square, SRMR, fixed.x moments
        equal lavaan's); ``"exact"`` continues from the EM solution to the maximum over
        positive semi-definite within and between matrices (Cholesky parametrisation,
        :mod:`.twolevel_h1`), so the chi-square is the exact likelihood-ratio statistic
        against proper covariance models (at least lavaan's). With ``missing="ml"`` and
        holes in the data the saturated model is always fitted this way (as lavaan does).
    se : {"standard", "robust"} or None
        Default: ``"standard"`` for ML, ``"robust"`` for MLR.
        ``"standard"``: inverse observed information (lavaan default). ``"robust"``:
        Huber-White sandwich ``A^-1 B A^-1`` with ``A`` the observed information and ``B``
        the crossproduct of the cluster-wise scores (lavaan ``se = "robust.huber.white"``,
        the standard errors of ``estimator = "MLR"``; ``se="robust"`` with
        ``estimator="ML"`` keeps the ML test statistic, ``estimator="MLR"`` adds the scaled
        one).
    max_iter : int
        Maximum quasi-Newton iterations.

    Returns
    -------
    TwoLevelResult

    Raises
    ------
    ModelSyntaxError
        Missing/duplicated level blocks, statements outside a block, bad syntax.
    ModelSpecificationError
        Cluster column or model variables absent from ``data``, ``:=`` definitions.
    DataValidationError
        Non-numeric variables; fewer than 2 clusters; all clusters of size 1; a level-2-only
        variable varying within several clusters; with missing="ml" a variable never
        observed.
    IdentificationError
        Negative degrees of freedom or singular information matrix.

    Warns
    -----
    DataQualityWarning
        Listwise deletion; rows dropped with missing="ml" (reasons, row labels, clusters
        that lost every row); clusters with a single row; level-1 variables without
        variance within some clusters (lavaan's warning, same cluster ids).
    ConvergenceWarning
        The model or the saturated model did not converge.
    HeywoodCaseWarning
        Negative variance or (residual) correlation beyond +-1, naming variable and level.

    Notes
    -----
    Likelihood: see :mod:`.twolevel_stats`. ``logl = -(F + P log 2 pi) / 2 - loglik_x``
    (with fixed.x, the saturated log-likelihood of the covariates is subtracted, as
    lavaan). ``chisq = 2 (logl_h1 - logl)``; ``df`` counts level-1 (co)variances, level-1
    means of within-only variables, and level-2 (co)variances and means, minus fixed.x
    moments, minus free parameters (lavaan ``lav_partable_ndat``). CFI/TLI use the
    independence model fitted at both levels; RMSEA uses N = number of level-1 rows;
    ``srmr = srmr_within + srmr_between`` (lavaan ``lav_fit_srmr_twolevel``, correlation
    residuals of the h1 vs the model-implied level matrices).

    R: ``lavaan::sem(model, data, cluster = "id")`` (lavaan 0.6-14, ``estimator = "ML"``,
    ``information = "observed"``).
    """
    t0 = time.perf_counter()
    from ..io.itemdata import ItemData, as_frame
    if isinstance(data, (pd.DataFrame, ItemData)):   # an ItemData: its keys and item columns
        data = as_frame(data, "fit_twolevel")
    if not isinstance(missing, str) or missing.lower() not in ("listwise", "ml", "fiml"):
        raise ModelSpecificationError(f"The 'missing' argument must be 'listwise' or 'ml', got "
                                      f"{missing!r}.")
    missing = "ml" if missing.lower() in ("ml", "fiml") else "listwise"
    if not isinstance(estimator, str) or estimator.upper() not in ("ML", "MLR"):
        raise ModelSpecificationError(f"The 'estimator' argument must be 'ML' or 'MLR' for "
                                      f"two-level models, got {estimator!r}.")
    estimator = estimator.upper()
    if se is None:
        se = "robust" if estimator == "MLR" else "standard"
    if se not in ("standard", "robust"):
        raise ModelSpecificationError(f"The 'se' argument must be 'standard' or 'robust', got "
                                      f"{se!r}.")
    if h1 not in ("em", "exact"):
        raise ModelSpecificationError(f"The 'h1' argument must be 'em' or 'exact', got {h1!r}.")
    h1_method = h1
    se_kind = se
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ModelSpecificationError(f"The 'max_iter' argument must be a positive integer, got "
                                      f"{max_iter!r}.")
    blocks = split_levels(model)
    parsed = {}
    for lev in (1, 2):
        try:
            parsed[lev] = parse_model(blocks[lev])
        except ModelSyntaxError as e:
            if "contains no model statements" in str(e):
                raise ModelSyntaxError(f"The 'level: {lev}' block contains no model statements "
                                       f"(=~, ~, ~~).", token=f"level: {lev}") from None
            raise
    # ':=' lines may use labels of both levels: take them out of the blocks
    from .syntax import ParsedModel
    definitions = parsed[1].definitions + parsed[2].definitions
    parsed = {lev: ParsedModel(p.statements, (), p.constraints) for lev, p in parsed.items()}
    from .partable import variable_names
    x_names = {lev: tuple(variable_names(parsed[lev].statements).ov_x) for lev in (1, 2)}
    if not fixed_x:
        parsed = {lev: _free_x_covariances(parsed[lev]) for lev in (1, 2)}
    pts = {}
    for lev in (1, 2):
        try:
            pts[lev] = build_partable(parsed[lev], meanstructure=True, fixed_x=fixed_x,
                                      std_lv=std_lv)
        except ModelSyntaxError:
            raise
        except ModelSpecificationError as e:
            raise type(e)(f"In the 'level: {lev}' block: "
                          f"{str(e).replace(' (group 1)', '')}") from None
    pt1, pt2 = pts[1], pts[2]
    ov1, ov2 = list(pt1.names.ov), list(pt2.names.ov)
    set1, set2 = set(ov1), set(ov2)
    y = ov1
    z = [v for v in ov2 if v not in set1]
    within_only = np.array([v not in set2 for v in y], dtype=bool)
    # level-1 intercepts of split variables are fixed to zero (means live at level 2)
    fix = [r for r, (l, o, x) in enumerate(zip(pt1.c("lhs"), pt1.c("op"), pt1.c("exo")))
           if o == "~1" and l in set2 and l in set1]
    pt1 = _fix_rows(pt1, fix, 0.0)

    x_exo = tuple(x_names[1]) + tuple(x_names[2]) if fixed_x else ()
    Y, Z, codes, ids, csize, warn_list, dropped = _prepare_data(data, cluster, y, z, missing,
                                                                x_exo)
    warn_list += _variance_checks(Y, Z, codes, ids, csize, y, z, within_only)
    fiml = missing == "ml" and (np.isnan(Y).any() or np.isnan(Z).any())
    if fiml:
        from .twolevel_h1 import h1_cholesky, h1_start_missing
        from .twolevel_missing import missing_cluster_stats
        Zc = _cluster_values(Z, codes, len(ids), z, ids)
        warn_list += _empty_cluster_check(Y, Zc, codes, ids, y, z, within_only)
        cs = missing_cluster_stats(Y, Zc, codes, y, z, ids, within_only)
        sw0, sb0, mu0 = h1_start_missing(cs, within_only)
        h1, h1_ok, h1_msg = h1_cholesky(cs, within_only, sw0, sb0, mu0)
        if not h1_ok:
            m = (f"The saturated (h1) model with missing values did not converge ({h1_msg}); "
                 f"the chi-square and fit indices may be off.")
            warnings.warn(m, ConvergenceWarning, stacklevel=3)
            warn_list.append(m)
    else:
        cs = cluster_stats(Y, Z, codes, y, z, ids)
        warn_list += _between_variance_check(cs, within_only)
        h1 = em_saturated(cs, within_only)
    zero_w = [cs.y[k] for k in np.flatnonzero(np.diag(h1.sigma_w) <= 1e-5)]
    if zero_w:
        msg = (f"H1 estimation resulted in a within covariance matrix with (near) zero "
               f"variances for some of the level-1 variables: {', '.join(zero_w)}.")
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
        warn_list.append(msg)
    if h1_method == "exact" and not fiml:
        h1 = _exact_h1(cs, within_only, h1, warn_list)
    loglik_x = _loglik_x(cs, pt1, pt2, fixed_x)

    mdl = _Model(pt1, pt2, cs, h1)
    from .defined import compile_definitions
    labels_all = set(pt1.c("label")) | set(pt2.c("label"))
    mdl.defs = compile_definitions(definitions, labels_all - {""})
    x_fixed = (pt1.names.ov_x, pt2.names.ov_x) if fixed_x else ((), ())
    ndat = _ndat(ov1, ov2, set2, set(x_fixed[0]), set(x_fixed[1]))
    df = ndat - mdl.npar
    if df < 0:
        raise IdentificationError(
            f"The model is not identified: it has {mdl.npar} free parameters but only {ndat} "
            f"sample moments (df = {df}). Fix or constrain {-df} or more parameters.")
    theta0 = mdl.start()
    if not np.isfinite(mdl.f(theta0)):
        for L in mdl.levels:
            c = L.pt.cols
            for r in range(len(c["op"])):
                if L.gpar[r] >= 0 and c["op"][r] in ("~~", "~") and c["lhs"][r] != c["rhs"][r]:
                    theta0[L.gpar[r]] = 0.0
    theta, F, grad, H, iters, converged, msg = _optimize(mdl, theta0, max_iter)
    pnames = _param_names(mdl)
    vcov = None
    if not converged:
        m = (f"The optimizer did not converge after {iters} iterations ({msg}); estimates are "
             f"not valid and standard errors are not computed.")
        warnings.warn(m, ConvergenceWarning, stacklevel=3)
        warn_list.append(m)
    else:
        if H is None:
            H = _hessian(mdl, theta)
        info = 0.5 * H      # observed information of logL (Hessian of -logL)
        _check_identified(info, pnames)
        vcov = np.linalg.inv(info)
        if se_kind == "robust" or estimator == "MLR":
            Sc = _cluster_scores(mdl, theta, Y, codes)
            B0 = Sc.T @ Sc
            trace_h0 = float(np.trace(vcov @ B0))
            if se_kind == "robust":
                vcov = vcov @ B0 @ vcov
    logl = -0.5 * (F + constant(cs)) - loglik_x
    h1_logl = h1.logl - loglik_x

    # ---- estimates table
    frames = []
    for lev, L in enumerate(mdl.levels):
        vals = mdl.row_values(theta, lev)
        pt = L.pt
        gp = L.gpar
        se = np.full(len(vals), np.nan)
        if vcov is not None:
            free = gp >= 0
            se[free] = np.sqrt(np.clip(np.diag(vcov)[gp[free]], 0, None))
        se[gp < 0] = np.nan
        std = _std_level(mdl, theta, lev)
        z_, p_, lo, hi = inference(vals, se)
        frames.append(pd.DataFrame(dict(
            lhs=pt.c("lhs"), op=pt.c("op"), rhs=pt.c("rhs"), level=lev + 1, label=pt.c("label"),
            est=vals, se=se, z=z_, p_value=p_, ci_lower=lo, ci_upper=hi, std_all=std,
            free=gp >= 0)))
    if mdl.defs:
        dvals = _defined_values(mdl, theta, mdl.defs).real
        dse = np.full(len(dvals), np.nan)
        if vcov is not None:
            J = _complex_jacobian(lambda x: _defined_values(mdl, x, mdl.defs), theta)
            dse = np.sqrt(np.clip(np.diag(J @ vcov @ J.T), 0, None))
        z_, p_, lo, hi = inference(dvals, dse)
        frames.append(pd.DataFrame(dict(
            lhs=[d.name for d in mdl.defs], op=":=", rhs=[d.expression for d in mdl.defs],
            level=0, label=[d.name for d in mdl.defs], est=dvals, se=dse, z=z_, p_value=p_,
            ci_lower=lo, ci_upper=hi, std_all=_std_all(mdl, theta)[-len(mdl.defs):],
            free=False)))
    tab = pd.concat(frames, ignore_index=True)
    warn_list += _heywood(tab)

    # ---- fit measures
    sw, sb, mu, _ = mdl.moments(theta)
    fm = {"npar": float(mdl.npar)}
    if np.isfinite(F):
        chisq = max(2.0 * (h1_logl - logl), 0.0) if df > 0 else 2.0 * (h1_logl - logl)
        xb, dfb, bmod, btheta = _baseline(pt1, pt2, cs, h1, set1, set2, x_names, h1_logl,
                                          loglik_x)
        fm.update(_fit_indices(chisq, df, xb, dfb, cs.nobs))
        # lavaan's fmin: -2 logL (covariates included, no constant) / (2 N)
        fm["fmin"] = F / (2.0 * cs.nobs)
        fm.update(logl=logl, unrestricted_logl=h1_logl,
                  **information_criteria(logl, mdl.npar, cs.nobs), ntotal=float(cs.nobs),
                  nobs=float(cs.nobs),
                  nclusters=float(cs.nclusters))
        fm.update(_srmr(mdl, h1, sw, sb, mu))
        if estimator == "MLR" and vcov is not None and df > 0:
            from .fit_measures import robust_fit_measures
            from .twolevel_robust import h1_trace, model_trace, trace_parts
            xset = (set(x_names[1]) | set(x_names[2])) if fixed_x else set()
            tr_h1, nd_h1 = h1_trace(cs, ov1, ov2, set2, h1, xset, Y, codes)
            rob = trace_parts(tr_h1, nd_h1, trace_h0)
            c_null = (tr_h1 - model_trace(bmod, btheta, Y, codes)) / dfb
            fm.update(robust_fit_measures(fm, rob, c_null, mdl.npar, 1))
    zy = list(cs.z) + list(cs.y)
    L1, L2 = mdl.levels
    ov1_rep = list(L1.prob.rep.ov)
    ov2_rep = list(L2.prob.rep.ov)
    impl_w = {"cov": pd.DataFrame(sw[np.ix_(L1.ypos, L1.ypos)], index=ov1_rep, columns=ov1_rep),
              "mean": pd.Series(_level_means(mdl, theta, 0), index=ov1_rep)}
    impl_b = {"cov": pd.DataFrame(sb[np.ix_(L2.pos, L2.pos)], index=ov2_rep, columns=ov2_rep),
              "mean": pd.Series(_level_means(mdl, theta, 1), index=ov2_rep)}
    h1_w = {"cov": pd.DataFrame(h1.sigma_w, index=list(cs.y), columns=list(cs.y)),
            "mean": pd.Series(h1.mu_w, index=list(cs.y))}
    b_names = [zy[k] for k in range(len(zy)) if not (k >= cs.pz and within_only[k - cs.pz])]
    b_idx = [zy.index(v) for v in b_names]
    h1_b = {"cov": pd.DataFrame(h1.sigma_b[np.ix_(b_idx, b_idx)], index=b_names, columns=b_names),
            "mean": pd.Series(h1.mu_b[b_idx], index=b_names)}
    icc = _icc(h1, cs, within_only)
    vc = None if vcov is None else pd.DataFrame(vcov, index=pnames, columns=pnames)
    ptab = pd.concat([L.pt.table.assign(level=lev + 1, gpar=L.gpar)
                      for lev, L in enumerate(mdl.levels)], ignore_index=True)
    sizes = pd.Series(csize, index=pd.Index(ids, name=cluster), name="size")
    options = dict(estimator=estimator, missing=missing, information="observed", cluster=cluster, fixed_x=fixed_x,
                   se="robust.huber.white" if se_kind == "robust" else "standard",
                   std_lv=std_lv, h1="exact" if fiml else h1_method, h1_iterations=h1.iterations,
                   likelihood="normal")
    return TwoLevelResult(
        model=model, estimates=tab, fit_measures=frozen_mapping(fm), converged=converged,
        iterations=iters, optimizer_message=msg, n_obs=cs.nobs, n_clusters=cs.nclusters,
        average_cluster_size=cs.average_cluster_size, cluster_sizes=sizes,
        implied_within=frozen_mapping(impl_w), implied_between=frozen_mapping(impl_b),
        h1_within=frozen_mapping(h1_w), h1_between=frozen_mapping(h1_b), icc=icc, vcov=vc,
        options=frozen_mapping(options), warnings=tuple(warn_list),
        timing=time.perf_counter() - t0, parameter_table=ptab,
        dropped=frozen_mapping(dropped), _theta=theta, _model=mdl)


# ---------------------------------------------------------------------------- helpers
def estimate(spec: FitSpec) -> TwoLevelResult:
    """The two-level estimator (ML / MLR): :func:`fit_twolevel` with the options of
    ``spec`` (``spec.se``: "standard", "robust" or None for the estimator's default;
    ``fixed_x`` None means True)."""
    return fit_twolevel(spec.model, spec.data, spec.cluster, missing=spec.missing,
                        estimator=spec.estimator,
                        fixed_x=True if spec.fixed_x is None else spec.fixed_x,
                        std_lv=spec.std_lv, h1=spec.h1, se=spec.se, max_iter=spec.max_iter)


def _between_variance_check(cs: ClusterStats, within_only) -> list[str]:
    """lavaan (lav_samplestats_cluster_patterns): split variables whose between-cluster
    sample variance ``sum_j n_j (ybar_j - ybar)^2 / (J - 1)`` is below 1e-4."""
    Yb = cs.cluster_means[:, cs.pz:]
    dev = Yb - cs.mean_total
    sb = (cs.cluster_size[:, None] * dev * dev).sum(axis=0) / (cs.nclusters - 1)
    bad = [cs.y[k] for k in range(cs.py) if not within_only[k] and sb[k] < 1e-4]
    if not bad:
        return []
    msg = (f"(Near) zero variance at the between level for split variable(s): "
           f"{', '.join(bad)}. Consider removing them from the 'level: 2' block.")
    warnings.warn(msg, DataQualityWarning, stacklevel=4)
    return [msg]


def _exact_h1(cs: ClusterStats, within_only, em: H1, warn_list) -> H1:
    """Saturated two-level model at its maximum over PSD within and between matrices
    (Cholesky parametrisation, :func:`.twolevel_h1.h1_cholesky`), started at the EM solution.
    Falls back to the EM solution (with a warning) if it does not converge or ends lower."""
    from .twolevel_h1 import h1_cholesky
    mu = np.concatenate([em.mu_b[:cs.pz], em.mu_w + np.where(within_only, 0.0, em.mu_b[cs.pz:])])
    h1, ok, msg = h1_cholesky(cs, within_only, em.sigma_w, em.sigma_b, mu,
                              iterations0=em.iterations)
    if not ok or h1.logl < em.logl:
        m = (f"The exact saturated (h1) model did not converge ({msg}); the EM solution is "
             f"used.")
        warnings.warn(m, ConvergenceWarning, stacklevel=4)
        warn_list.append(m)
        return em
    return h1


def _free_x_covariances(parsed):
    """fixed.x = FALSE: lavaan still adds the covariances among exogenous covariates (free)."""
    from .partable import variable_names
    from .syntax import ParsedModel, Statement
    x = list(variable_names(parsed.statements).ov_x)
    have = {(st.lhs, st.rhs) for st in parsed.statements if st.op == "~~"}
    extra = [Statement(a, "~~", b, 0) for i, a in enumerate(x) for b in x[i + 1:]
             if (a, b) not in have and (b, a) not in have]
    if not extra:
        return parsed
    return ParsedModel(parsed.statements + tuple(extra), parsed.definitions, parsed.constraints)


def _check_identified(info, names):
    from .information import check_identified
    check_identified(info, names)


def _loglik_x(cs: ClusterStats, pt1, pt2, fixed_x) -> float:
    """lavaan ``YLp$loglik.x``: saturated log-likelihood of the fixed.x covariates that are
    not split: level-1-only covariates on the N rows (total covariance, divisor N) and
    cluster-level covariates on the J cluster means. Covariates named at both levels are
    not included (lavaan's ``Lp$ov.x.idx``)."""
    if not fixed_x:
        return 0.0

    def ll(n, S):
        p = S.shape[0]
        return -n / 2 * (p * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + p)

    out = 0.0
    set1, set2 = set(pt1.names.ov), set(pt2.names.ov)
    x1 = [cs.y.index(v) for v in pt1.names.ov_x if v not in set2]
    if x1:
        out += ll(cs.nobs, cs.S_total[np.ix_(x1, x1)])
    x2 = [cs.z.index(v) for v in pt2.names.ov_x if v not in set1]
    if x2:
        out += ll(cs.nclusters, cs.cov_z[np.ix_(x2, x2)])
    return out


def _ndat(ov1, ov2, set2, x1, x2) -> int:
    """lavaan ``lav_partable_ndat`` for two levels; ``x1``/``x2`` the fixed.x covariates."""
    p1, p2 = len(ov1), len(ov2)
    nd1 = p1 * (p1 + 1) // 2 + sum(1 for v in ov1 if v not in set2 and v not in x1)
    nd1 -= len(x1) * (len(x1) + 1) // 2
    nd2 = p2 * (p2 + 1) // 2 + p2 - len(x2) * (len(x2) + 1) // 2 - len(x2)
    return nd1 + nd2


def _heywood(tab: pd.DataFrame) -> list[str]:
    """Improper solutions: negative variances and (residual) correlations beyond +-1,
    named with the variable(s) and the level."""
    msgs = []
    lvl = {1: "level 1 (within)", 2: "level 2 (between)"}
    cov = tab[(tab["op"] == "~~") & tab["level"].isin([1, 2])]
    sel = (cov["lhs"] == cov["rhs"]) & cov["free"] & (cov["est"] < 0)
    for _, r in cov[sel].iterrows():
        msg = (f"Heywood case: the variance of {r['lhs']!r} at {lvl[int(r['level'])]} is "
               f"negative ({r['est']:.4g}); the solution is improper. Constrain it (e.g. fix "
               f"it to 0 or a small positive value) or simplify that level's model.")
        warnings.warn(msg, HeywoodCaseWarning, stacklevel=4)
        msgs.append(msg)
    var = {(r.lhs, int(r.level)): r.est for r in cov[cov["lhs"] == cov["rhs"]].itertuples()}
    for r in cov[cov["lhs"] != cov["rhs"]].itertuples():
        va, vb = var.get((r.lhs, int(r.level))), var.get((r.rhs, int(r.level)))
        if va is None or vb is None or va <= 0 or vb <= 0 or not r.free:
            continue
        c = r.est / np.sqrt(va * vb)
        if abs(c) > 1:
            msg = (f"Improper solution: the (residual) correlation of {r.lhs!r} and {r.rhs!r} at "
                   f"{lvl[int(r.level)]} is {c:.4g}, beyond +-1.")
            warnings.warn(msg, HeywoodCaseWarning, stacklevel=4)
            msgs.append(msg)
    return msgs


def _baseline(pt1, pt2, cs, h1, set1, set2, x_names, h1_logl, loglik_x):
    """Independence model at both levels (lavaan baseline for multilevel data).

    The covariates' moments stay saturated (fixed at their h1 values, which are their
    maximum likelihood estimates) also with ``fixed_x=False``, as lavaan's baseline; its df
    then excludes them in both cases.
    """
    x1, x2 = tuple(x_names[1]), tuple(x_names[2])
    ov1 = tuple(v for v in pt1.names.ov if v not in x1) + x1
    ov2 = tuple(v for v in pt2.names.ov if v not in x2) + x2
    b1 = _baseline_table(ov1, x1, 1, set2)
    b2 = _baseline_table(ov2, x2, 2, set1)
    bm = _Model(b1, b2, cs, h1)
    theta, F = _optimize_light(bm)
    logl_b = -0.5 * (F + constant(cs)) - loglik_x
    dfb = _ndat(ov1, ov2, set2, x1, x2) - bm.npar
    return 2.0 * (h1_logl - logl_b), dfb, bm, theta


def _fit_indices(X2, df, Xb, dfb, N) -> dict:
    out = dict(chisq=X2, df=float(df), pvalue=float(1.0 - stats.chi2.cdf(X2, df)) if df > 0 else np.nan,
               baseline_chisq=Xb, baseline_df=float(dfb),
               baseline_pvalue=float(1.0 - stats.chi2.cdf(Xb, dfb)) if dfb > 0 else np.nan)
    out.update(incremental_indices(X2, df, Xb, dfb))
    r = rmsea_measures(X2, df, N)
    out["rmsea"] = r.pop("rmsea")
    out.update(rmsea_ci_level=0.90, rmsea_close_h0=0.05, rmsea_notclose_h0=0.08)
    out.update(r)
    return out


def _srmr(mdl: _Model, h1: H1, sw, sb, mu) -> dict:
    """lavaan ``lav_fit_srmr_twolevel``: sqrt(mean of squared vech(correlation residuals))
    per level; ``srmr = srmr_within + srmr_between``."""
    L1, L2 = mdl.levels
    Sw = h1.sigma_w[np.ix_(L1.ypos, L1.ypos)]
    Mw = sw[np.ix_(L1.ypos, L1.ypos)]
    Sb = h1.sigma_b[np.ix_(L2.pos, L2.pos)]
    Mb = sb[np.ix_(L2.pos, L2.pos)]
    return srmr_twolevel(Sw, Mw, Sb, Mb)


def _icc(h1: H1, cs: ClusterStats, within_only) -> pd.Series:
    """lavaan ``lavInspect(fit, "icc")``: between / (within + between) variance of the
    level-1 variables in the h1 (saturated) moments."""
    vw = np.diag(h1.sigma_w)
    vb = np.diag(h1.sigma_b)[cs.pz:]
    return pd.Series(vb / (vw + vb), index=list(cs.y), name="icc")


def lrt_twolevel(*fits: TwoLevelResult, names=None) -> pd.DataFrame:
    """Likelihood-ratio test of nested two-level models (lavaan ``lavTestLRT``).

    Models are sorted by df (ascending). Columns ``df, aic, bic, chisq, chisq_diff,
    rmsea_diff, df_diff, p_value_diff``; the first row has NaN differences.
    ``rmsea_diff = sqrt(max(0, (chisq_diff - df_diff) / (N df_diff)))``.

    Notes
    -----
    R: ``lavTestLRT(fit1, fit2)`` (standard test, ``method = "default"``).
    """
    if len(fits) < 2:
        raise ModelSpecificationError("lrt_twolevel() needs at least two fitted models.")
    if names is None:
        names = [f"model{k + 1}" for k in range(len(fits))]
    if len(names) != len(fits):
        raise ModelSpecificationError(f"'names' has {len(names)} entries for {len(fits)} models.")
    n_obs = {f.n_obs for f in fits}
    if len(n_obs) > 1:
        raise ModelSpecificationError(
            f"The models were fitted to different numbers of observations ({sorted(n_obs)}); "
            f"they are not nested models of the same data.")
    rows = sorted(zip(names, fits), key=lambda t: t[1].fit_measures["df"])
    out = []
    prev = None
    for name, f in rows:
        fm = f.fit_measures
        r = dict(model=name, df=fm["df"], aic=fm["aic"], bic=fm["bic"], chisq=fm["chisq"],
                 chisq_diff=np.nan, rmsea_diff=np.nan, df_diff=np.nan, p_value_diff=np.nan)
        if prev is not None:
            dchi = fm["chisq"] - prev["chisq"]
            ddf = fm["df"] - prev["df"]
            r.update(chisq_diff=dchi, df_diff=ddf)
            if ddf > 0:
                r["rmsea_diff"] = rmsea_diff(dchi, ddf, f.n_obs)
                r["p_value_diff"] = float(stats.chi2.sf(dchi, ddf))  # lavTestLRT: lower.tail = FALSE
        out.append(r)
        prev = fm
    return pd.DataFrame(out).set_index("model")
