"""A larger model: five-factor CFA of the 25 bfi items, listwise and FIML
(tests/data/r_scripts/sem/sem_bfi.R -> tests/data/r_results/sem/sem_bfi.json)."""
from __future__ import annotations

import warnings

import pytest

import psychometrics.sem as sem

from sem_helpers import (check_fit_measures, check_modindices, check_parameter_estimates,
                         load_csv, load_json)

# FIML-corrected robust RMSEA p-values depend on lavaan's EM h1 moments (~1e-6)
FIML_LOOSE = {"rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust"}


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_bfi.json")


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_bfi_five_factors(ref, missing):
    # cfa(model, data = bfi, missing = missing)
    r = ref[missing]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise deletion is reported; expected here
        res = sem.fit(ref["model"], load_csv("bfi"), missing=missing)
    assert res.n_obs == (r["nobs"],)
    check_parameter_estimates(res, r["parameterEstimates"], rtol_est=1e-4, rtol_se=1e-4,
                              check_labels=False)
    check_fit_measures(res, r["fitMeasures"], rtol=1e-5,
                       skip=FIML_LOOSE if missing == "ml" else ())
    if missing == "ml":
        from numpy.testing import assert_allclose
        for k in FIML_LOOSE:
            assert_allclose(res.fit_measures[k], r["fitMeasures"][k.replace("_", ".")],
                            rtol=1e-3, err_msg=k)
    check_modindices(res, r["modindices_top10"], rtol=1e-4)
