"""The ML family of estimators: ML, MLR, MLM, MLMV, FIML and ULS/GLS/WLS.

:func:`estimate` takes one :class:`~.estimator.FitSpec` and runs the steps of lavaan's
``sem()`` for continuous indicators: parse -> parameter table -> matrices -> estimates
(Fisher scoring, or least squares for ULS/GLS/WLS) -> standard errors (expected/observed
information, sandwich, bootstrap) -> fit measures (:mod:`.fit_measures`) -> the immutable
:class:`~.results.SEMResult`. :func:`psychometrics.sem.fit` dispatches here for
``estimator`` "ML", "MLR", "MLM", "MLMV", "ULS", "GLS" and "WLS" (see ``ESTIMATORS`` in
:mod:`.api`); the ordinal estimators call :func:`estimate` for their starting values.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from ..exceptions import (ConvergenceWarning, HeywoodCaseWarning, IdentificationError,
                          ModelSpecificationError, ModelSpecificationWarning,
                          NotPositiveDefiniteWarning)
from .constraints import active_jacobian, compile_constraints, constrained_vcov, \
    optimize_constrained
from .defined import compile_definitions, evaluate_definitions
from .estimate import make_problem, optimize, optimize_checked, row_values, start_values
from .estimator import FitSpec
from .fit_measures import (FitInputs, agfi, compute_fit_measures, gfi, pgfi,
                           robust_fit_measures, robust_indices)
from .information import check_identified, information, vcov_from_information
from .matrices import build_representation, fill, implied
from .partable import build_partable, freeze_exogenous, variable_names
from .robust import fiml_corrected, robust_parts
from .results import SEMResult, frozen_mapping, inference
from .samplestats import from_data, from_moments
from .standardize import standardized_values
from .syntax import parse_model

__all__ = ["estimate", "param_names", "growth_factors"]


def _validate_options(estimator, information_kind, max_iter):
    if not isinstance(estimator, str) or estimator.upper() not in (
            "ML", "MLR", "MLM", "MLMV", "ULS", "GLS", "WLS"):
        raise ModelSpecificationError(
            f"The 'estimator' argument must be one of 'ML', 'MLR', 'MLM', 'MLMV', 'ULS', "
            f"'GLS', 'WLS' (ordinal "
            f"indicators: pass ordered=, then 'WLSMV', 'DWLS', 'ULSMV' or 'ULS'); got "
            f"{estimator!r}.")
    if information_kind not in (None, "expected", "observed"):
        raise ModelSpecificationError(
            f"The 'information' argument must be 'expected' or 'observed', got {information_kind!r}.")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ModelSpecificationError(
            f"The 'max_iter' argument must be a positive integer, got {max_iter!r}.")


def param_names(pt, npar: int, ngroups: int) -> list[str]:
    names = [""] * npar
    for lhs, op, rhs, g, k in zip(pt.c("lhs"), pt.c("op"), pt.c("rhs"), pt.c("group"),
                                  pt.c("par")):
        if k >= 0 and not names[k]:
            nm = f"{lhs}{op}{rhs}"
            if ngroups > 1:
                nm += f".g{g}"
            names[k] = nm
    return names


def estimate(spec: FitSpec) -> SEMResult:
    """Fit ``spec`` with an estimator of the ML family (see :func:`psychometrics.sem.fit`
    for the options); returns a :class:`~.results.SEMResult`."""
    t0 = time.perf_counter()
    spec = _resolved(spec)
    model, data, group = spec.model, spec.data, spec.group
    group_equal, group_partial, std_lv = spec.group_equal, spec.group_partial, spec.std_lv
    meanstructure, information, fixed_x = spec.meanstructure, spec.information, spec.fixed_x
    estimator, se_type, test, max_iter = spec.estimator, spec.se, spec.test, spec.max_iter
    wishart, fiml = spec.likelihood == "wishart", spec.missing != "listwise"
    ls_est = estimator in ("ULS", "GLS", "WLS")
    orthogonal, int_ov_free, int_lv_free = spec.orthogonal, spec.int_ov_free, spec.int_lv_free
    bootstrap, seed, n_jobs, sample_mean = spec.bootstrap, spec.seed, spec.n_jobs, spec.sample_mean
    parsed = parse_model(model)
    pre_names = variable_names(parsed.statements)
    ov = list(pre_names.ov)
    ss = _sample_stats(spec, pre_names, ls_est)
    ngroups = ss.ngroups
    has_int = any(s.op == "~1" for s in parsed.statements)
    if meanstructure is None:
        meanstructure = ngroups > 1 or has_int or fiml
    if fiml and not meanstructure:
        raise ModelSpecificationError("missing='ml' needs a mean structure; do not pass "
                                      "meanstructure=False.")
    if meanstructure and data is None and sample_mean is None:
        raise ModelSpecificationError("A mean structure needs 'sample_mean' when fitting from "
                                      "'sample_cov'.")
    if group_equal and ngroups < 2:
        raise ModelSpecificationError("'group_equal' needs a 'group' column with at least two groups.")
    pt = build_partable(parsed, ngroups=ngroups, std_lv=std_lv, meanstructure=meanstructure,
                        fixed_x=fixed_x, group_equal=group_equal, group_partial=group_partial,
                        group_labels=ss.group_labels, orthogonal=orthogonal,
                        int_ov_free=int_ov_free, int_lv_free=int_lv_free)

    gmsg = _growth_without_means(parsed, pt, meanstructure)
    if gmsg:
        warnings.warn(gmsg, ModelSpecificationWarning, stacklevel=4)

    rep = build_representation(pt)
    prob = make_problem(pt, rep, ss)
    # degrees of freedom (fixed.x moments are not modelled)
    p = len(ov)
    nx = len(pt.names.ov_x) if fixed_x else 0
    ndat = ngroups * (p * (p + 1) // 2 + (p if meanstructure else 0))
    ndat -= ngroups * (nx * (nx + 1) // 2 + (nx if meanstructure else 0))
    defs = compile_definitions(pt.definitions, set(pt.c("label")) - {""})
    cs = compile_constraints(pt, defs)
    n_eq = cs.n_eq if cs is not None else 0
    df = ndat - pt.npar + n_eq
    if df < 0:
        raise IdentificationError(
            f"The model is not identified: it has {pt.npar} free parameters"
            f"{f' and {n_eq} equality constraints' if n_eq else ''} but only {ndat} "
            f"sample moments (df = {df}). Fix or constrain {-df} or more parameters.")
    if cs is not None and (estimator in ("MLM", "MLMV") or test == "bollen.stine"):
        raise ModelSpecificationError(
            "General constraints (expressions, '<', '>') are supported with estimator='ML' "
            "or 'MLR' and se='standard' or 'bootstrap' (not MLM/MLMV or the Bollen-Stine "
            "test).")
    warn_list: list[str] = []

    if ls_est and cs is not None:
        raise ModelSpecificationError(
            f"estimator={estimator!r} is not available with general constraints yet; use "
            f"estimator='ML' or 'MLR'.")
    if ls_est:
        from .ls import optimize_ls
        opt = optimize_ls(prob, start_values(prob), estimator, max_iter=max_iter)
    elif cs is None:
        opt = optimize_checked(prob, max_iter=max_iter)
    else:
        opt = optimize_constrained(prob, start_values(prob), cs, max_iter=max_iter)
        H_act, H_eq = active_jacobian(prob, cs, opt.theta)
        # lavaan lav_test: df = ndat - npar + rank of the equality-constraint Jacobian
        df = ndat - pt.npar + (int(np.linalg.matrix_rank(H_eq)) if H_eq.shape[0] else 0)
    theta = opt.theta
    pnames = param_names(pt, pt.npar, ngroups)
    vcov = rob = sb = None
    if not opt.converged and cs is None and not ls_est and se_type != "none":
        # a model that is not identified wanders along a ridge and never converges: say
        # which parameters are not identified (lavaan: the information matrix cannot be
        # inverted) instead of only "did not converge"
        # (checked at the start values, a generic point: singular there and at the end
        # means the model itself is not identified, not just a hard optimum)
        try:
            check_identified(_info(prob, theta, "expected"), pnames)
        except IdentificationError:
            check_identified(_info(prob, start_values(prob), "expected"), pnames)
    if not opt.converged:
        msg = (f"The optimizer did not converge after {opt.iterations} iterations "
               f"({opt.message}); estimates are not valid and standard errors are not computed.")
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        warn_list.append(msg)
    elif se_type != "none":
        info = opt.information if information == "expected" else _info(prob, theta, information)
        if ls_est:
            from .ls import ls_vcov
            check_identified(info, pnames)
            vcov = ls_vcov(info, ss.ntotal - ngroups)
        elif cs is None:
            check_identified(info, pnames)
            vcov = vcov_from_information(info, ss.ntotal - (ngroups if wishart else 0))
        else:
            vcov = constrained_vcov(info, H_act, ss.ntotal)
        if estimator == "MLR":
            # under general constraints: lavaan's augmented inverse in the sandwich and
            # the trace (lav_model_nvcov_robust_sandwich)
            rob = robust_parts(prob, theta, info, df,
                               A0inv=None if cs is None else vcov * ss.ntotal)
            vcov = rob.vcov
        elif estimator in ("MLM", "MLMV"):
            from .robust_sb import sb_parts
            vcov, sb_t1, sb_t2, _ = sb_parts(prob, theta, df)
            sb = (sb_t1, sb_t2)
    boot = boot_bs = None
    if opt.converged and (se_type == "bootstrap" or test == "bollen.stine"):
        from .bootstrap import run_bootstrap
        if data is None:
            raise ModelSpecificationError(
                "se='bootstrap' and test='bollen.stine' need raw 'data', not 'sample_cov'.")
        if se_type == "bootstrap":
            boot = run_bootstrap(prob, theta, defs, n_draws=bootstrap, seed=seed,
                                 kind="ordinary", n_jobs=n_jobs, max_iter=max_iter,
                                 constraints=cs)
            if boot.n_successful < 2:
                raise ModelSpecificationError(
                    f"Only {boot.n_successful} of {bootstrap} bootstrap draws could be fitted.")
            # lavaan lav_model_vcov: cov(BOOT) * (nboot - 1) / nboot (divisor nboot); the
            # defined parameters use cov(BOOT.def) (divisor nboot - 1), see below
            vcov = np.atleast_2d(np.cov(boot.theta, rowvar=False, ddof=0))
        if test == "bollen.stine":
            boot_bs = run_bootstrap(prob, theta, defs, n_draws=bootstrap, seed=seed,
                                    kind="bollen.stine", n_jobs=n_jobs, max_iter=max_iter)
        for b in (boot, boot_bs):
            if b is not None and b.failed:
                msg = (f"{len(b.failed)} of {b.n_draws} {b.kind} bootstrap draws could not be "
                       f"fitted and were dropped (draws {list(b.failed)[:10]}).")
                warnings.warn(msg, ConvergenceWarning, stacklevel=4)
                warn_list.append(msg)
    values = row_values(prob, theta)
    warn_list += _check_solution(prob, values)

    # ---------------------------------------------------------------- estimates table
    tab, se_reason = _estimates_table(prob, theta, values, vcov, defs, boot, opt, se_type,
                                      spec.boot_ci_type)

    # ---------------------------------------------------------------- moments and fit
    S_d, m_d, Sig_d, mu_d, Sig_l, mu_l = _moments(rep, ss, values, meanstructure, ov)
    fm = _fit_measures(spec, opt, prob, theta, ss, meanstructure, ndat, df, Sig_l, mu_l, rob,
                       vcov, sb, boot_bs)
    chisq_g = tuple(float(2 * n * f) for n, f in zip(ss.nobs, _group_fmin(prob, theta))) \
        if not ls_est else ()
    vc = None if vcov is None else pd.DataFrame(vcov, index=pnames, columns=pnames)
    options = _options_record(spec, pt, opt, meanstructure, boot, boot_bs)
    return SEMResult(
        model=model, estimates=tab, fit_measures=frozen_mapping(fm), converged=opt.converged,
        iterations=opt.iterations, optimizer_message=opt.message, n_obs=ss.nobs,
        group_labels=ss.group_labels, sample_cov=frozen_mapping(S_d), sample_mean=frozen_mapping(m_d),
        implied_cov=frozen_mapping(Sig_d), implied_mean=frozen_mapping(mu_d), vcov=vc,
        options=frozen_mapping(options), warnings=tuple(warn_list), chisq_by_group=chisq_g,
        se_reason=se_reason,
        timing=time.perf_counter() - t0, parameter_table=pt.table.copy(), cases=ss.cases,
        bootstrap=boot, bootstrap_test=boot_bs, _problem=prob,
        _theta=theta, _defs=defs)


def _resolved(spec: FitSpec) -> FitSpec:
    """``spec`` with the options of the ML family checked and lavaan's defaults filled in
    (estimator in upper case, ``missing`` "ml"/"ml.x" for FIML or else "listwise",
    ``information``, ``fixed_x``, ``sample_cov_rescale``, ``se``)."""
    data, estimator, information = spec.data, spec.estimator, spec.information
    missing, fixed_x, sample_cov_rescale = spec.missing, spec.fixed_x, spec.sample_cov_rescale
    se_type, test, wishart = spec.se or "standard", spec.test, spec.likelihood == "wishart"
    _validate_options(estimator, information, spec.max_iter)
    estimator = estimator.upper()
    if missing == "fiml":
        missing = "ml"
    fiml = missing in ("ml", "ml.x") and data is not None
    if information is None:
        information = "observed" if (estimator == "MLR" or fiml) else "expected"
    if estimator in ("MLR", "MLM", "MLMV") and data is None:
        raise ModelSpecificationError(f"estimator={estimator!r} needs raw 'data' (casewise "
                                      f"scores / fourth moments), not 'sample_cov'.")
    if estimator in ("MLM", "MLMV") and fiml:
        raise ModelSpecificationError(
            f"estimator={estimator!r} needs complete data (as lavaan); use missing='listwise' "
            f"or estimator='MLR' with missing='ml'.")
    if wishart and (fiml or estimator == "MLR"):
        raise ModelSpecificationError(
            "likelihood='wishart' is available with estimator='ML' and complete data "
            "(missing='listwise') only.")
    ls_est = estimator in ("ULS", "GLS", "WLS")
    if fixed_x is None:
        fixed_x = not ls_est     # lavaan: fixed.x = FALSE by default for ULS/GLS/WLS
    if ls_est and (fiml or se_type == "bootstrap" or test != "standard" or wishart):
        raise ModelSpecificationError(
            f"estimator={estimator!r} is available with complete data, se='standard' and "
            f"test='standard' only.")
    if estimator == "WLS" and data is None:
        raise ModelSpecificationError("estimator='WLS' needs raw 'data' (fourth moments).")
    if ls_est:
        information = "expected"
    if sample_cov_rescale is None:
        # lavaan: rescale only for the normal likelihood of ML
        sample_cov_rescale = not (wishart or ls_est)
    return replace(spec, estimator=estimator, information=information,
                   missing=missing if fiml else "listwise", fixed_x=fixed_x,
                   sample_cov_rescale=sample_cov_rescale, se=se_type)


def _sample_stats(spec: FitSpec, pre_names, ls_est: bool):
    """Per-group N, means and covariances of the raw data or of the given moments (lavaan
    likelihood = "wishart" and the LS estimators: covariance with divisor N - 1)."""
    data, group, fixed_x, missing = spec.data, spec.group, spec.fixed_x, spec.missing
    sample_cov, sample_nobs, sample_mean = spec.sample_cov, spec.sample_nobs, spec.sample_mean
    sample_cov_rescale, wishart = spec.sample_cov_rescale, spec.likelihood == "wishart"
    ov = list(pre_names.ov)
    if data is not None:
        ss = from_data(data, ov, group, missing=missing,
                       x_vars=pre_names.ov_x if fixed_x else ())
    elif sample_cov is not None:
        if sample_nobs is None:
            raise ModelSpecificationError("'sample_nobs' is required with 'sample_cov'.")
        if group is not None:
            raise ModelSpecificationError("'group' needs raw data; give lists of sample_cov / "
                                          "sample_nobs for several groups instead.")
        ng = len(sample_cov) if isinstance(sample_cov, (list, tuple)) else 1
        ss = from_moments(sample_cov, sample_nobs, ov, sample_mean, sample_cov_rescale,
                          tuple(range(1, ng + 1)) if ng > 1 else ())
    else:
        raise ModelSpecificationError("Give raw 'data' or 'sample_cov' with 'sample_nobs'.")
    if (wishart or ls_est) and data is not None:
        # lavaan likelihood = "wishart" and the LS estimators: covariance with divisor N - 1
        ss = replace(ss, cov=tuple(S * n / (n - 1) for S, n in zip(ss.cov, ss.nobs)),
                      cache={})
    return ss


def _estimates_table(prob, theta, values, vcov, defs, boot, opt, se_type, boot_ci_type):
    """lavaan ``parameterEstimates`` + ``standardizedSolution``: one row per parameter and
    ``:=`` definition; returns the table and why the SEs are NaN ("" when computed)."""
    pt = prob.pt
    par = np.asarray(pt.c("par"))
    free = par >= 0
    est = values.copy()
    se = np.full(len(par), np.nan)
    if vcov is not None:
        se[free] = np.sqrt(np.clip(np.diag(vcov)[par[free]], 0, None))
    cols = {"lhs": list(pt.c("lhs")), "op": list(pt.c("op")), "rhs": list(pt.c("rhs")),
            "group": list(pt.c("group")), "label": list(pt.c("label"))}
    free_col = list(free)
    if defs:
        lab_vals = _label_values(pt.c("label"), values)
        dvals = evaluate_definitions(defs, lab_vals)
        dse = _defined_se(prob, theta, defs, vcov) if vcov is not None else \
            np.full(len(defs), np.nan)
        if boot is not None:
            # lavaan: VCOV of the defined parameters = cov of their bootstrap values
            dse = np.std(boot.defined, axis=0, ddof=1)
        cols["lhs"] += [d.name for d in defs]
        cols["op"] += [":="] * len(defs)
        cols["rhs"] += [d.expression for d in defs]
        cols["group"] += [0] * len(defs)
        cols["label"] += [d.name for d in defs]
        est = np.concatenate([est, [float(np.real(dvals[d.name])) for d in defs]])
        se = np.concatenate([se, dse])
        free_col += [False] * len(defs)
    se_reason = "not requested (se='none')" if se_type == "none" else ""
    if not opt.converged:
        se[:] = np.nan
        se_reason = f"not computed: the model did not converge ({opt.message})"
    z, pv, lo, hi = inference(est, se)
    if boot is not None and opt.converged:
        from .bootstrap import bootstrap_intervals
        lo, hi = bootstrap_intervals(pd.DataFrame({"est": est, "se": se}), par, boot,
                                     boot_ci_type)
    cols.update(est=est, se=se, z=z, p_value=pv, ci_lower=lo, ci_upper=hi,
                std_lv=standardized_values(prob, theta, defs, "std.lv").real,
                std_all=standardized_values(prob, theta, defs, "std.all").real,
                free=np.array(free_col, dtype=bool))
    return pd.DataFrame(cols), se_reason


def _moments(rep, ss, values, meanstructure, ov):
    """Sample and model-implied moments: dicts by group label and lists by group."""
    keys = list(ss.group_labels) if ss.group_labels else [1]
    S_d, m_d, Sig_d, mu_d = {}, {}, {}, {}
    Sig_l, mu_l = [], []
    for g, key in enumerate(keys):
        M = fill(rep, g, values)
        Sigma, mu = implied(M)[:2]
        Sig_l.append(Sigma)
        mu_l.append(mu if meanstructure else ss.mean[g])
        S_d[key] = pd.DataFrame(ss.cov[g], index=ov, columns=ov)
        m_d[key] = pd.Series(ss.mean[g], index=ov)
        Sig_d[key] = pd.DataFrame(Sigma, index=ov, columns=ov)
        mu_d[key] = pd.Series(mu if meanstructure else ss.mean[g], index=ov)
    return S_d, m_d, Sig_d, mu_d, Sig_l, mu_l


def _fit_measures(spec: FitSpec, opt, prob, theta, ss, meanstructure, ndat, df, Sig_l, mu_l,
                  rob, vcov, sb, boot_bs) -> dict:
    """The statistics of the ML family (chi-square with its N, baseline, scaling factors)
    passed to :mod:`.fit_measures`."""
    pt, estimator, fixed_x = prob.pt, spec.estimator, spec.fixed_x
    information, wishart = spec.information, spec.likelihood == "wishart"
    ls_est, ngroups = estimator in ("ULS", "GLS", "WLS"), ss.ngroups
    sb_t1, sb_t2 = sb if sb is not None else (None, None)
    fm = {}
    if opt.converged or np.isfinite(opt.fmin):
        xb, dfb = _baseline(ss, pt, meanstructure, fixed_x, ndat)
        fmin_fit, nobs_fit = opt.fmin, ss.nobs
        if ls_est:
            # lavaan: chisq = sum_g (n_g - 1) F_g for the LS estimators (sample.cov.rescale
            # = FALSE); the baseline likewise, fitted by the same estimator
            from .ls import ls_group_parts
            nobs_fit = tuple(n - 1 for n in ss.nobs)
            parts_ls = ls_group_parts(prob, theta, estimator)
            fmin_fit = float(sum(n * F for n, (F, _) in zip(nobs_fit, parts_ls))
                             / (2 * sum(nobs_fit)))
            xb = _baseline_ls(ss, pt, meanstructure, estimator, fixed_x)
        if wishart:
            # lavaan lav_test: chisq_g = 2 (n_g - 1) fmin_g; the fit measures then use
            # N - G observations
            nobs_fit = tuple(n - 1 for n in ss.nobs)
            fx_g = _group_fmin(prob, theta)
            fmin_fit = float(sum(n * f for n, f in zip(nobs_fit, fx_g)) / sum(nobs_fit))
            xb = _baseline(ss, pt, meanstructure, fixed_x, ndat, nobs=nobs_fit)[0]
        logl = None
        if ss.patterns is not None:
            h1 = float(sum(ss.h1_loglik))
            logl = (h1 - ss.ntotal * opt.fmin, h1)
        fm = compute_fit_measures(FitInputs(
            fmin=fmin_fit, npar=ndat - df, nobs=nobs_fit, sample_cov=ss.cov, sample_mean=ss.mean,
            implied_cov=Sig_l, implied_mean=mu_l, meanstructure=meanstructure,
            baseline_chisq=xb, baseline_df=dfb, df=df, x_index=prob.x_idx, logl=logl,
            patterns=ss.patterns, pairwise=ss.pairwise))
        if wishart:
            # the log-likelihood family and the RMR use all N observations (lavaan)
            fm_n = compute_fit_measures(FitInputs(
                fmin=opt.fmin, npar=ndat - df, nobs=ss.nobs, sample_cov=ss.cov,
                sample_mean=ss.mean, implied_cov=Sig_l, implied_mean=mu_l,
                meanstructure=meanstructure, baseline_chisq=xb, baseline_df=dfb, df=df,
                x_index=prob.x_idx))
            for k in ("fmin", "logl", "unrestricted_logl", "aic", "bic", "bic2", "ntotal",
                      "rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean",
                      "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean"):
                if k in fm_n:
                    fm[k] = fm_n[k]
            fm["fmin"] = float(opt.fmin)
        if ls_est:
            # lavaan reports no likelihood-based measures for the LS estimators
            for k in ("logl", "unrestricted_logl", "aic", "bic", "bic2", "ntotal"):
                fm.pop(k, None)
            fm["fmin"] = float(fm["chisq"] / (2 * ss.ntotal))
            if estimator == "ULS":
                # lavaan: the ULS statistic has no chi-square distribution; no p-values
                fm["pvalue"] = fm["baseline_pvalue"] = float("nan")
            w = np.array(ss.nobs, dtype=float) / ss.ntotal
            g = float(sum(wg * gfi(F, sVs) for wg, (F, sVs) in zip(w, parts_ls)))
            nel = ndat + (ngroups * len(pt.names.ov_x) * (len(pt.names.ov_x) + 1) // 2
                          if fixed_x else 0)
            fm["gfi"] = g
            fm["agfi"] = agfi(g, nel, df)
            fm["pgfi"] = pgfi(g, nel, df)
        if estimator == "MLR" and rob is not None:
            bprob, bopt, bA0 = _baseline_fit(ss, pt, meanstructure, fixed_x, information)
            rb = robust_parts(bprob, bopt.theta, bA0, dfb, h1=(rob.trace_h1, rob.h1_ndat))
            cb = rb.trace_ugamma / dfb
            # lavaan divides by nx.free: free rows before equality constraints
            nx_free = int(np.sum(np.asarray(pt.c("par")) >= 0))
            fm.update(robust_fit_measures(fm, rob, cb, nx_free, ngroups))
        if estimator in ("MLM", "MLMV") and opt.converged and vcov is not None and df > 0:
            fm.update(_sb_fit_measures(fm, estimator, sb_t1, sb_t2, vcov, ss, pt,
                                       meanstructure, fixed_x, dfb, ngroups))
        if ss.patterns is not None and opt.converged and df > 0:
            # FIML: robust CFI/RMSEA from lavaan's corrected statistics
            # (lav_fit_fiml_corrected; V6 for ML, V3 for MLR)
            if estimator != "MLR":
                bprob, bopt, bA0 = _baseline_fit(ss, pt, meanstructure, fixed_x, "expected")
            A0 = None  # recomputed from the saturated model's information (lavaan)
            XX3, c3, XX3b, c3b = fiml_corrected(prob, theta, A0, df, bprob, bopt.theta, bA0, dfb,
                                                version="V3" if estimator == "MLR" else "V6",
                                                information=information)
            fm.update(robust_indices(XX3, df, XX3b, dfb, c3, c3b, float(ss.ntotal), ngroups))
    if boot_bs is not None and "chisq" in fm:
        # lavaan lav_test: share of bootstrap chi-squares larger than the observed one
        fm["bollen_stine_pvalue"] = float(np.sum(boot_bs.chisq > fm["chisq"]) /
                                          max(boot_bs.n_successful, 1))
        fm["bootstrap_successful"] = float(boot_bs.n_successful)
    return fm


def _options_record(spec: FitSpec, pt, opt, meanstructure, boot, boot_bs) -> dict:
    """The options used, lavaan's names (``lavInspect(fit, "options")``)."""
    estimator, se_type, test = spec.estimator, spec.se, spec.test
    options = dict(estimator=estimator, information=spec.information, std_lv=spec.std_lv,
                   orthogonal=spec.orthogonal, missing=spec.missing,
                   meanstructure=meanstructure, fixed_x=spec.fixed_x, group=spec.group,
                   group_equal=tuple(pt.options["group_equal"]),
                   group_partial=tuple(spec.group_partial or ()), likelihood=spec.likelihood,
                   se=("none" if (not opt.converged or se_type == "none") else
                       "bootstrap" if se_type == "bootstrap" else
                       "robust.huber.white" if estimator == "MLR" else
                       "robust.sem" if estimator in ("MLM", "MLMV") else "standard"),
                   test=({"MLR": "yuan.bentler.mplus", "MLM": "satorra.bentler",
                          "MLMV": "scaled.shifted"}.get(estimator, "standard"))
                   + (", bollen.stine" if test == "bollen.stine" else ""),
                   bootstrap=spec.bootstrap if (boot or boot_bs) else None,
                   seed=spec.seed if (boot or boot_bs) else None,
                   boot_ci_type=spec.boot_ci_type if boot else None,
                   int_ov_free=spec.int_ov_free, int_lv_free=spec.int_lv_free)
    return options


