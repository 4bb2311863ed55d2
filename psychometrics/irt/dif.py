"""Differential item functioning: multiple-group IRT likelihood-ratio tests with anchor
items, and ordinal logistic regression DIF (lordif-style) with pseudo-R2 effect sizes.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit

from ..exceptions import (ConvergenceWarning, DataIssue, DataQualityWarning,
                          DataValidationError, ModelSpecificationError)
from ..results import Summary
from . import _engine, _items
from ._data import prepare_responses, unique_patterns

__all__ = ["dif_lr", "dif_ordinal", "DIFResult", "MultiGroupFit", "fit_multigroup"]


# --------------------------------------------------------------------------- multi-group IRT
@dataclass(frozen=True, eq=False)
class MultiGroupFit:
    """A multiple-group unidimensional model: items in ``free`` have their own parameters
    in every group, the others are equal across groups; the first group's latent trait is
    N(0, 1), the others have a free mean and variance."""

    model: str
    items: tuple[str, ...]
    groups: tuple
    free: tuple[str, ...]
    x: np.ndarray
    item_index: list
    latent_index: list
    loglik: float
    n_par: int
    converged: bool
    message: str
    vcov: np.ndarray

    def item_params(self, item, group) -> np.ndarray:
        return self.x[self.item_index[self.groups.index(group)][self.items.index(item)]]

    def latent(self, group) -> tuple[float, float]:
        mi, vi = self.latent_index[self.groups.index(group)]
        return (self.x[mi] if mi >= 0 else 0.0), (self.x[vi] if vi >= 0 else 1.0)


def _split_groups(data, group, items, model, categories, missing):
    from ..io.itemdata import ItemData, as_frame

    if isinstance(data, ItemData):      # its group column and its items
        items = list(data.items) if items is None else items
        group = data.group if group is None else group
    if isinstance(data, (pd.DataFrame, ItemData)):
        data = as_frame(data, "DIF")
    g = pd.Series(group, index=data.index) if not isinstance(group, str) else data[group]
    if g.isna().any():
        pos = np.flatnonzero(g.isna().to_numpy())
        rows = ", ".join(str(int(p) + 1) for p in pos[:10]) + (" ..." if len(pos) > 10 else "")
        raise DataValidationError(
            f"{int(g.isna().sum())} row(s) have no group (data rows {rows}; data rows are "
            f"numbered from 1 at the first row below the header); give every row a group or "
            f"drop those rows.")
    levels = tuple(pd.unique(g))
    if len(levels) < 2:
        raise DataValidationError(f"DIF needs at least two groups; the group has {levels}.")
    resp = prepare_responses(data, items, categories=categories, missing=missing,
                             what=f"the multiple-group {model} model")
    gl = g.loc[list(resp.row_labels)].to_numpy()
    return resp, levels, gl


def _check_group_categories(resp, levels, gl, free_items):
    issues = []
    for it in free_items:
        j = resp.items.index(it)
        K = len(resp.categories[j])
        for lev in levels:
            c = resp.codes[gl == lev, j]
            seen = np.bincount(c[c >= 0], minlength=K)
            for k in np.nonzero(seen == 0)[0]:
                issues.append(DataIssue(f"group {_plain(lev)}", it, resp.categories[j][k],
                                        "category never chosen in this group"))
    if issues:
        raise DataValidationError(
            f"{len(issues)} item categor(ies) are empty within a group, so the item's "
            "group-specific thresholds cannot be estimated:", issues,
            hint="Collapse the sparse categories (recode) for DIF testing, or treat the item "
                 "as an anchor.")


def fit_multigroup(resp, levels, gl, model, free: Sequence[str], *, qpoints=49, qwidth=6.0,
                   start: dict | None = None) -> MultiGroupFit:
    K = resp.n_categories
    J = len(K)
    free = tuple(free)
    item_index = [[None] * J for _ in levels]
    x0 = []
    o = 0
    for j, it in enumerate(resp.items):
        if it in free:
            for g, lev in enumerate(levels):
                item_index[g][j] = np.arange(o, o + K[j])
                c = resp.codes[gl == lev, j]
                x0.append(_items.start_values(model, np.bincount(c[c >= 0], minlength=K[j])))
                o += K[j]
        else:
            idx = np.arange(o, o + K[j])
            for g in range(len(levels)):
                item_index[g][j] = idx
            c = resp.codes[:, j]
            x0.append(_items.start_values(model, np.bincount(c[c >= 0], minlength=K[j])))
            o += K[j]
    latent_index = [(-1, -1)]
    for _ in levels[1:]:
        latent_index.append((o, o + 1))
        x0.append(np.array([0.0, 1.0]))
        o += 2
    x0 = np.concatenate(x0)
    if start is not None:           # start from another fit: copy matching parameters
        for g, lev in enumerate(levels):
            for j, it in enumerate(resp.items):
                x0[item_index[g][j]] = start["items"][(lev, it)]
            mi, vi = latent_index[g]
            if mi >= 0:
                x0[mi], x0[vi] = start["latent"][lev]
    groups = []
    for lev in levels:
        codes = resp.codes[gl == lev]
        uniq, _, cnt = unique_patterns(codes, K)
        groups.append(_engine.GroupData(None, cnt.astype(float), uniq))
    prob = _engine.Problem([model] * J, K, groups, item_index, latent_index,
                           _engine.quadrature(qpoints, qwidth), int(o))
    out = _engine.maximize(prob, x0)
    try:
        vcov = np.linalg.inv(-out.hessian)
    except np.linalg.LinAlgError:
        vcov = np.full(out.hessian.shape, np.nan)
    return MultiGroupFit(model=model, items=resp.items, groups=levels, free=free, x=out.x,
                         item_index=item_index, latent_index=latent_index, loglik=out.loglik,
                         n_par=int(o), converged=out.converged, message=out.message,
                         vcov=vcov)


def _start_from(fit: MultiGroupFit) -> dict:
    return {"items": {(lev, it): fit.item_params(it, lev) for lev in fit.groups
                      for it in fit.items},
            "latent": {lev: fit.latent(lev) for lev in fit.groups}}


@dataclass(frozen=True, eq=False)
class DIFResult:
    """DIF tests, one row per (studied item, focal group) or per item."""

    method: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    baseline: object = None
    iterations: int = 1
    flag_history: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        return Summary(title=f"Differential item functioning ({self.method})",
                       header=self.notes, blocks=(("Items", self.frame),))


def _expected_score(model, par, th):
    P = _items.prob(model, par, th)
    return np.arange(P.shape[0]) @ P


def dif_lr(data, group, items: Sequence[str] | None = None, *, anchors: Sequence[str] | None
           = None, model: str = "graded", categories=None, missing: str = "ml",
           qpoints: int = 49, qwidth: float = 6.0) -> DIFResult:
    """Likelihood-ratio DIF tests with a multiple-group IRT model.

    Parameters
    ----------
    data : DataFrame
    group : str or array-like
        Column of ``data`` or one value per row; the first level met is the reference
        group (latent N(0, 1)); every other group has a free latent mean and variance.
    items : sequence of str, optional
        Item columns (default: every column but ``group``).
    anchors : sequence of str, optional
        Items assumed free of DIF.  Without anchors every item is tested against a model in
        which all *other* items are equal across groups (all-others-as-anchors; mirt's
        ``DIF(scheme = "drop")`` from the constrained model).  With anchors, the baseline
        has the anchors equal and every other item free, and each non-anchor item is tested
        by constraining it (mirt's ``DIF(scheme = "add")``).

    Returns
    -------
    DIFResult
        One row per tested item: ``item, chisq, df, p_value`` (LR test), ``delta_aic``,
        ``delta_bic`` (constrained minus free: positive favours DIF), and effect sizes from
        the model with the item free: ``a_<group>``, ``delta_a`` and ``delta_b`` (mean
        difference of the b's, focal minus reference), and ``sids``/``uids``: the signed and
        unsigned difference of the expected item scores (focal minus reference item
        parameters) averaged over the focal group's latent distribution (Meade 2010).
        With more than two groups the effect sizes compare the last group to the first.

    Notes
    -----
    R: ``mirt::multipleGroup`` + ``mirt::DIF``.  Every fit passes the same optimality
    check as :func:`fit_irt`; a row is marked ``converged=False`` otherwise.
    """
    df_in = data
    if items is None:
        items = [c for c in df_in.columns if not (isinstance(group, str) and c == group)]
    items = [str(i) for i in items]
    anchors = [] if anchors is None else [str(a) for a in anchors]
    bad = [a for a in anchors if a not in items]
    if bad:
        raise ModelSpecificationError(f"Anchor item(s) {', '.join(bad)} are not among the items.")
    resp, levels, gl = _split_groups(df_in, group, items, model, categories, missing)
    studied = [it for it in items if it not in anchors]
    if not studied:
        raise ModelSpecificationError("Every item is an anchor; nothing to test.")
    _check_group_categories(resp, levels, gl, studied)
    kw = dict(qpoints=qpoints, qwidth=qwidth)
    rows = []
    ref, foc = levels[0], levels[-1]
    if not anchors:
        base = fit_multigroup(resp, levels, gl, model, (), **kw)
        st = _start_from(base)
        for it in studied:
            freefit = fit_multigroup(resp, levels, gl, model, (it,), start=st, **kw)
            rows.append(_row(it, constrained=base, free=freefit, ref=ref, foc=foc,
                             n=resp.n_obs))
        baseline = base
        note = "all other items as anchors (each item freed in turn from the equal model)"
    else:
        base = fit_multigroup(resp, levels, gl, model, tuple(studied), **kw)
        st = _start_from(base)
        for it in studied:
            con = fit_multigroup(resp, levels, gl, model, tuple(s for s in studied if s != it),
                                 start=_merge_start(st, it, levels), **kw)
            rows.append(_row(it, constrained=con, free=base, ref=ref, foc=foc, n=resp.n_obs))
        baseline = base
        note = f"anchors: {', '.join(anchors)} (each studied item constrained in turn)"
    frame = pd.DataFrame(rows)
    if not frame["converged"].all():
        warnings.warn("Some DIF models did not pass the optimality check (converged=False).",
                      ConvergenceWarning, stacklevel=2)
    return DIFResult(method="multiple-group likelihood ratio", frame=frame,
                     notes=(f"Model: {model}; groups {levels} (reference {ref!r})", note),
                     baseline=baseline)


def _merge_start(st, item, levels):
    new = {"items": dict(st["items"]), "latent": st["latent"]}
    avg = np.mean([st["items"][(lev, item)] for lev in levels], axis=0)
    for lev in levels:
        new["items"][(lev, item)] = avg
    return new


def _row(it, *, constrained, free, ref, foc, n):
    chisq = max(0.0, 2 * (free.loglik - constrained.loglik))
    df = free.n_par - constrained.n_par
    pr, pf = free.item_params(it, ref), free.item_params(it, foc)
    model = free.model
    irt_r, _ = _items.to_irt(model, pr)
    irt_f, _ = _items.to_irt(model, pf)
    mu, var = free.latent(foc)
    th = np.linspace(mu - 6 * np.sqrt(var), mu + 6 * np.sqrt(var), 121)
    w = np.exp(_engine.log_weights(th, mu, var))
    diff = _expected_score(model, pf, th) - _expected_score(model, pr, th)
    return {"item": it, "chisq": chisq, "df": df, "p_value": stats.chi2.sf(chisq, df),
            "delta_aic": (-2 * constrained.loglik + 2 * constrained.n_par)
            - (-2 * free.loglik + 2 * free.n_par),
            "delta_bic": (-2 * constrained.loglik + np.log(n) * constrained.n_par)
            - (-2 * free.loglik + np.log(n) * free.n_par),
            f"a_{ref}": irt_r[0], f"a_{foc}": irt_f[0], "delta_a": irt_f[0] - irt_r[0],
            "delta_b": float(np.mean(irt_f[1:] - irt_r[1:])),
            "sids": float(w @ diff), "uids": float(w @ np.abs(diff)),
            "loglik_free": free.loglik, "loglik_constrained": constrained.loglik,
            "converged": bool(free.converged and constrained.converged)}


# --------------------------------------------------------------------------- ordinal logistic
def _polr(y, X, K):
    """Cumulative logit model ``P(y >= k) = expit(alpha_k + X beta)`` by maximum likelihood
    (Newton with analytic gradient, Hessian by differences).  Returns (loglik, params)."""
    n, p = X.shape
    cum = np.array([(y >= k).mean() for k in range(1, K)])
    cum = np.clip(cum, 1e-4, 1 - 1e-4)
    x0 = np.concatenate([np.log(cum / (1 - cum)), np.zeros(p)])

    def nll_grad(par):
        a, b = par[:K - 1], par[K - 1:]
        eta = X @ b
        z = a[None, :] + eta[:, None]                         # (n, K-1)
        Ps = expit(z)
        up = np.hstack([np.ones((n, 1)), Ps])                 # P*_k, k = 0..K-1
        lo = np.hstack([Ps, np.zeros((n, 1))])                # P*_{k+1}
        pr = np.clip(up[np.arange(n), y] - lo[np.arange(n), y], 1e-300, None)
        if np.any(np.diff(a) >= 0):
            return np.inf, np.zeros_like(par)
        W = Ps * (1 - Ps)
        Wu = np.hstack([np.zeros((n, 1)), W])
        Wl = np.hstack([W, np.zeros((n, 1))])
        du, dl = Wu[np.arange(n), y], Wl[np.arange(n), y]
        ga = np.zeros(K - 1)
        iu = y - 1                                            # index of alpha in upper
        m = iu >= 0
        np.add.at(ga, iu[m], du[m] / pr[m])
        m2 = y < K - 1
        np.add.at(ga, y[m2], -dl[m2] / pr[m2])
        gb = X.T @ ((du - dl) / pr)
        return -np.log(pr).sum(), -np.concatenate([ga, gb])

    res = optimize.minimize(nll_grad, x0, jac=True, method="BFGS",
                            options={"gtol": 1e-8, "maxiter": 2000})
    return -res.fun, res.x, bool(np.max(np.abs(res.jac)) < 1e-4)


def dif_ordinal(data, group, items: Sequence[str] | None = None, *, matching="theta",
                fit=None, model: str = "graded", categories=None, purify: bool | None = None,
                criterion: str = "chisq", alpha: float = 0.01, beta_change: float = 0.1,
                r2_change: float = 0.02, max_iter: int = 10) -> DIFResult:
    """Ordinal logistic regression DIF for every item (Crane et al.'s lordif approach).

    Three cumulative-logit models per item, with the matching variable ``m``:
    (1) ``m``; (2) ``m + group``; (3) ``m + group + m:group``.  Uniform DIF: 1 vs 2;
    non-uniform: 2 vs 3; overall: 1 vs 3 (LR chi-square tests).  Effect sizes: the change in
    McFadden's, Nagelkerke's and Cox-Snell's pseudo-R2, and the relative change of the
    matching coefficient ``|beta1(1) - beta1(2)| / |beta1(1)|`` (lordif's beta criterion).

    Parameters
    ----------
    data, group, items
        As :func:`dif_lr` (two groups).
    matching : {"theta", "sum"}
        ``"theta"``: EAP from a single-group model fitted to all items (``fit`` or fitted
        here); ``"sum"``: the sum score of the items (respondents with every item answered).
    purify : bool, optional
        lordif's iterative purification of the matching variable (default: True with
        ``matching="theta"``; not available with ``"sum"``).  Items flagged for DIF are
        split into one item per group (group-specific parameters, missing for the other
        group), the model is refitted with the unflagged items as the common anchor, theta
        is re-scored from that calibration and every item is tested again; this repeats
        until the flagged set is one already seen (lordif's rule: stable over two
        iterations, or a cycle) or ``max_iter`` calibrations were run.
    criterion : {"chisq", "beta", "r2"}, default "chisq"
        Flagging rule (lordif's ``criterion``): ``"chisq"`` any of ``p_12, p_13, p_23 <=
        alpha``; ``"beta"`` ``beta_change >= beta_change``; ``"r2"`` McFadden
        ``r2_mcfadden_13 >= r2_change``.
    alpha, beta_change, r2_change : float
        lordif's defaults 0.01, 0.1 and 0.02.
    max_iter : int, default 10
        Most calibrations (the first included), as lordif's ``maxIter``.

    Returns
    -------
    DIFResult
        Columns ``item, chisq_12, p_12, chisq_23, p_23, chisq_13, p_13, r2_mcfadden_12,
        r2_mcfadden_23, r2_mcfadden_13, r2_nagelkerke_13, r2_coxsnell_13, beta_change,
        loglik_1..3, n_obs, converged, flagged`` from the final matching variable;
        ``iterations`` and ``flag_history`` (the flagged items after each calibration).

    Warns
    -----
    DataQualityWarning
        Every item flagged (no anchor left: purification stops, as in lordif), or
        ``max_iter`` reached before the flags settled.

    Notes
    -----
    R: ``lordif::lordif`` (models ``rms::lrm``; the same log-likelihoods come from
    ``MASS::polr``).  lordif equates each purified calibration to the first one
    (Stocking-Lord on the anchor items) before re-scoring; the LR statistics, pseudo-R2
    changes and beta change are unchanged by a linear rescaling of the matching variable, so
    here theta is taken on the purified calibration's own N(0, 1) scale.
    """
    if items is None:
        items = [c for c in data.columns if not (isinstance(group, str) and c == group)]
    items = [str(i) for i in items]
    g = data[group] if isinstance(group, str) else pd.Series(group, index=data.index)
    levels = tuple(pd.unique(g.dropna()))
    if len(levels) != 2:
        raise DataValidationError(
            f"Ordinal logistic regression DIF compares two groups; got {len(levels)} "
            f"({levels}).")
    if criterion not in ("chisq", "beta", "r2"):
        raise ModelSpecificationError(
            f"The 'criterion' parameter must be 'chisq', 'beta' or 'r2'; got {criterion!r} "
            "instead.")
    if purify is None:
        purify = matching == "theta"
    if purify and matching != "theta":
        raise ModelSpecificationError(
            "purify=True re-scores theta from a purified calibration; it needs "
            "matching='theta' (the sum score has nothing to purify here).")
    if int(max_iter) < 1:
        raise ModelSpecificationError(f"max_iter must be >= 1; got {max_iter}.")
    resp = prepare_responses(data, items, categories=categories, missing="ml",
                             what="ordinal logistic DIF")
    labels = list(resp.row_labels)
    gl = g.loc[labels]
    gv = np.where(gl.isin(levels).to_numpy(), (gl.to_numpy() == levels[1]).astype(float),
                  np.nan)
    n_nogroup = int(np.isnan(gv).sum())
    if matching == "theta":
        if fit is None:
            from .model import fit_irt
            fit = fit_irt(data.loc[labels, items], model=model, categories=categories)
        m = fit.scores().frame["est"].to_numpy()
        keep = np.ones(len(labels), bool)
    elif matching == "sum":
        keep = (resp.codes >= 0).all(axis=1)
        m = resp.codes.sum(axis=1).astype(float)
    else:
        raise ModelSpecificationError(
            f"The 'matching' parameter must be 'theta' or 'sum'; got {matching!r} instead.")
    keep &= ~np.isnan(gv)
    frame = _olr_table(items, resp, m, gv, keep)
    flags = _flags(frame, criterion, alpha, beta_change, r2_change)
    history = [tuple(it for it, f in zip(items, flags) if f)]
    iterations = 1
    if purify:
        from .model import fit_irt
        seen = {tuple([False] * len(items)), tuple([True] * len(items)), tuple(flags)}
        while any(flags) and not all(flags) and iterations < int(max_iter):
            sparse = _split_flagged(resp, gv, flags)
            theta = fit_irt(sparse, model=getattr(fit, "model", model)).scores().frame[
                "est"].to_numpy()
            iterations += 1
            frame = _olr_table(items, resp, theta, gv, keep)
            new = _flags(frame, criterion, alpha, beta_change, r2_change)
            history.append(tuple(it for it, f in zip(items, new) if f))
            if tuple(new) in seen:
                flags = new
                break
            seen.add(tuple(new))
            flags = new
        else:
            if any(flags) and not all(flags) and iterations >= int(max_iter):
                warnings.warn(f"DIF purification stopped after max_iter={max_iter} "
                              "calibrations before the flagged items settled; the last "
                              "flags are reported.", DataQualityWarning, stacklevel=2)
        if all(flags):
            warnings.warn("Every item was flagged for DIF: no anchor items are left, so "
                          "purification stopped (as lordif does). Check the grouping "
                          "variable, or test fewer items.", DataQualityWarning,
                          stacklevel=2)
    frame["flagged"] = flags
    rule = {"chisq": f"p_12, p_13 or p_23 <= {alpha:g}",
            "beta": f"beta_change >= {beta_change:g}",
            "r2": f"r2_mcfadden_13 >= {r2_change:g}"}[criterion]
    notes = [f"Groups {levels}; matching on {matching}; {n_nogroup} respondent(s) without a "
             "group left out", f"Flagged: {rule} (lordif criterion={criterion!r})"]
    if purify:
        notes.append(f"Purification: {iterations} calibration(s); flagged after each: "
                     + "; ".join("(" + ", ".join(h) + ")" for h in history))
    return DIFResult(method="ordinal logistic regression", frame=frame, notes=tuple(notes),
                     iterations=iterations, flag_history=tuple(history))


def _flags(frame, criterion, alpha, beta_change, r2_change):
    if criterion == "chisq":
        f = (frame["p_12"] <= alpha) | (frame["p_13"] <= alpha) | (frame["p_23"] <= alpha)
    elif criterion == "beta":
        f = frame["beta_change"] >= beta_change
    else:
        f = frame["r2_mcfadden_13"] >= r2_change
    return [bool(v) for v in f]


def _split_flagged(resp, gv, flags) -> pd.DataFrame:
    """lordif's ``separate``: each flagged item becomes one item per group (its responses
    in that group, missing elsewhere); categories unused within a group are dropped
    (adjacent ones merged) so each split item has only observed categories."""
    cols = {}
    for j, it in enumerate(resp.items):
        c = resp.codes[:, j].astype(float)
        c[c < 0] = np.nan
        if not flags[j]:
            cols[it] = c
            continue
        for k, lev in enumerate((0.0, 1.0)):
            v = np.where(gv == lev, c, np.nan)
            ok = ~np.isnan(v)
            if ok.sum() == 0:
                continue
            present = np.unique(v[ok])
            out = np.full(v.shape, np.nan)
            out[ok] = np.searchsorted(present, v[ok])
            if present.size >= 2:
                cols[f"{it}@group{k + 1}"] = out
    return pd.DataFrame(cols, index=list(resp.row_labels))


def _olr_table(items, resp, m, gv, keep) -> pd.DataFrame:
    rows = []
    for j, it in enumerate(items):
        ok = keep & (resp.codes[:, j] >= 0)
        y = resp.codes[ok, j]
        K = int(resp.n_categories[j])
        mm, gg = m[ok], gv[ok]
        present = np.unique(y)
        if present.size < K:
            y = np.searchsorted(present, y)
            K = present.size
        n = int(ok.sum())
        cnt = np.bincount(y, minlength=K)
        ll0 = float((cnt[cnt > 0] * np.log(cnt[cnt > 0] / n)).sum())
        ll1, p1, c1 = _polr(y, mm[:, None], K)
        ll2, p2, c2 = _polr(y, np.column_stack([mm, gg]), K)
        ll3, _, c3 = _polr(y, np.column_stack([mm, gg, mm * gg]), K)

        def mcf(ll):
            return 1 - ll / ll0

        def cs(ll):
            return 1 - np.exp(2 * (ll0 - ll) / n)

        def nk(ll):
            return cs(ll) / (1 - np.exp(2 * ll0 / n))
        c12, c23, c13 = 2 * (ll2 - ll1), 2 * (ll3 - ll2), 2 * (ll3 - ll1)
        b1, b2 = p1[K - 1], p2[K - 1]
        rows.append({
            "item": it, "chisq_12": c12, "p_12": stats.chi2.sf(c12, 1),
            "chisq_23": c23, "p_23": stats.chi2.sf(c23, 1),
            "chisq_13": c13, "p_13": stats.chi2.sf(c13, 2),
            "r2_mcfadden_12": mcf(ll2) - mcf(ll1), "r2_mcfadden_23": mcf(ll3) - mcf(ll2),
            "r2_mcfadden_13": mcf(ll3) - mcf(ll1),
            "r2_nagelkerke_13": nk(ll3) - nk(ll1), "r2_coxsnell_13": cs(ll3) - cs(ll1),
            "beta_change": abs(b1 - b2) / abs(b1), "loglik_1": ll1, "loglik_2": ll2,
            "loglik_3": ll3, "n_obs": n, "converged": c1 and c2 and c3})
    return pd.DataFrame(rows)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
