"""``progress(..., method="latent")``: the study's model as a two-level SEM with latent
person means (Lüdtke et al., 2008), estimated by :func:`psychometrics.sem.twolevel.fit_twolevel`.

Specification (one predictor ``x``, outcome ``y``, next assessment's outcome ``y_next``)::

    level: 1
        y_next ~ bw*x + phi*y          # within: the lagged outcome's within part
        x ~~ x ; y ~~ y ; x ~~ y       # predicts the next within part
    level: 2
        mu =~ 1*y + 1*y_next           # ONE person mean of the outcome ...
        y ~~ 0*y ; y_next ~~ 0*y_next  # ... shared by this and next month's outcome
        mu ~ bmu*x                     # person mean of x -> person mean of y
        between    := bmu*(1 - phi)
        contextual := bmu*(1 - phi) - bw

Why this and not the naive model (``y_next ~ x + y`` at both levels): the between parts of
``y`` and ``y_next`` are the same patient's mean measured twice, so at level 2 the regression
of one on the other has a residual variance near zero or negative (non-convergence, Heywood
case). Here the outcome's person mean is modelled once, as dynamic SEM does: within each
patient ``y[t+1] - mu = phi (y[t] - mu) + bw x_w[t] + e``, so given the current outcome the
next outcome depends on the person mean through ``(1 - phi) mu``, and the between-patient
effect on next month's outcome given the current outcome (the quantity that the observed
model's coefficient of the patient mean estimates) is ``(1 - phi) bmu``. See
docs/multilevel.md for the consequences (the serial dependence of the rows is not modelled,
which biases short series).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import IdentificationError, ModelSpecificationError

__all__ = ["latent_syntax", "progress_latent", "centring_table"]


def latent_syntax(predictors: list[str], outcome: str = "y", next_outcome: str = "y_next",
                  prior: bool = True, zero: bool = False) -> str:
    """lavaan syntax of the latent progress model (names must be syntax identifiers).

    ``zero=True`` gives the baseline model: the same variables with the within and
    between slopes of the predictors fixed to 0 (for likelihood-ratio tests).
    """
    k = len(predictors)
    lab = (lambda pre, j: "0") if zero else (lambda pre, j: f"{pre}{j + 1}")
    lines = ["level: 1"]
    terms = [f"{lab('bw', j)}*{x}" for j, x in enumerate(predictors)]
    if prior:
        terms.append(f"phi*{outcome}")
    lines.append(f"    {next_outcome} ~ " + " + ".join(terms))
    exo = list(predictors) + ([outcome] if prior else [])
    for a in range(len(exo)):
        for b in range(a, len(exo)):
            lines.append(f"    {exo[a]} ~~ {exo[b]}")
    lines.append("level: 2")
    if prior:
        lines += [f"    mu =~ 1*{outcome} + 1*{next_outcome}",
                  f"    {outcome} ~~ 0*{outcome}",
                  f"    {next_outcome} ~~ 0*{next_outcome}",
                  "    mu ~ " + " + ".join(f"{lab('bmu', j)}*{x}" for j, x in enumerate(predictors))]
    else:
        lines.append(f"    {next_outcome} ~ "
                     + " + ".join(f"{lab('bb', j)}*{x}" for j, x in enumerate(predictors)))
    for a in range(k):
        for b in range(a, k):
            lines.append(f"    {predictors[a]} ~~ {predictors[b]}")
    if not zero:
        for j in range(k):
            btw = f"bmu{j + 1}*(1 - phi)" if prior else f"bb{j + 1}"
            lines.append(f"    between{j + 1} := {btw}")
            lines.append(f"    contextual{j + 1} := {btw} - bw{j + 1}")
    return "\n".join(lines) + "\n"


def _fit(model: str, data: pd.DataFrame, name: str):
    from ..sem.twolevel import fit_twolevel
    try:
        return fit_twolevel(model, data, "id", fixed_x=False, missing="ml")
    except np.linalg.LinAlgError as exc:  # a singular matrix inside the optimiser
        raise IdentificationError(
            f"progress(method='latent'): the two-level model of {name!r} could not be "
            f"estimated ({exc}); with few assessments per patient the within and between parts "
            "may not be separable. Use method='observed' or more assessments per patient.\n"
            f"Model syntax:\n{model}") from None


def progress_latent(d: pd.DataFrame, id: str, outcome: str, ycol: str, preds: list[str],
                    prior: bool, lagk: int, sentence) -> dict:
    """Fit the latent progress models; ``d`` holds the lead column ``ycol`` (all rows)."""
    from scipy import stats  # lazy: keeps the package import light
    names = {outcome: "y", ycol: "y_next", **{x: f"x{j + 1}" for j, x in enumerate(preds)}}
    cols = [ycol] + preds + ([outcome] if prior else [])
    sd = pd.DataFrame({"id": pd.factorize(d[id], sort=True)[0] + 1})
    for c in cols:
        sd[names[c]] = d[c].to_numpy(dtype=float)
    inner = [names[c] for c in cols]
    anyobs = sd[inner].notna().any(axis=1)
    n_empty = int((~anyobs).sum())
    sd = sd[anyobs]
    if sd["id"].nunique() < 2:
        raise ModelSpecificationError(
            "method='latent' needs at least two patients with usable rows.")
    sets = {x: [x] for x in preds}
    if len(preds) > 1:
        sets["joint"] = list(preds)
    models, baselines, syntaxes, rows, comp = {}, {}, {}, [], []
    for name, xs in sets.items():
        inner_x = [names[x] for x in xs]
        use = ["id", "y_next"] + inner_x + (["y"] if prior else [])
        dd = sd[use]
        dd = dd[dd.drop(columns="id").notna().any(axis=1)]
        syn = latent_syntax(inner_x, prior=prior)
        syn0 = latent_syntax(inner_x, prior=prior, zero=True)
        fit = _fit(syn, dd, name)
        fit0 = _fit(syn0, dd, f"baseline of {name}")
        models[name], baselines[name], syntaxes[name] = fit, fit0, syn
        est = fit.estimates.set_index("label")
        iw, ib = fit.implied_within["cov"], fit.implied_between["cov"]
        sd_y = float(np.sqrt(iw.loc["y_next", "y_next"] + ib.loc["y_next", "y_next"]))
        for j, x in enumerate(xs):
            xi = inner_x[j]
            sd_w, sd_b = float(np.sqrt(iw.loc[xi, xi])), float(np.sqrt(ib.loc[xi, xi]))
            labs = {"within": f"bw{j + 1}", "between": f"between{j + 1}",
                    "contextual": f"contextual{j + 1}"}
            for eff, scale in (("within", sd_w), ("between", sd_b), ("contextual", sd_b)):
                e = est.loc[labs[eff]]
                z = float(e["z"])
                # two-sided normal p from the upper tail: representable far below 1e-16
                # (the estimates table keeps lavaan's 2 * (1 - pnorm(|z|)), 0 beyond |z| ~ 8.3)
                p = float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan
                r = {"model": name, "predictor": x, "effect": eff, "est": float(e["est"]),
                     "se": float(e["se"]), "t": z, "df": np.nan,
                     "p_value": p, "ci_lower": float(e["ci_lower"]),
                     "ci_upper": float(e["ci_upper"])}
                r["std_est"] = r["est"] * scale / sd_y
                r["sentence"] = sentence(eff, x, outcome, r, lagk, prior, name)
                rows.append(r)
        f1, f0 = fit.fit_measures, fit0.fit_measures
        chisq = max(0.0, 2.0 * (f1["logl"] - f0["logl"]))
        ddf = int(round(f1["npar"] - f0["npar"]))
        comp.append({"model": name, "npar": int(round(f1["npar"])), "aic": f1["aic"], "bic": f1["bic"],
                     "loglik": f1["logl"], "deviance": -2 * f1["logl"],
                     "baseline_loglik": f0["logl"], "chisq": chisq, "df": ddf,
                     "p_value": float(stats.chi2.sf(chisq, ddf))})
    for name, fit0 in baselines.items():
        models[f"baseline_{name}"] = fit0
    return {"effects": pd.DataFrame(rows), "comparison": pd.DataFrame(comp), "models": models,
            "formulas": syntaxes, "n_obs": int(len(sd)),
            "n_patients": int(sd["id"].nunique()), "n_empty": n_empty,
            "variables": names}


def centring_table(observed: pd.DataFrame, latent: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side effects of observed and latent centring (one row per model x predictor x
    effect): ``observed_*`` and ``latent_*`` est, se, p_value, ci_lower, ci_upper."""
    keys = ["model", "predictor", "effect"]
    keep = ["est", "se", "p_value", "ci_lower", "ci_upper"]
    o = observed[keys + keep].rename(columns={c: f"observed_{c}" for c in keep})
    la = latent[keys + keep].rename(columns={c: f"latent_{c}" for c in keep})
    out = o.merge(la, on=keys, how="left", sort=False)
    out["difference"] = out["latent_est"] - out["observed_est"]
    return out