def growth_factors(parsed) -> list[str]:
    """Latent variables whose loadings are all fixed numbers on observed indicators, at
    least one of them with varying values (a slope) or two such factors (intercept +
    slope): the signature of a latent growth model."""
    lds: dict[str, list] = {}
    for s in parsed.statements:
        if s.op == "=~":
            fx = s.modifier.fixed
            val = None if (fx is None or any(v is None for v in fx)) else fx
            lds.setdefault(s.lhs, []).append(val)
    allfixed = [lv for lv, v in lds.items() if len(v) >= 2 and all(x is not None for x in v)]
    if not allfixed:
        return []
    varying = [lv for lv in allfixed if len({x for v in lds[lv] for x in v}) > 1]
    return allfixed if (varying and len(allfixed) >= 2) else []


def _growth_without_means(parsed, pt, meanstructure) -> str:
    """A warning text when growth syntax is fitted without the growth mean structure."""
    gf = growth_factors(parsed)
    if not gf or (meanstructure and pt.options.get("int_lv_free")):
        return ""
    user_means = {s.lhs for s in parsed.statements if s.op == "~1"}
    if any(f in user_means for f in gf):
        return ""
    what = ("without a mean structure" if not meanstructure else
            "with the latent means fixed to 0 and free observed intercepts")
    return (f"The model looks like a latent growth model (factors {', '.join(map(repr, gf))} "
            f"have all loadings fixed) but is fitted {what}: the means of the growth factors "
            f"(average starting level and rate of change) are not estimated. Use "
            f"sem.growth(model, data), lavaan's growth(): mean structure, observed intercepts "
            f"fixed to 0 and latent means free.")


