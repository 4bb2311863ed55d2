"""The 20,000-patient x 12-month data of the timing benchmark (scaled_checks.json).

The data file is a copy of the R reference's scaled timing data, in tests/data/datasets/scaled/.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.multilevel import decompose, lead, mixed

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "data" / "reference" / "scaled_checks.json").read_text())["therapy_big"]
BIG = ROOT / "tests" / "data" / "datasets" / "scaled" / "therapy_big_20000x12.csv.gz"


@pytest.fixture(scope="module")
def big():
    d = pd.read_csv(BIG)
    d["wai_mean"] = d["wai_sum"] / 12.0
    d = decompose(d, "patient_id", "month", "wai_mean")
    return lead(d, "patient_id", "month", "oq_total").data.rename(
        columns={"wai_mean_between": "wai_between", "wai_mean_within": "wai_within",
                 "oq_total_lead": "oq_next"})


@pytest.mark.parametrize("key, reml", [("ML", False), ("REML", True)])
def test_big_random_intercept(big, key, reml):
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), bigm, REML = ...)
    R = REF[key]
    fit = mixed("oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)", big, reml=reml)
    assert fit.n_obs == REF["nobs"]
    assert list(fit.fixef.index) == list(R["fixef"])
    assert_allclose(fit.fixef.to_numpy(), list(R["fixef"].values()), rtol=1e-5)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), list(R["se"].values()), rtol=1e-4)
    vc = fit.random_effects
    assert len(vc) == len(R["VarCorr_table"])
    for ours, ref in zip(vc.to_dict("records"), R["VarCorr_table"], strict=True):
        assert ours["group"] == ref["grp"]
        assert_allclose(ours["variance"], ref["vcov"], rtol=1e-5)
        assert_allclose(ours["sd_cor"], ref["sdcor"], rtol=1e-5)
    assert_allclose(fit.loglik, R["logLik"], rtol=1e-12)


def test_big_random_slope(big):
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), bigm,
    #      REML = FALSE)  -- tests/data/r_results/multilevel/timing_rslope_big.json
    R = json.loads((ROOT / "tests" / "data" / "r_results" / "multilevel"
                    / "timing_rslope_big.json").read_text())
    fit = mixed("oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id)",
                big, reml=False)
    assert fit.n_obs == R["nobs"] and R["conv_messages"] is None and fit.converged
    assert list(fit.theta.index) == list(R["theta"])
    # with 220,000 rows the log-likelihood changes by < 1e-7 (1e-13 relative, the precision
    # of its evaluation) over theta differences of 1e-4: theta is compared at 1e-3
    assert_allclose(fit.theta.to_numpy(), list(R["theta"].values()), rtol=1e-3)
    assert_allclose(fit.fixef.to_numpy(), list(R["fixef"].values()), rtol=1e-5)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), list(R["se"].values()), rtol=1e-4)
    assert_allclose(fit.sigma, R["sigma"], rtol=1e-5)
    assert_allclose(fit.loglik, R["logLik"], rtol=1e-12)
