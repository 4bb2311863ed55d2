"""ULS, GLS and WLS (ADF) for continuous data against lavaan 0.6-14
(tests/data/r_scripts/sem/sem_ls.R -> tests/data/r_results/sem/sem_ls.json).

Estimates, SEs ((Delta' V Delta)^-1 / (N - G)) and every fit measure lavaan reports for
these estimators (no likelihood-based ones). lavaan's optimizer stops up to ~5e-5
relative from the least-squares optimum on PoliticalDemocracy: estimates at rtol 1e-5 plus
5e-4 SE, with our discrepancy not above lavaan's.
"""
from __future__ import annotations

import pytest

import psychometrics.sem as sem
from psychometrics.exceptions import ModelSpecificationError

from sem_helpers import (HS_MODEL, PD_MODEL, check_fit_measures, check_parameter_estimates,
                         load_csv, load_json)

PD_M = "\n".join(line for line in PD_MODEL.splitlines() if "total" not in line)
HS, PD = "HolzingerSwineford1939", "PoliticalDemocracy"
CASES = {"hs_gls": (HS_MODEL, HS, "GLS"), "hs_wls": (HS_MODEL, HS, "WLS"),
         "hs_uls": (HS_MODEL, HS, "ULS"), "pd_gls": (PD_M, PD, "GLS"),
         "pd_uls": (PD_M, PD, "ULS")}


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_ls.json")


@pytest.mark.parametrize("case", list(CASES))
def test_least_squares(ref, case):
    m, d, est = CASES[case]
    res = sem.fit(m, load_csv(d), estimator=est)
    assert res.converged
    fm = ref[case]["fitMeasures"]
    # fitMeasures(fit): every measure lavaan reports (none is missing in ours)
    assert res.fit_measures["chisq"] <= fm["chisq"] * (1 + 1e-9) + 1e-9
    check_fit_measures(res, fm, rtol=1e-5)
    assert "logl" not in res.fit_measures and "aic" not in res.fit_measures
    # parameterEstimates(fit)
    check_parameter_estimates(res, ref[case]["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4, atol_est_se=5e-4)


def test_least_squares_limits():
    d = load_csv(HS)
    with pytest.raises(ModelSpecificationError, match="complete data"):
        sem.fit(HS_MODEL, d, estimator="GLS", missing="ml")
    with pytest.raises(ModelSpecificationError, match="fixed.x"):
        sem.fit("visual =~ x1 + x2 + x3\n visual ~ ageyr", d, estimator="ULS")