def _sb_fit_measures(fm, estimator, t1, t2, vcov, ss, pt, meanstructure, fixed_x, dfb, G):
    """Scaled and robust fit measures of MLM (Satorra-Bentler) and MLMV (scaled-shifted)."""
    from .fit_measures import (cfi, ifi, nfi, pnfi, rfi, rmsea_ci, rmsea_measures,
                               rmsea_pvalues, rni, tli)
    from .robust_sb import as_robust_parts, sb_trace
    from scipy import special
    bprob, bopt, _ = _baseline_fit(ss, pt, meanstructure, fixed_x, None)
    bt1, bt2 = sb_trace(bprob, bopt.theta, dfb)
    out = robust_fit_measures(fm, as_robust_parts(vcov, t1), bt1 / dfb, 0, G)
    out.pop("scaling_factor_h1", None)
    out.pop("scaling_factor_h0", None)
    if estimator == "MLMV":
        X2, df = fm["chisq"], fm["df"]
        Xb = fm["baseline_chisq"]
        N = fm["ntotal"]
        a = np.sqrt(df / t2)
        ab = np.sqrt(dfb / bt2)
        Xs = a * X2 + (df - a * t1)
        Xbs = ab * Xb + (dfb - ab * bt1)
        out.update(chisq_scaled=Xs, pvalue_scaled=float(special.chdtrc(df, Xs)),
                   chisq_scaling_factor=1 / a, chisq_shift_parameters=df - a * t1,
                   baseline_chisq_scaled=Xbs,
                   baseline_pvalue_scaled=float(special.chdtrc(dfb, Xbs)),
                   baseline_chisq_scaling_factor=1 / ab)
        out["cfi_scaled"] = cfi(Xs, df, Xbs, dfb)
        out["tli_scaled"] = out["nnfi_scaled"] = tli(Xs, df, Xbs, dfb)
        out["rfi_scaled"] = rfi(Xs, df, Xbs, dfb)
        out["nfi_scaled"] = nfi(Xs, df, Xbs, dfb)
        out["pnfi_scaled"] = pnfi(Xs, df, Xbs, dfb)
        out["ifi_scaled"] = ifi(Xs, df, Xbs, dfb)
        out["rni_scaled"] = rni(Xs, df, Xbs, dfb)
        r = rmsea_measures(Xs, df, N, G)
        out["rmsea_scaled"] = r["rmsea"]
        out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = r["rmsea_ci_lower"], \
            r["rmsea_ci_upper"]
        out["rmsea_pvalue_scaled"] = r["rmsea_pvalue"]
        out["rmsea_notclose_pvalue_scaled"] = r["rmsea_notclose_pvalue"]
        # robust RMSEA interval and p-values: from the scaled-shifted statistic with
        # c.hat = 1/a (lavaan lav_fit_rmsea_lavobject, "scaled.shifted")
        ch = 1 / a
        lo, hi = rmsea_ci(Xs, df, N, G, c_hat=ch)
        out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = lo, hi
        out["rmsea_pvalue_robust"], out["rmsea_notclose_pvalue_robust"] = \
            rmsea_pvalues(Xs, df, N, G, c_hat=ch)
    return out


