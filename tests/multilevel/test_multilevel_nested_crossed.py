"""Several grouping factors in ``mixed()`` (issue 23): nested and crossed random effects.

References: tests/data/r_scripts/multilevel/nested_crossed.R ->
tests/data/r_results/multilevel/nested_crossed.json (lme4 1.1-31, lmerTest): lme4's Pastes
(nested ``(1 | batch/cask)``), Penicillin (crossed ``(1 | plate) + (1 | sample)``) and a simulated
three-level therapy data set (12 therapists x 6 patients x 8 months, patient ids reused across
therapists, 40 rows missing; ``y ~ x + (1 | therapist/patient)`` and a random slope of month per
therapist, singular) and a second one with true random slopes of month per patient (10 therapists
x 8 patients x 10 months, correlated intercept and slope per patient). The data are stored in the
JSON.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import SingularFitWarning
from psychometrics.multilevel import compare, mixed

DATA = Path(__file__).resolve().parents[1] / "data"
REF = json.loads((DATA / "r_results" / "multilevel" / "nested_crossed.json").read_text())
FRAMES = {k: pd.DataFrame(v) for k, v in REF["data"].items()}

CASES = {
    # lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = TRUE)
    "pastes_reml": ("strength ~ 1 + (1 | batch/cask)", "pastes", True),
    # lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = FALSE)
    "pastes_ml": ("strength ~ 1 + (1 | batch/cask)", "pastes", False),
    # lmer(strength ~ 1 + (1 | batch) + (1 | sample), Pastes)   (sample = the cask:batch id)
    "pastes_sample": ("strength ~ 1 + (1 | batch) + (1 | sample)", "pastes", True),
    # lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = TRUE)
    "penicillin_reml": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin", True),
    # lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = FALSE)
    "penicillin_ml": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin", False),
    # lmer(y ~ x + (1 | therapist/patient), therapy, REML = TRUE)
    "therapy_reml": ("y ~ x + (1 | therapist/patient)", "therapy", True),
    # lmer(y ~ x + (1 | therapist/patient), therapy, REML = FALSE)
    "therapy_ml": ("y ~ x + (1 | therapist/patient)", "therapy", False),
    # lmer(y ~ x + month + (1 + month | therapist) + (1 | therapist:patient), therapy)  -- singular
    "therapy_slope": ("y ~ x + month + (1 + month | therapist) + (1 | therapist:patient)",
                      "therapy", True),
    # lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = TRUE)
    "therapy2_slope_reml": ("y ~ x + month + (1 | therapist) + (1 + month | therapist:patient)",
                            "therapy2", True),
    # lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2, REML = FALSE)
    "therapy2_slope_ml": ("y ~ x + month + (1 | therapist) + (1 + month | therapist:patient)",
                          "therapy2", False),
}
INTERIOR = [k for k in CASES if not REF[k]["isSingular"]]
_FITS: dict = {}


def _fit(key, at_theta=False):
    if (key, at_theta) not in _FITS:
        formula, frame, reml = CASES[key]
        theta = list(REF[key]["theta"].values()) if at_theta else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SingularFitWarning)
            _FITS[key, at_theta] = mixed(formula, FRAMES[frame], reml=reml, theta=theta)
    return _FITS[key, at_theta]


@pytest.mark.parametrize("key", list(CASES))
def test_loglik_never_below_lme4(key):
    fit = _fit(key)
    ref = REF[key]
    assert fit.converged
    # logLik(fit): ours is never below lme4's (1e-10 relative: the last digits of both)
    assert fit.loglik >= ref["logLik"] - 1e-10 * abs(ref["logLik"])
    assert fit.n_obs == ref["nobs"]
    # ngrps(fit)
    for g, nlev in ref["ngrps"].items():
        assert fit.n_groups[g] == nlev
    assert fit.singular == ref["isSingular"]


@pytest.mark.parametrize("key", INTERIOR)
def test_estimates_at_our_optimum(key):
    fit = _fit(key)
    ref = REF[key]
    # getME(fit, "theta"): names and order as lme4 (terms by decreasing number of levels)
    assert list(fit.theta.index) == list(ref["theta"])
    # lme4's theta is accurate to ~1e-5 (its optimiser's tolerance; our logLik is higher)
    assert_allclose(fit.theta.to_numpy(), list(ref["theta"].values()), rtol=2e-4, atol=1e-5)
    coefs = {r["row"]: r for r in ref["coefficients"]}
    tab = fit.fixed_effects.set_index("term")
    for term, r in coefs.items():                 # summary(fit)$coefficients
        assert_allclose(tab.loc[term, "est"], r["Estimate"], rtol=1e-5)
        assert_allclose(tab.loc[term, "se"], r["Std. Error"], rtol=1e-4)
        # Satterthwaite df of the random-slope models: 5e-4, because lme4 stops ~5e-6 short in
        # theta there (our logLik is 6.6e-8 higher) and these df move with theta; at lme4's own
        # theta they agree to 1e-4 (test_everything_at_lme4_theta)
        assert_allclose(tab.loc[term, "df"], r["df"], rtol=5e-4 if "slope" in key else 1e-4)
        assert_allclose(tab.loc[term, "t"], r["t value"], rtol=1e-4)
    # sigma(fit)
    assert_allclose(fit.sigma, ref["sigma"], rtol=1e-5)
    # as.data.frame(VarCorr(fit)): variances; lme4's own theta is accurate to ~1e-5 (its
    # optimiser's tolerance), so the variances to 5e-4
    vc = fit.random_effects
    for r in ref["VarCorr"]:
        row = vc[(vc["group"] == r["grp"]) & (vc["var1"].fillna("") == (r["var1"] or ""))
                 & (vc["var2"].fillna("") == (r["var2"] or ""))]
        assert len(row) == 1, r
        assert_allclose(row["variance"].iloc[0], r["vcov"], rtol=5e-4)


@pytest.mark.parametrize("key", list(CASES))
def test_everything_at_lme4_theta(key):
    """At lme4's theta every derived number is a deterministic function: tight agreement."""
    fit = _fit(key, at_theta=True)
    ref = REF[key]
    # logLik(fit)
    assert_allclose(fit.loglik, ref["logLik"], rtol=1e-10)
    if ref["REML"]:
        assert_allclose(fit.reml_criterion, ref["REMLcrit"], rtol=1e-10)   # REMLcrit(fit)
    assert_allclose(fit.aic, ref["AIC"], rtol=1e-10)                       # AIC(fit)
    assert_allclose(fit.bic, ref["BIC"], rtol=1e-10)                       # BIC(fit)
    assert_allclose(fit.sigma, ref["sigma"], rtol=1e-8)                    # sigma(fit)
    tab = fit.fixed_effects.set_index("term")
    for r in ref["coefficients"]:                  # summary(fit)$coefficients
        assert_allclose(tab.loc[r["row"], "est"], r["Estimate"], rtol=1e-8)
        assert_allclose(tab.loc[r["row"], "se"], r["Std. Error"], rtol=1e-8)
        if key in INTERIOR:
            assert_allclose(tab.loc[r["row"], "df"], r["df"], rtol=1e-4)
        # p ~ 1e-16 moves with the last digits of df: compared on the log scale
        assert_allclose(np.log(tab.loc[r["row"], "p_value"]), np.log(r["Pr(>|t|)"]), rtol=1e-4)
    vc = fit.random_effects
    assert len(vc) == len(ref["VarCorr"])
    for r in ref["VarCorr"]:                      # as.data.frame(VarCorr(fit))
        row = vc[(vc["group"] == r["grp"]) & (vc["var1"].fillna("") == (r["var1"] or ""))
                 & (vc["var2"].fillna("") == (r["var2"] or ""))]
        assert len(row) == 1, r
        assert_allclose(row["variance"].iloc[0], r["vcov"], rtol=1e-7, atol=1e-12)
        assert_allclose(row["sd_cor"].iloc[0], r["sdcor"], rtol=1e-7, atol=1e-12)
    # ranef(fit): conditional modes of every level of every grouping factor
    assert set(fit.ranef) == set(ref["ranef"])
    for g, rows in ref["ranef"].items():
        ours = fit.ranef[g]
        assert len(ours) == len(rows)
        for r in rows:
            for col, v in r.items():
                if col == "level":
                    continue
                assert_allclose(ours.loc[r["level"], col], v, rtol=1e-6, atol=1e-9)


