"""The 100,000-row HolzingerSwineford CFA (lavaan timing data set) fits the same model as lavaan.

R (tests/data/reference/scripts/99_timings_scaled.R):
    HSbig <- HS[rows, ]; fit <- cfa(HS.model, data = HSbig)   # scaled_checks.json hs_100k$ml
The row index file is a copy of the R reference's, in tests/data/datasets/scaled/.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem

from sem_helpers import HS_MODEL, check_parameter_estimates, load_json

ROOT = Path(__file__).resolve().parents[2]
ROWINDEX = ROOT / "tests" / "data" / "datasets" / "scaled" / "hs_100k_rowindex.csv.gz"


@pytest.fixture(scope="module")
def big(hs):
    rows = pd.read_csv(ROWINDEX)["row"].to_numpy() - 1
    return hs.iloc[rows].reset_index(drop=True)


def test_hs_100k(big):
    ref = load_json("reference/scaled_checks.json")["hs_100k"]["ml"]
    res = sem.fit(HS_MODEL, big)
    assert res.n_obs == (ref["nobs"],)
    # fitMeasures(fit, c("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic"))
    for k, v in ref["fitMeasures"].items():
        assert_allclose(res.fit_measures[k], v, rtol=1e-6, err_msg=k)
    # parameterEstimates(fit)
    check_parameter_estimates(res, ref["parameterEstimates"], rtol_est=1e-5, rtol_se=1e-4,
                              check_labels=False)


def test_hs_100k_mlr(big):
    # cfa(HS.model, data = HSbig, estimator = "MLR")   # scaled_checks.json hs_100k$mlr
    ref = load_json("reference/scaled_checks.json")["hs_100k"]["mlr"]
    res = sem.fit(HS_MODEL, big, estimator="MLR")
    for k, v in ref["fitMeasures"].items():
        key = k.replace(".", "_")
        assert key in res.fit_measures, key
        assert_allclose(res.fit_measures[key], v, rtol=1e-5, err_msg=key)
