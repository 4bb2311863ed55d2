"""Observed versus latent centring in the progress model (issue 18, item 5; Lüdtke et al., 2008).

Seeded replications of clinic designs with the simulator's latent model (the lean
design-level generator :func:`psychometrics.power.design.generate`, which draws the same
alliance and outcome processes as :func:`psychometrics.simulate.simulate`, without item
responses and without measurement error). For each replication:

* ``observed``: ``progress(d, "y", "x", "id", "time")`` (mixed model on observed patient means,
  REML, Satterthwaite CIs);
* ``latent``: the two-level SEM of ``progress(..., method="latent")`` (``latent_syntax(["x1"])``,
  ``fit_twolevel(..., fixed_x=False, missing="ml")``; Wald CIs).

Bias (mean estimate - truth) and coverage of the 95% intervals of the within, between and
contextual effects. Truth: the design's ``within`` (-8), ``between`` (-1) and contextual
(``between - within`` = 7). The outcome process starts in its stationary distribution (the
first ``--burn`` months are generated and dropped; the predictor has no trend), so that the
person means are well defined for both methods.

Usage (repository root)::

    python benchmarks/study_progress_centring.py --reps 25 --out /tmp/centring.csv
"""
from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
import pandas as pd

from psychometrics.multilevel import progress
from psychometrics.multilevel.progress_latent import latent_syntax
from psychometrics.power.design import DesignParams, generate
from psychometrics.sem.twolevel import fit_twolevel

EFFECTS = ("within", "between", "contextual")


def dataset(n_patients: int, n_months: int, icc_x: float, seed: int, burn: int = 20):
    """One stationary panel: months ``burn+1 .. burn+n_months`` renumbered ``1..n_months``."""
    P = DesignParams(n_patients=n_patients, n_months=n_months + burn, icc_x=icc_x, x_trend=0.0)
    d = generate(P, seed)
    d = d[d["time"] > burn].copy()
    d["time"] -= burn
    return d.reset_index(drop=True), P.truth()


def fit_observed(d: pd.DataFrame) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = progress(d, "y", "x", "id", "time")
    e = r.effects.set_index("effect")
    return {k: (e.at[k, "est"], e.at[k, "ci_lower"], e.at[k, "ci_upper"]) for k in EFFECTS}


def fit_latent(d: pd.DataFrame) -> dict:
    dd = pd.DataFrame({"id": d["id"], "x1": d["x"], "y": d["y"],
                       "y_next": d.groupby("id")["y"].shift(-1)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_twolevel(latent_syntax(["x1"]), dd, "id", fixed_x=False, missing="ml")
    e = r.estimates.set_index("label")
    lab = {"within": "bw1", "between": "between1", "contextual": "contextual1"}
    out = {k: (e.at[v, "est"], e.at[v, "ci_lower"], e.at[v, "ci_upper"]) for k, v in lab.items()}
    out["converged"] = bool(r.converged)
    return out


def run(reps: int, designs, seed0: int = 18000) -> pd.DataFrame:
    rows = []
    for ci, (N, T, icc) in enumerate(designs):
        t0 = time.perf_counter()
        for rep in range(reps):
            seed = seed0 + 1000 * ci + rep
            d, truth = dataset(N, T, icc, seed)
            for method, f in (("observed", fit_observed), ("latent", fit_latent)):
                try:
                    res = f(d)
                except Exception as exc:  # a failed fit is counted, not hidden
                    rows.append(dict(n_patients=N, n_months=T, icc_x=icc, rep=rep, seed=seed,
                                     method=method, effect="error", error=str(exc)[:200]))
                    continue
                for k in EFFECTS:
                    est, lo, hi = res[k]
                    rows.append(dict(n_patients=N, n_months=T, icc_x=icc, rep=rep, seed=seed,
                                     method=method, effect=k, truth=truth[k], est=est, lo=lo,
                                     hi=hi, converged=res.get("converged", True)))
        print(f"N={N} T={T} icc={icc}: {reps} reps in {time.perf_counter() - t0:.0f} s",
              flush=True)
    return pd.DataFrame(rows)


def table(raw: pd.DataFrame) -> pd.DataFrame:
    ok = raw[raw["effect"] != "error"].copy()
    ok["cover"] = (ok["lo"] <= ok["truth"]) & (ok["truth"] <= ok["hi"])
    g = ok.groupby(["n_patients", "n_months", "icc_x", "effect", "method"])
    out = g.agg(reps=("est", "size"), truth=("truth", "first"), mean=("est", "mean"),
                sd=("est", "std"), coverage=("cover", "mean")).reset_index()
    out["bias"] = out["mean"] - out["truth"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--months", type=int, nargs="+", default=[3, 15])
    ap.add_argument("--icc", type=float, nargs="+", default=[0.3, 0.6])
    ap.add_argument("--patients", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    designs = list(itertools.product(a.patients, a.months, a.icc))
    raw = run(a.reps, designs)
    if a.out:
        raw.to_csv(a.out, index=False)
    tab = table(raw)
    wide = tab.pivot_table(index=["n_patients", "n_months", "icc_x", "effect"], columns="method",
                           values=["bias", "coverage"]).round(3)
    pd.set_option("display.width", 200)
    print(wide.to_string())
    print("errors:", int((raw["effect"] == "error").sum()))


if __name__ == "__main__":
    main()