def test_nested_equals_explicit_interaction():
    """(1 | therapist/patient) is (1 | therapist) + (1 | therapist:patient) (other label order)."""
    a = _fit("therapy_reml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        b = mixed("y ~ x + (1 | therapist) + (1 | therapist:patient)", FRAMES["therapy"])
    assert_allclose(b.loglik, a.loglik, rtol=1e-12)
    assert_allclose(b.fixef.to_numpy(), a.fixef.to_numpy(), rtol=1e-8)
    assert b.groups == ("therapist:patient", "therapist")
    lab = b.ranef["therapist:patient"].index
    assert "T01:1" in lab and "1:T01" in a.ranef["patient:therapist"].index


def test_fitted_and_residuals_add_up():
    fit = _fit("therapy_reml")
    df = FRAMES["therapy"]
    assert_allclose((fit.fitted() + fit.residuals()).to_numpy(), df["y"].to_numpy(), rtol=1e-12)
    shares = fit.variance_shares()
    assert_allclose(shares.sum(), 1.0)
    assert list(shares.index) == ["patient:therapist", "therapist", "Residual"]
    assert "therapist" in fit.summary().as_text()


@pytest.mark.parametrize("key", ["pastes_ml", "pastes_sample", "penicillin_reml", "therapy_reml",
                                 "therapy_slope", "therapy2_slope_ml"])
def test_sparse_paths_equal_dense(key, monkeypatch):
    """Large models factor A through the Schur complement of the first term (scalar terms) or by
    sparse LU (others); forced on the small reference cases they give the dense path's numbers
    and lme4's optimum."""
    from psychometrics.numerics import reml as reml_core

    formula, frame, reml = CASES[key]
    dense = _fit(key, at_theta=True)
    monkeypatch.setattr(reml_core, "DENSE_MAX", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        at = mixed(formula, FRAMES[frame], reml=reml, theta=list(REF[key]["theta"].values()))
        opt = mixed(formula, FRAMES[frame], reml=reml)
    assert not at._core.dense
    assert at._core._block == ("slope" not in key)
    assert_allclose(at.loglik, dense.loglik, rtol=1e-12)
    assert_allclose(at.fixef.to_numpy(), dense.fixef.to_numpy(), rtol=1e-10)
    assert_allclose(at.vcov.to_numpy(), dense.vcov.to_numpy(), rtol=1e-9)
    for g in dense.ranef:
        assert_allclose(at.ranef[g].to_numpy(), dense.ranef[g].to_numpy(), rtol=1e-8, atol=1e-12)
    assert opt.converged
    assert opt.loglik >= REF[key]["logLik"] - 1e-10 * abs(REF[key]["logLik"])


def test_block_path_partially_crossed(monkeypatch):
    """Partially crossed factors (one patient id under two therapists): the Schur complement is
    not diagonal and B is sparse (pairs of non-zeros), and still equals the dense path."""
    from psychometrics.numerics import reml as reml_core

    d = FRAMES["therapy"].assign(pid=lambda f: f["therapist"] + "_" + f["patient"].astype(str))
    d.loc[d["pid"].isin(["T02_3", "T05_1"]), "pid"] = "T01_3"
    formula = "y ~ x + (1 | therapist) + (1 | pid)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = mixed(formula, d)
        monkeypatch.setattr(reml_core, "DENSE_MAX", 0)
        at = mixed(formula, d, theta=dense.theta.to_numpy())
    core = at._core
    assert core._block and not core._B_dense and not core._S_diag
    assert_allclose(at.loglik, dense.loglik, rtol=1e-12)
    assert_allclose(at.fixef.to_numpy(), dense.fixef.to_numpy(), rtol=1e-10)
    assert_allclose(at.vcov.to_numpy(), dense.vcov.to_numpy(), rtol=1e-9)
    assert_allclose(at.ranef["pid"].to_numpy(), dense.ranef["pid"].to_numpy(), rtol=1e-8,
                    atol=1e-12)


def test_lrt_of_the_therapist_level():
    """compare() of a patient-only and a therapist/patient model, both refitted by ML."""
    # anova(lmer(y ~ x + (1 | therapist:patient)), lmer(y ~ x + (1 | therapist/patient)))
    ref = REF["lrt_therapist"]["table"]
    one = mixed("y ~ x + (1 | therapist:patient)", FRAMES["therapy"])
    tab = compare(one, _fit("therapy_reml"), names=["patient", "therapist/patient"])
    assert len(tab) == len(ref)
    for ours, r in zip(tab.to_dict("records"), ref):
        assert ours["npar"] == r["npar"]
        for col, rcol in [("aic", "AIC"), ("bic", "BIC"), ("loglik", "logLik"),
                          ("deviance", "deviance")]:
            assert_allclose(ours[col], r[rcol], rtol=1e-9)
        if r["Chisq"] is not None:
            assert_allclose(ours["chisq"], r["Chisq"], rtol=1e-6)
            assert ours["df"] == r["Df"]
            assert_allclose(ours["p_value"], r["Pr(>Chisq)"], rtol=1e-6)