def _info(prob, theta, kind):
    return information(prob, theta, kind)


def _label_values(labels, values):
    out = {}
    for lbl, v in zip(labels, values):
        if lbl and lbl not in out:
            out[lbl] = v
    return out


def _defined_se(prob, theta, defs, vcov):
    labels = prob.pt.c("label")
    n = len(theta)
    J = np.zeros((len(defs), n))
    h = 1e-20
    for j in range(n):
        x = theta.astype(complex)
        x[j] += 1j * h
        vals = evaluate_definitions(defs, _label_values(labels, row_values(prob, x)))
        J[:, j] = [np.imag(vals[d.name]) / h for d in defs]
    V = J @ vcov @ J.T
    return np.sqrt(np.clip(np.diag(V), 0, None))


def _group_fmin(prob, theta):
    values = row_values(prob, theta)
    out = []
    for g in range(len(prob.rep.groups)):
        Sigma, mu = implied(fill(prob.rep, g, values))[:2]
        S = prob.ss.cov[g]
        Si = np.linalg.inv(Sigma)
        F = np.linalg.slogdet(Sigma)[1] + np.sum(S * Si) - prob.logdetS[g] - S.shape[0]
        if prob.meanstructure:
            d = prob.ss.mean[g] - mu
            F += d @ Si @ d
        out.append(0.5 * F)
    return out


