"""ULS, GLS and WLS (ADF) for continuous data against lavaan 0.6-14
(tests/data/r_scripts/sem/sem_ls.R -> tests/data/r_results/sem/sem_ls.json).

Estimates, SEs ((Delta' V Delta)^-1 / (N - G)) and every fit measure lavaan reports for
these estimators (no likelihood-based ones). lavaan's optimizer stops up to ~5e-5
relative from the least-squares optimum on PoliticalDemocracy: estimates at rtol 1e-5 plus
5e-4 SE, with our discrepancy not above lavaan's.
"""
from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

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
    with pytest.raises(ModelSpecificationError, match="general constraints"):
        sem.fit("visual =~ x1 + a*x2 + b*x3\n a == 2*b^2", d, estimator="ULS")


# ------------------------------------------------------------------ fixed.x and groups
# tests/data/r_scripts/sem/sem_ls_groups_fixedx.R -> sem_ls_groups_fixedx.json: a MIMIC
# model (lavaan sets fixed.x = FALSE for these estimators unless fixed.x = TRUE is given;
# both) and two groups (configural, equal loadings). The groups are weighted by
# (n_g - 1) in the discrepancy as lavaan's lav_model_objective.
MIMIC = """visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           visual + textual ~ sex + ageyr"""
GF_CASES = {}
for _e in ("GLS", "WLS", "ULS"):
    _l = _e.lower()
    GF_CASES[f"mimic_{_l}"] = (MIMIC, dict(estimator=_e))
    GF_CASES[f"mimic_fixedx_{_l}"] = (MIMIC, dict(estimator=_e, fixed_x=True))
    GF_CASES[f"groups_{_l}"] = (HS_MODEL, dict(estimator=_e, group="school"))
    GF_CASES[f"groups_loadings_{_l}"] = (HS_MODEL, dict(estimator=_e, group="school",
                                                        group_equal=["loadings"]))
GF_CASES["mimic_gls_meanstructure"] = (MIMIC, dict(estimator="GLS", meanstructure=True))


@pytest.fixture(scope="module")
def ref_gf():
    return load_json("r_results/sem/sem_ls_groups_fixedx.json")


@pytest.mark.parametrize("case", list(GF_CASES))
def test_least_squares_fixed_x_and_groups(ref_gf, case):
    m, kw = GF_CASES[case]
    o = ref_gf[case]
    res = sem.fit(m, load_csv(HS), **kw)
    assert res.converged and o["converged"]
    # lavInspect(fit, "options")$fixed.x
    assert res.options["fixed_x"] == o["fixed_x"]
    fm = o["fitMeasures"]
    # fitMeasures(fit): every measure; our discrepancy is not above lavaan's
    assert res.fit_measures["chisq"] <= fm["chisq"] * (1 + 1e-9) + 1e-9
    # lavaan's nlminb stops up to ~3e-5 relative from the optimum in the two-group fits
    # (chi-squares agree to 1e-8): the residual-based measures follow the estimates
    check_fit_measures(res, fm, rtol=1e-5 if case.startswith("mimic") else 2e-4)
    assert_allclose(res.fit_measures["chisq"], fm["chisq"], rtol=1e-7)
    # parameterEstimates(fit)
    check_parameter_estimates(res, o["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4, atol_est_se=1e-3)
