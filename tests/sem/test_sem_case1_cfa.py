"""Case 1: CFA HolzingerSwineford1939 against lavaan 0.6-14 (tests/data/reference/case1_cfa_hs.json).

R (tests/data/reference/scripts/case1_cfa_hs.R):
    fit <- cfa(HS.model, data = HS)                      # block "ml"
    fit <- cfa(HS.model, data = HS, std.lv = TRUE)       # block "std_lv"
    fit <- cfa(HS.model, data = HS, estimator = "MLR")   # block "mlr"
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem

from sem_helpers import (HS_MODEL, check_fit_measures, check_matrix, check_modindices,
                       check_parameter_estimates, check_standardized, load_json)

# lavaan's nlminb stops at rel.tol 1e-10 on fmin; its estimates are accurate to ~1e-6
RTOL_EST = 1e-5
RTOL_SE = 1e-4


class CheckCase1:
    key = "ml"
    kwargs: dict = {}

    @pytest.fixture(scope="class")
    @classmethod
    def res(cls, hs):
        return sem.fit(HS_MODEL, hs, **cls.kwargs)

    @pytest.fixture(scope="class")
    @classmethod
    def ref(cls):
        return load_json("reference/case1_cfa_hs.json")[cls.key]

    def test_converged(self, res, ref):
        # lavInspect(fit, "converged"), lavInspect(fit, "nobs"), lavInspect(fit, "npar")
        assert res.converged is True and ref["converged"] is True
        assert res.n_obs == (ref["nobs"],)
        assert res.fit_measures["npar"] == ref["npar"]

    def test_parameter_estimates(self, res, ref):
        # parameterEstimates(fit, ci = TRUE, level = 0.95)
        check_parameter_estimates(res, ref["parameterEstimates"], rtol_est=RTOL_EST,
                                  rtol_se=RTOL_SE, check_labels=False)

    def test_vcov_diag(self, res, ref):
        # diag(vcov(fit))
        assert_allclose(np.diag(res.vcov.to_numpy()), list(ref["vcov_diag"].values()),
                        rtol=2 * RTOL_SE)

    def test_standardized_all(self, res, ref):
        # standardizedSolution(fit, type = "std.all")
        check_standardized(res, ref["standardizedSolution_std_all"], "std.all",
                           rtol_est=RTOL_EST, rtol_se=RTOL_SE)

    def test_standardized_lv(self, res, ref):
        # standardizedSolution(fit, type = "std.lv")[, "est.std"]
        check_standardized(res, ref["standardizedSolution_std_lv"], "std.lv",
                           rtol_est=RTOL_EST, rtol_se=RTOL_SE, with_se=False)
        # the estimates table carries the same columns
        rows = ref["standardizedSolution_std_lv"]
        assert_allclose(res.estimates["std_lv"].to_numpy(), [r["est.std"] for r in rows],
                        rtol=RTOL_EST, atol=1e-12)
        rows = ref["standardizedSolution_std_all"]
        assert_allclose(res.estimates["std_all"].to_numpy(), [r["est.std"] for r in rows],
                        rtol=RTOL_EST, atol=1e-12)

    def test_fit_measures(self, res, ref):
        # fitMeasures(fit): every measure lavaan reports
        check_fit_measures(res, ref["fitMeasures"], rtol=RTOL_EST)

    def test_modindices(self, res, ref):
        # modindices(fit, sort. = TRUE, maximum.number = 10)
        check_modindices(res, ref["modindices_top10"], rtol=RTOL_SE)

    def test_sample_cov(self, res, ref):
        # lavInspect(fit, "sampstat")$cov  (divisor N): closed form
        check_matrix(res.sample_cov[1], ref["sample_cov_N_divisor"], rtol=1e-10)

    def test_implied_cov(self, res, ref):
        # lavInspect(fit, "implied")$cov
        check_matrix(res.implied_cov[1], ref["implied_cov"], rtol=RTOL_EST)

    def test_residual_cor(self, res, ref):
        # resid(fit, type = "cor")$cov
        check_matrix(res.residual_correlations()[1], ref["residual_cor"], rtol=1e-4, atol=1e-7)

    def test_rsquare(self, res, ref):
        # lavInspect(fit, "rsquare")
        r2 = res.r_squared().set_index("variable")["r_squared"]
        for v, val in ref["rsquare"].items():
            assert v in r2.index
            assert_allclose(r2[v], val, rtol=RTOL_EST)
        assert len(r2) == len(ref["rsquare"])


class TestCase1ML(CheckCase1):
    key = "ml"
    kwargs = {}


class TestCase1StdLV(CheckCase1):
    key = "std_lv"
    kwargs = {"std_lv": True}


class TestCase1MLR(CheckCase1):
    # cfa(HS.model, data = HS, estimator = "MLR"): Huber-White SEs (observed information),
    # Yuan-Bentler (Mplus) scaled chi-square, scaled and robust fit measures
    key = "mlr"
    kwargs = {"estimator": "MLR"}

    def test_options(self, res, ref):
        # lavInspect(fit, "options")[c("se", "test")]
        assert res.options["se"] == ref["options"]["se"] == "robust.huber.white"
        assert res.options["test"] == ref["options"]["test"] == "yuan.bentler.mplus"
        assert res.options["information"] == ref["options"]["information"][0] == "observed"


def test_marker_and_std_lv_same_fit(hs):
    # cfa(HS.model, HS) and cfa(HS.model, HS, std.lv = TRUE) are the same model
    a = sem.fit(HS_MODEL, hs)
    b = sem.fit(HS_MODEL, hs, std_lv=True)
    assert_allclose(a.fit_measures["chisq"], b.fit_measures["chisq"], rtol=1e-9)
    assert_allclose(a.estimates["std_all"], b.estimates["std_all"], rtol=1e-6, atol=1e-9)


def test_sample_cov_input_equals_raw_data(hs):
    # cfa(HS.model, sample.cov = cov(HS[, x]), sample.nobs = 301) gives the raw-data fit
    ov = [f"x{i}" for i in range(1, 10)]
    a = sem.fit(HS_MODEL, hs)
    b = sem.fit(HS_MODEL, sample_cov=hs[ov].cov(), sample_nobs=len(hs))
    assert_allclose(b.estimates["est"], a.estimates["est"], rtol=1e-8)
    assert_allclose(b.estimates["se"], a.estimates["se"], rtol=1e-8)
    assert_allclose(b.fit_measures["chisq"], a.fit_measures["chisq"], rtol=1e-9)
