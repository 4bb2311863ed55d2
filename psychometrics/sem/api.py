"""``fit()``: syntax -> parameter table -> matrices -> ML estimates -> fit measures.

Each step lives in its own module; this one only wires them together and
assembles the immutable :class:`~.results.SEMResult`.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import (ConvergenceWarning, HeywoodCaseWarning, IdentificationError,
                          ModelSpecificationError, NotPositiveDefiniteWarning)
from .defined import compile_definitions, evaluate_definitions
from .estimate import make_problem, optimize, optimize_checked, row_values, start_values
from .fit_measures import (FitInputs, compute_fit_measures, robust_fit_measures,
                           robust_indices)
from .information import check_identified, information, vcov_from_information
from .matrices import build_representation, fill, implied
from .partable import build_partable, freeze_exogenous, variable_names
from .robust import fiml_corrected, robust_parts
from .results import SEMResult, frozen_mapping, inference
from .samplestats import from_data, from_moments
from .standardize import standardized_values
from .syntax import parse_model

__all__ = ["fit"]


def _validate_options(estimator, information_kind, max_iter):
    if not isinstance(estimator, str) or estimator.upper() not in ("ML", "MLR"):
        raise ModelSpecificationError(
            f"The 'estimator' argument must be 'ML' or 'MLR', got {estimator!r}.")
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


def fit(model: str, data: pd.DataFrame | None = None, *, group: str | None = None,
        group_equal=None, group_partial=None, std_lv: bool = False, orthogonal: bool = False,
        meanstructure=None,
        information: str | None = None, fixed_x: bool = True, missing: str = "listwise",
        sample_cov=None,
        sample_nobs=None, sample_mean=None, sample_cov_rescale: bool = True,
        estimator: str = "ML", max_iter: int = 1000, ordered=None,
        parameterization: str = "delta") -> SEMResult:
    """Fit a structural equation model by maximum likelihood (lavaan ``sem()``/``cfa()``).

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data : DataFrame, optional
        Raw data (rows with missing values in model variables are dropped).
    group : str, optional
        Column defining groups; order = first appearance in ``data`` (lavaan).
    group_equal : list of str, optional
        ``"loadings", "intercepts", "means", "residuals", "residual.covariances",
        "lv.variances", "lv.covariances", "regressions"``.
    group_partial : list of str, optional
        Parameters exempt from ``group_equal``, e.g. ``["visual =~ x2", "x3 ~ 1"]``.
    std_lv : bool
        Scale latent variables by fixing their variances to 1 (instead of a marker).
    orthogonal : bool
        Uncorrelated latent variables (lavaan ``orthogonal = TRUE``).
    meanstructure : bool, optional
        Default: True with groups or when the syntax has intercepts (lavaan).
    information : {"expected", "observed"}, optional
        Information matrix for standard errors; default "expected" for ML and
        "observed" for MLR (lavaan).
    fixed_x : bool
        Exogenous observed covariates keep their sample moments (lavaan default).
    missing : {"listwise", "ml"}
        "listwise" drops incomplete rows (lavaan default); "ml" is full-information ML
        (lavaan ``missing = "ml"``): mean structure, observed information by default.
    sample_cov, sample_nobs, sample_mean
        Moments instead of raw data (``sample_cov`` divisor N - 1, rescaled to N as
        lavaan's ``sample.cov.rescale``).
    estimator : {"ML", "MLR"}
        MLR: ML estimates with Huber-White (sandwich) standard errors and the
        Yuan-Bentler scaled chi-square with scaled/robust fit measures (raw data needed).
    max_iter : int
    ordered : bool or list of str, optional
        Ordinal indicators (lavaan ``ordered =``); ``True`` = all indicators. Then the
        model is fitted by :func:`psychometrics.sem.ordinal.fit_ordinal` (estimator
        "WLSMV" by default, or "DWLS") and an ``OrdinalSEMResult`` is returned.
    parameterization : {"delta", "theta"}
        Ordinal models only (lavaan ``parameterization =``).

    Returns
    -------
    SEMResult

    Raises
    ------
    ModelSyntaxError, ModelSpecificationError, IdentificationError, NotPositiveDefiniteError

    Warns
    -----
    ConvergenceWarning, HeywoodCaseWarning, NotPositiveDefiniteWarning

    Notes
    -----
    R: ``lavaan::sem(model, data, group =, group.equal =, group.partial =,
    std.lv =, information =)`` with lavaan 0.6-14 defaults (``cfa()`` is the same).
    """
    if ordered is not None and ordered is not False and not (
            isinstance(ordered, (list, tuple)) and len(ordered) == 0):
        from .ordinal import fit_ordinal
        if group is not None or missing != "listwise" or sample_cov is not None:
            raise ModelSpecificationError(
                "Ordinal models (ordered=...) support one group, raw data and listwise deletion "
                "only.")
        est_o = "WLSMV" if str(estimator).upper() == "ML" else estimator
        return fit_ordinal(model, data, ordered, estimator=est_o, std_lv=std_lv,
                           parameterization=parameterization)
    t0 = time.perf_counter()
    _validate_options(estimator, information, max_iter)
    estimator = estimator.upper()
    if missing not in ("listwise", "ml", "fiml"):
        raise ModelSpecificationError(
            f"The 'missing' argument must be 'listwise' or 'ml', got {missing!r}.")
    fiml = missing in ("ml", "fiml") and data is not None
    if information is None:
        information = "observed" if (estimator == "MLR" or fiml) else "expected"
    if estimator == "MLR" and data is None:
        raise ModelSpecificationError("estimator='MLR' needs raw 'data' (casewise scores), not "
                                      "'sample_cov'.")
    parsed = parse_model(model)
    pre_names = variable_names(parsed.statements)
    ov = list(pre_names.ov)
    if data is not None:
        ss = from_data(data, ov, group, missing="ml" if fiml else "listwise")
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
                        group_labels=ss.group_labels, orthogonal=orthogonal)

    rep = build_representation(pt)
    prob = make_problem(pt, rep, ss)
    # degrees of freedom (fixed.x moments are not modelled)
    p = len(ov)
    nx = len(pt.names.ov_x) if fixed_x else 0
    ndat = ngroups * (p * (p + 1) // 2 + (p if meanstructure else 0))
    ndat -= ngroups * (nx * (nx + 1) // 2 + (nx if meanstructure else 0))
    df = ndat - pt.npar
    if df < 0:
        raise IdentificationError(
            f"The model is not identified: it has {pt.npar} free parameters but only {ndat} "
            f"sample moments (df = {df}). Fix or constrain {-df} or more parameters.")
    defs = compile_definitions(pt.definitions, set(pt.c("label")) - {""})
    warn_list: list[str] = []

    opt = optimize_checked(prob, max_iter=max_iter)
    theta = opt.theta
    pnames = param_names(pt, pt.npar, ngroups)
    vcov = None
    rob = None
    if not opt.converged:
        msg = (f"The optimizer did not converge after {opt.iterations} iterations "
               f"({opt.message}); estimates are not valid and standard errors are not computed.")
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        warn_list.append(msg)
    else:
        info = opt.information if information == "expected" else _info(prob, theta, information)
        check_identified(info, pnames)
        vcov = vcov_from_information(info, ss.ntotal)
        if estimator == "MLR":
            rob = robust_parts(prob, theta, info, df)
            vcov = rob.vcov
    values = row_values(prob, theta)
    warn_list += _check_solution(prob, values)

    # ---------------------------------------------------------------- estimates table
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
        cols["lhs"] += [d.name for d in defs]
        cols["op"] += [":="] * len(defs)
        cols["rhs"] += [d.expression for d in defs]
        cols["group"] += [0] * len(defs)
        cols["label"] += [d.name for d in defs]
        est = np.concatenate([est, [float(np.real(dvals[d.name])) for d in defs]])
        se = np.concatenate([se, dse])
        free_col += [False] * len(defs)
    se_reason = ""
    if not opt.converged:
        se[:] = np.nan
        se_reason = f"not computed: the model did not converge ({opt.message})"
    z, pv, lo, hi = inference(est, se)
    cols.update(est=est, se=se, z=z, p_value=pv, ci_lower=lo, ci_upper=hi,
                std_lv=standardized_values(prob, theta, defs, "std.lv").real,
                std_all=standardized_values(prob, theta, defs, "std.all").real,
                free=np.array(free_col, dtype=bool))
    tab = pd.DataFrame(cols)

    # ---------------------------------------------------------------- moments and fit
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
    fm = {}
    if opt.converged or np.isfinite(opt.fmin):
        xb, dfb = _baseline(ss, pt, meanstructure, fixed_x, ndat)
        logl = None
        if ss.patterns is not None:
            h1 = float(sum(ss.h1_loglik))
            logl = (h1 - ss.ntotal * opt.fmin, h1)
        fm = compute_fit_measures(FitInputs(
            fmin=opt.fmin, npar=pt.npar, nobs=ss.nobs, sample_cov=ss.cov, sample_mean=ss.mean,
            implied_cov=Sig_l, implied_mean=mu_l, meanstructure=meanstructure,
            baseline_chisq=xb, baseline_df=dfb, df=df, x_index=prob.x_idx, logl=logl,
            patterns=ss.patterns, pairwise=ss.pairwise))
        if estimator == "MLR" and rob is not None:
            bprob, bopt, bA0 = _baseline_fit(ss, pt, meanstructure, fixed_x, information)
            rb = robust_parts(bprob, bopt.theta, bA0, dfb, h1=(rob.trace_h1, rob.h1_ndat))
            cb = rb.trace_ugamma / dfb
            # lavaan divides by nx.free: free rows before equality constraints
            nx_free = int(np.sum(np.asarray(pt.c("par")) >= 0))
            fm.update(robust_fit_measures(fm, rob, cb, nx_free, ngroups))
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
    chisq_g = tuple(float(2 * n * f) for n, f in zip(ss.nobs, _group_fmin(prob, theta)))
    vc = None if vcov is None else pd.DataFrame(vcov, index=pnames, columns=pnames)
    options = dict(estimator=estimator, information=information, std_lv=std_lv,
                   orthogonal=orthogonal, missing="ml" if fiml else "listwise",
                   meanstructure=meanstructure, fixed_x=fixed_x, group=group,
                   group_equal=tuple(pt.options["group_equal"]),
                   group_partial=tuple(group_partial or ()), likelihood="normal",
                   se=("none" if not opt.converged else
                       "robust.huber.white" if estimator == "MLR" else "standard"),
                   test="yuan.bentler.mplus" if estimator == "MLR" else "standard")
    return SEMResult(
        model=model, estimates=tab, fit_measures=frozen_mapping(fm), converged=opt.converged,
        iterations=opt.iterations, optimizer_message=opt.message, nobs=ss.nobs,
        group_labels=ss.group_labels, sample_cov=frozen_mapping(S_d), sample_mean=frozen_mapping(m_d),
        implied_cov=frozen_mapping(Sig_d), implied_mean=frozen_mapping(mu_d), vcov=vc,
        options=frozen_mapping(options), warnings=tuple(warn_list), chisq_by_group=chisq_g,
        se_reason=se_reason,
        timing=time.perf_counter() - t0, parameter_table=pt.table.copy(), _problem=prob,
        _theta=theta, _defs=defs)


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


def _baseline(ss, pt, meanstructure, fixed_x, ndat):
    """Independence model: chi-square and df (closed form)."""
    if ss.patterns is not None:
        # FIML: per variable available-case ML moments; chisq = 2 (logl_h1 - logl_b)
        chisq = float(2 * (sum(ss.h1_loglik) - sum(ss.baseline_loglik)))
        p = len(ss.ov)
        return chisq, ndat - ss.ngroups * 2 * p
    ov = list(ss.ov)
    xset = set(pt.names.ov_x) if fixed_x else set()
    nox = [k for k, v in enumerate(ov) if v not in xset]
    xs = [k for k, v in enumerate(ov) if v in xset]
    chisq = 0.0
    for g, S in enumerate(ss.cov):
        ld = np.sum(np.log(np.diag(S)[nox]))
        if xs:
            ld += np.linalg.slogdet(S[np.ix_(xs, xs)])[1]
        chisq += ss.nobs[g] * (ld - np.linalg.slogdet(S)[1])
    npar_b = ss.ngroups * (len(nox) * (2 if meanstructure else 1))
    return chisq, ndat - npar_b


def _baseline_fit(ss, pt, meanstructure, fixed_x, information_kind):
    """Fit the independence (baseline) model; returns (problem, optimum, information)."""
    ov = list(ss.ov)
    xs = [v for v in ov if v in set(pt.names.ov_x)] if fixed_x else []
    lines = [f"{v} ~~ {v}" for v in ov if v not in xs]
    lines += [f"{a} ~~ {b}" for i, a in enumerate(xs) for b in xs[i:]]
    parsed = parse_model("\n".join(lines))
    bpt = build_partable(parsed, ngroups=ss.ngroups, meanstructure=meanstructure, fixed_x=False)
    if xs:
        bpt = freeze_exogenous(bpt, xs)
    brep = build_representation(bpt)
    bprob = make_problem(bpt, brep, ss)
    bopt = optimize(bprob, start_values(bprob))
    if ss.patterns is None or information_kind == "expected":
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
            warnings.warn(msg, HeywoodCaseWarning, stacklevel=3)
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
                warnings.warn(msg, NotPositiveDefiniteWarning, stacklevel=3)
                msgs.append(msg)
    return msgs
