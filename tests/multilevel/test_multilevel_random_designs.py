"""Robustness: 12 random designs x (REML, ML), each fitted by lme4
(tests/data/r_scripts/multilevel/random_designs.R -> r_results/multilevel/random_designs.json):
8-120 patients with 2-12 sessions, random intercept and slope SDs from 0 (singular) to large,
slope predictors on scales 0.05, 1 and 30.

For every fit: at lme4's theta our likelihood, estimates and SEs are lme4's (formula check);
our own optimum is never worse than lme4's and passes the convergence check; where lme4
converged to an interior, non-singular optimum we agree with its estimates. Where the
likelihood is flat towards the boundary the two programs may land on either side of lme4's
1e-4 singularity threshold; our log-likelihood is then at least as high.

Fixed effects at our own optimum are compared with lme4's in EVERY case (also the 19 where
lme4 reports non-convergence or a singular fit, or we land on the boundary), in units of
lme4's standard errors: |beta_ours - beta_lme4| / SE_lme4 <= sqrt(2 * dLL), with
dLL = loglik_ours - loglik_lme4 + 1e-9 * |loglik_lme4| (the slack of the loglik check).
Derivation: on a locally quadratic log-likelihood, a point dLL below the maximum lies within
Mahalanobis distance sqrt(2 dLL) of it, and so does each marginal coordinate in SE units.
This is a heuristic at the boundary and for REML (where beta is profiled out), so it was
checked against all 24 fits: the largest observed ratio max(|diff|/SE) / sqrt(2 dLL) is 0.15
(design 0, ML); the largest absolute discrepancy is 0.025 SE (design 0, ML, where lme4 stopped
0.014 log-likelihood units short of the optimum).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.multilevel import mixed

DATA = Path(__file__).resolve().parents[1] / "data"
REF = json.loads((DATA / "r_results" / "multilevel" / "random_designs.json").read_text())["designs"]
FORMULA = "y ~ x + z + (1 + x | id)"
CASES = [(k, crit) for k in range(len(REF)) for crit in ("REML", "ML")]


@pytest.mark.parametrize("k, crit", CASES)
def test_random_design(k, crit):
    # lmer(y ~ x + z + (1 + x | id), d, REML = crit == "REML")
    des = REF[k]
    R = des["fits"][crit]
    d = pd.DataFrame(des["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        at = mixed(FORMULA, d, reml=crit == "REML", theta=list(R["theta"].values()))
        fit = mixed(FORMULA, d, reml=crit == "REML")
    assert_allclose(at.loglik, R["logLik"], rtol=1e-12)
    assert_allclose(at.fixef.to_numpy(), list(R["fixef"].values()), rtol=1e-8, atol=1e-10)
    assert_allclose(at.sigma, R["sigma"], rtol=1e-9)
    ses = [r["Std. Error"] for r in R["coefficients"]]
    assert_allclose(np.sqrt(np.diag(at.vcov.to_numpy())), ses, rtol=1e-8)
    # our optimum: at least as good, converged
    assert fit.converged
    assert fit.loglik >= R["logLik"] - 1e-9 * abs(R["logLik"])
    # fixed effects at our optimum vs lme4's, all cases: within sqrt(2 * dLL) lme4 SEs (docstring)
    dll = fit.loglik - R["logLik"] + 1e-9 * abs(R["logLik"])
    fe_diff_in_se = (fit.fixef.to_numpy() - np.array(list(R["fixef"].values()))) / np.array(ses)
    assert_allclose(fe_diff_in_se, 0.0, rtol=0, atol=np.sqrt(2.0 * dll))
    lme4_clean = R["conv_messages"] is None and not R["isSingular"]
    if lme4_clean and not fit.singular:
        assert_allclose(fit.theta.to_numpy(), list(R["theta"].values()), rtol=1e-3, atol=1e-4)
        assert_allclose(fit.fixef.to_numpy(), list(R["fixef"].values()), rtol=1e-4, atol=1e-6)
        assert_allclose(fit.loglik, R["logLik"], rtol=1e-9)
