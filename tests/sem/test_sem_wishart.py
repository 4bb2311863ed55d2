"""likelihood="wishart" against lavaan 0.6-14
(tests/data/r_scripts/sem/sem_wishart.R -> tests/data/r_results/sem/sem_wishart.json).

Covariance with divisor N - 1, chisq_g = 2 (n_g - 1) fmin_g, vcov = inverse information /
(N - G); the log-likelihood family and RMR use N. As in test_sem_structural, lavaan's
optimizer stops up to ~3e-5 relative from the optimum on the two-group and
PoliticalDemocracy models: estimates at rtol 1e-5 plus 5e-4 SE, with our chi-square not
above lavaan's.
"""
from __future__ import annotations

import pytest

import psychometrics.sem as sem
from psychometrics.exceptions import ModelSpecificationError

from sem_helpers import (HS_MODEL, PD_MODEL, check_fit_measures, check_parameter_estimates,
                         load_csv, load_json)

CASES = {"hs": (HS_MODEL, "HolzingerSwineford1939", {}),
         "hs_groups": (HS_MODEL, "HolzingerSwineford1939", {"group": "school"}),
         "pd": (PD_MODEL, "PoliticalDemocracy", {})}


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_wishart.json")


@pytest.mark.parametrize("case", list(CASES))
def test_wishart(ref, case):
    m, d, kw = CASES[case]
    res = sem.fit(m, load_csv(d), likelihood="wishart", **kw)
    # fitMeasures(fit)
    assert res.fit_measures["chisq"] <= ref[case]["fitMeasures"]["chisq"] + 1e-7
    check_fit_measures(res, ref[case]["fitMeasures"], rtol=1e-5)
    # parameterEstimates(fit)
    check_parameter_estimates(res, ref[case]["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4, atol_est_se=5e-4)


def test_wishart_rejects_fiml():
    with pytest.raises(ModelSpecificationError, match="wishart"):
        sem.fit(HS_MODEL, load_csv("HolzingerSwineford1939"), likelihood="wishart",
                missing="ml")
