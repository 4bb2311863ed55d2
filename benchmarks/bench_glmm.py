"""Binomial GLMM benchmark, side by side with lme4's glmer in the same run (issue 22).

5,000 patients x 12 months, random intercept, Laplace:
``improved ~ month + condition + (1 | patient)``. The data are simulated here, written to a
temporary CSV and fitted by ``lme4::glmer`` (R timed live with ``system.time``, median of 3,
the R process started once) and by ``mixed(..., family="binomial")`` (median of 3).
Also reports both log-likelihoods (ours must not be lower).

Run: ``python benchmarks/bench_glmm.py`` (needs Rscript with lme4 for the R column).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _bench import median_wall_cpu
from psychometrics.multilevel import mixed

R_CODE = r"""
suppressPackageStartupMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1]); d$patient <- factor(d$patient); d$condition <- factor(d$condition)
f <- function() glmer(improved ~ month + condition + (1 | patient), d, family = binomial)
fit <- f()
tt <- replicate(3, { st <- system.time(f()); c(st[["elapsed"]], st[["user.self"]] + st[["sys.self"]]) })
cat(jsonlite::toJSON(list(median_s = median(tt[1, ]), cpu_s = median(tt[2, ]), loglik = as.numeric(logLik(fit)),
                          fixef = unname(fixef(fit)), theta = unname(getME(fit, "theta"))),
                     digits = NA, auto_unbox = TRUE))
"""


def simulate(n_pat: int = 5000, n_month: int = 12, seed: int = 22) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cond = rng.choice(["cbt", "ipt", "waitlist"], n_pat)
    u = rng.normal(0, 1.0, n_pat)
    pat = np.repeat(np.arange(n_pat), n_month)
    month = np.tile(np.arange(1, n_month + 1), n_pat)
    eff = pd.Series({"cbt": 0.5, "ipt": 0.3, "waitlist": -0.4})[cond].to_numpy()
    eta = -2.0 + 0.2 * month + eff[pat] + u[pat]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"patient": [f"p{i:05d}" for i in pat], "month": month,
                         "condition": cond[pat], "improved": y})


def main():
    d = simulate()
    formula = "improved ~ month + condition + (1 | patient)"
    fit = mixed(formula, d, family="binomial")
    wall, cpu = median_wall_cpu(lambda: mixed(formula, d, family="binomial"), repeats=3)
    print(f"ours: {wall:.3f} s wall ({cpu:.3f} s CPU), logLik {fit.loglik:.6f}, "
          f"theta {fit.theta.iloc[0]:.6f}")
    if shutil.which("Rscript") is None:
        print("Rscript not found: no R column")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "glmm.csv"
        d.to_csv(csv, index=False)
        script = Path(tmp) / "glmm.R"
        script.write_text(R_CODE)
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True,
                             check=True).stdout
    r = json.loads(out[out.index("{"):])
    print(f"lme4 glmer: {r['median_s']:.3f} s wall ({r['cpu_s']:.3f} s CPU), logLik {r['loglik']:.6f}, theta {r['theta']:.6f}")
    print(f"ratio ours / glmer: {wall / r['median_s']:.3f}x wall, {cpu / r['cpu_s']:.3f}x CPU "
          "(target <= 0.25x); "
          f"logLik ours - lme4: {fit.loglik - r['loglik']:.2e}")
    print("max |fixef difference|:", float(np.max(np.abs(fit.fixef.to_numpy() - r["fixef"]))))


if __name__ == "__main__":
    main()
