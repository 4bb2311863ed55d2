"""DIF by gender on bfi N1-N5 against OpenMx (multiple-group BA81) and MASS::polr
(tests/data/r_scripts/irt/dif_bfi.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError
from psychometrics.irt import dif_lr, dif_ordinal
from psychometrics.irt.dif import _split_groups, fit_multigroup
from refdata import dataset

R = Path(__file__).resolve().parents[1] / "data" / "r_results" / "irt"
ITEMS = ["N1", "N2", "N3", "N4", "N5"]


@pytest.fixture(scope="module")
def ref():
    return json.loads((R / "dif_bfi.json").read_text())


@pytest.fixture(scope="module")
def data():
    d = dataset("bfi")
    return d.loc[d[ITEMS].notna().all(axis=1), ITEMS + ["gender"]]


@pytest.fixture(scope="module")
def lr_n2(data):
    return dif_lr(data, "gender", ITEMS, anchors=["N1", "N3", "N4", "N5"])


def test_multigroup_logliks(data, ref):
    resp, levels, gl = _split_groups(data, "gender", ITEMS, "graded", None, "ml")
    assert levels[0] == 1                        # male first: the reference group
    for free, key in [((), "constrained"), (("N2",), "N2_free")]:
        fit = fit_multigroup(resp, levels, gl, "graded", free)
        r = ref["multigroup"][key]
        assert fit.converged, fit.message
        # -f$output$minimum / 2 (SLSQP, max |gradient| <= 9e-5 on the -2LL scale)
        assert_allclose(fit.loglik, r["logLik"], rtol=0, atol=1e-5)
        assert fit.loglik >= r["logLik"] - 1e-7
        # length(f$output$estimate)
        assert fit.n_par == r["n_par"]
        mu, var = fit.latent(2)
        # f$output$estimate["female_mean"], ["female_var"]; rtol 1e-4 covers SLSQP's stop
        assert_allclose(mu, r["female_mean"], rtol=1e-4)
        assert_allclose(var, r["female_var"], rtol=1e-4)


def test_lr_statistic_against_openmx(lr_n2, ref):
    row = lr_n2.frame.set_index("item").loc["N2"]
    chisq = 2 * (ref["multigroup"]["N2_free"]["logLik"] - ref["multigroup"]["constrained"]["logLik"])
    assert_allclose(row["chisq"], chisq, rtol=0, atol=2e-5)
    assert row["df"] == 6
    assert row["converged"]


def test_anchor_schemes_agree(data, lr_n2):
    """With all other items as anchors, the 'drop' scheme fits the same two models."""
    full = dif_lr(data, "gender", ITEMS).frame.set_index("item")
    assert list(full.index) == ITEMS
    assert_allclose(full.loc["N2", "chisq"], lr_n2.frame.set_index("item").loc["N2", "chisq"],
                    rtol=1e-6)
    assert (full["p_value"].between(0, 1)).all()
    # effect sizes are present and finite; N4 has the largest LR statistic by gender in polr too
    assert np.isfinite(full[["delta_a", "delta_b", "sids", "uids"]].to_numpy()).all()
    assert (full["uids"] >= np.abs(full["sids"]) - 1e-12).all()


def test_ordinal_logistic_against_polr(data, ref):
    res = dif_ordinal(data, "gender", ITEMS, matching="sum").frame.set_index("item")
    for r in ref["ordinal"]:
        row = res.loc[r["item"]]
        # 2 * (logLik(m2) - logLik(m1)) etc. from MASS::polr
        assert_allclose(row["loglik_1"], r["ll1"], rtol=1e-8)
        assert_allclose(row["loglik_2"], r["ll2"], rtol=1e-8)
        assert_allclose(row["loglik_3"], r["ll3"], rtol=1e-8)
        assert_allclose(row["chisq_12"], 2 * (r["ll2"] - r["ll1"]), rtol=1e-5, atol=1e-5)
        assert_allclose(row["chisq_23"], 2 * (r["ll3"] - r["ll2"]), rtol=1e-5, atol=1e-5)
        # McFadden R2 change (lordif's default pseudo-R2): (ll1 - ll3) / ll0
        assert_allclose(row["r2_mcfadden_13"], (r["ll1"] - r["ll3"]) / r["ll0"], rtol=1e-5,
                        atol=1e-8)
        # |coef(m1)["ss"] - coef(m2)["ss"]| / |coef(m1)["ss"]|; atol 5e-5: polr stops optim
        # at reltol 1e-8 on the deviance, which leaves its coefficients ~1e-5 from the
        # optimum (our log-likelihoods are not lower than polr's, checked below)
        assert_allclose(row["beta_change"],
                        abs(r["beta1_m1"] - r["beta1_m2"]) / abs(r["beta1_m1"]), rtol=1e-4,
                        atol=5e-5)
        for k in (1, 2, 3):
            assert row[f"loglik_{k}"] >= r[f"ll{k}"] - 1e-8


def test_ordinal_theta_matching_runs(data):
    res = dif_ordinal(data, "gender", ITEMS).frame
    assert res["converged"].all() and (res["n_obs"] == len(data)).all()


def test_dif_errors(data):
    d = data.copy()
    d["gender"] = 1
    with pytest.raises(DataValidationError, match="at least two groups"):
        dif_lr(d, "gender", ITEMS)
    d = data.copy()
    mask = (d["gender"] == 1) & (d["N5"] == 6)
    d.loc[mask, "N5"] = 5
    with pytest.raises(DataValidationError, match=r"group 1.*'N5'.*6.*never chosen"):
        dif_lr(d, "gender", ITEMS)


def test_ordinal_rows_without_group_are_left_out_and_counted(data):
    d = data.copy()
    d.loc[d.index[:10], "gender"] = np.nan
    res = dif_ordinal(d, "gender", ITEMS, matching="sum")
    assert (res.frame["n_obs"] == len(d) - 10).all()
    assert "10 respondent(s) without a group" in res.notes[0]