def _baseline(ss, pt, meanstructure, fixed_x, ndat, nobs=None):
    """Independence model: chi-square and df.

    As lavaan (``lav_partable_independence``), the covariances among the exogenous
    covariates stay in the baseline model whatever ``fixed_x`` is: fixed at their
    sample values with ``fixed_x=True``, free parameters with ``fixed_x=False``.
    """
    ov = list(ss.ov)
    xnames = set(pt.names.ov_x)
    xs = [k for k, v in enumerate(ov) if v in xnames]
    nox = [k for k, v in enumerate(ov) if v not in xnames]
    nvar_free = len(nox) if fixed_x else len(ov)
    ncov_x = 0 if fixed_x else len(xs) * (len(xs) - 1) // 2
    npar_b = ss.ngroups * (nvar_free * (2 if meanstructure else 1) + ncov_x)
    if ss.patterns is not None:
        if len(xs) > 1:
            _, bopt, _ = _baseline_fit(ss, pt, meanstructure, fixed_x, None)
            chisq = float(2 * ss.ntotal * bopt.fmin)
        else:
            # per variable available-case ML moments; chisq = 2 (logl_h1 - logl_b)
            chisq = float(2 * (sum(ss.h1_loglik) - sum(ss.baseline_loglik)))
        return chisq, ndat - npar_b
    chisq = 0.0
    for g, S in enumerate(ss.cov):
        ld = np.sum(np.log(np.diag(S)[nox]))
        if xs:
            ld += np.linalg.slogdet(S[np.ix_(xs, xs)])[1]
        chisq += (ss.nobs if nobs is None else nobs)[g] * (ld - np.linalg.slogdet(S)[1])
    return chisq, ndat - npar_b


def _baseline_ls(ss, pt, meanstructure, estimator, fixed_x=False):
    """Independence model fitted by the same least-squares estimator: its chi-square.

    As lavaan, the covariances among exogenous covariates stay in it (fixed at their
    sample values with fixed.x, free otherwise)."""
    from .ls import optimize_ls
    xs = [v for v in ss.ov if v in set(pt.names.ov_x)]
    lines = [f"{v} ~~ {v}" for v in ss.ov if v not in xs]
    lines += [f"{a} ~~ {b}" for i, a in enumerate(xs) for b in xs[i:]]
    bpt = build_partable(parse_model("\n".join(lines)), ngroups=ss.ngroups,
                         meanstructure=meanstructure, fixed_x=False)
    if xs and fixed_x:
        bpt = freeze_exogenous(bpt, xs)
    bprob = make_problem(bpt, build_representation(bpt), ss)
    bopt = optimize_ls(bprob, start_values(bprob), estimator)
    from .ls import ls_group_parts
    parts = ls_group_parts(bprob, bopt.theta, estimator)
    return float(sum((n - 1) * F for n, (F, _) in zip(ss.nobs, parts)))


def _baseline_fit(ss, pt, meanstructure, fixed_x, information_kind):
    """Fit the independence (baseline) model; returns (problem, optimum, information)."""
    ov = list(ss.ov)
    xs = [v for v in ov if v in set(pt.names.ov_x)]
    lines = [f"{v} ~~ {v}" for v in ov if v not in xs]
    lines += [f"{a} ~~ {b}" for i, a in enumerate(xs) for b in xs[i:]]
    parsed = parse_model("\n".join(lines))
    bpt = build_partable(parsed, ngroups=ss.ngroups, meanstructure=meanstructure, fixed_x=False)
    if xs and fixed_x:
        bpt = freeze_exogenous(bpt, xs)
    brep = build_representation(bpt)
    ss_b = ss
    if xs and fixed_x and ss.pairwise is not None:
        # lavaan fixes the covariates of the FIML baseline at the available-case
        # (pairwise) moments (lavsamplestats@cov), not at the EM ones (matters for ml.x)
        from dataclasses import replace
        ss_b = replace(ss, cov=tuple(pw[0] for pw in ss.pairwise),
                       mean=tuple(pw[1] for pw in ss.pairwise))
    bprob = make_problem(bpt, brep, ss_b)
    bopt = optimize(bprob, start_values(bprob))
    if information_kind is None:
        A0 = None
    elif ss.patterns is None or information_kind == "expected":
        # complete data: for the independence model the observed information equals the
        # expected one at its estimates (diagonal Sigma), so no numerical Hessian
        A0 = bopt.information
    else:
        A0 = _info(bprob, bopt.theta, "observed")
    return bprob, bopt, A0


def _pd_detail(mat, names):
    """Name what makes a covariance matrix non-PD: negative variances or |r| > 1."""
    d = np.diag(mat)
    neg = [n for n, v in zip(names, d) if v < 0]
    if neg:
        return f": negative variance of {', '.join(map(repr, neg))}"
    sd = np.sqrt(d)
    R = mat / np.outer(sd, sd)
    pairs = [(names[i], names[j], R[i, j]) for i in range(len(names)) for j in range(i)
             if abs(R[i, j]) > 1]
    if pairs:
        return ": correlation " + ", ".join(f"{a!r} with {b!r} = {r:.3f}" for b, a, r in pairs)
    w, V = np.linalg.eigh(R)
    v = V[:, 0]
    inv = [names[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.2]
    return f" (smallest eigenvalue {w[0]:.3g}; involving {', '.join(map(repr, inv))})"


def _check_solution(prob, values):
    """Heywood cases and non-PD matrices at the estimates, reported by name."""
    msgs = []
    t = prob.pt.table
    lvset = set(prob.pt.names.lv)
    glab = prob.ss.group_labels
    c = prob.cols
    for r in range(len(t)):
        if c["op"][r] == "~~" and c["lhs"][r] == c["rhs"][r] and prob.par[r] >= 0 \
                and values[r] < 0:
            g = c["group"][r]
            where = f" in group {glab[g - 1]!r}" if glab else ""
            kind = "latent variable" if c["lhs"][r] in lvset else "residual"
            msg = (f"Heywood case: the {kind} variance of {c['lhs'][r]!r}{where} is negative "
                   f"({values[r]:.4g}).")
            warnings.warn(msg, HeywoodCaseWarning, stacklevel=5)
            msgs.append(msg)
    for g in range(len(prob.rep.groups)):
        M = fill(prob.rep, g, values)
        where = f" of group {glab[g]!r}" if glab else ""
        lvidx = [k for k, v in enumerate(prob.rep.lat) if v in lvset]
        lvnames = [prob.rep.lat[k] for k in lvidx]
        for name, mat, labels in (
                ("latent covariance matrix (psi)", M.Psi[np.ix_(lvidx, lvidx)], lvnames),
                ("residual covariance matrix (theta)", M.Theta, list(prob.rep.ov))):
            if mat.size == 0:
                continue
            d = np.diag(mat)
            keep = d != 0
            sub = mat[np.ix_(keep, keep)]
            if sub.size and np.linalg.eigvalsh(sub)[0] < -1e-12:
                names = [v for v, k in zip(labels, keep) if k]
                detail = _pd_detail(sub, names)
                msg = f"The {name}{where} is not positive definite{detail}."
                warnings.warn(msg, NotPositiveDefiniteWarning, stacklevel=5)
                msgs.append(msg)
    return msgs
