"""Correlated-factors graded response model against OpenMx (tests/data/r_scripts/irt/
mirt_bfi.R: bfi N1-N5 and E1-E5 with E1, E2 reverse-scored, 21 x 21 grid on [-5, 5],
SLSQP).  OpenMx's optimiser here works with numerical gradients; our optimum is checked
to be at least as high and the estimates agree to the precision its stop allows."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.irt import fit_mirt
from refdata import dataset

R = Path(__file__).resolve().parents[1] / "data" / "r_results" / "irt" / "mirt_bfi.json"
N = ["N1", "N2", "N3", "N4", "N5"]
E = ["E1", "E2", "E3", "E4", "E5"]
# OpenMx stops SLSQP with max |d(-2LL)| = 2.7e-4: log-likelihoods agree to 1e-6, estimates
# to 1e-4 relative (the estimate tolerance)
TOL_LL, TOL_EST = 1e-6, 1e-4


@pytest.fixture(scope="module")
def fitted():
    d = dataset("bfi")[N + E].dropna()
    d["E1"] = 7 - d["E1"]
    d["E2"] = 7 - d["E2"]
    return fit_mirt(d, {"N": N, "E": E})


def test_against_openmx(fitted):
    ref = json.loads(R.read_text())
    assert fitted.converged, fitted.message
    # length(f$output$estimate)
    assert fitted.n_par == ref["n_par"]
    assert fitted.n_obs == ref["n_obs"]
    # -f$output$minimum / 2
    assert fitted.loglik >= ref["logLik"] - 1e-6
    assert_allclose(fitted.loglik, ref["logLik"], rtol=0, atol=TOL_LL)
    # f$cov$values[1, 2]
    assert_allclose(fitted.correlations.loc["N", "E"], ref["rho"], rtol=TOL_EST)
    tab = fitted.to_frame().set_index(["item", "param"])
    for j, it in enumerate(ref["items"]):
        # f$item$values[c("N","E"), it] (the item's own factor)
        assert_allclose(tab.loc[(it, "a"), "est"], ref["slope"][j], rtol=TOL_EST)
        for k, c in enumerate(ref["c"][j]):
            assert_allclose(tab.loc[(it, f"c{k + 1}"), "est"], c, rtol=TOL_EST, atol=TOL_EST)


def test_simple_structure_required():
    d = dataset("bfi")[N + E].dropna()
    with pytest.raises(ModelSpecificationError, match="listed under two factors"):
        fit_mirt(d, {"N": N, "E": E + ["N1"]})
    with pytest.raises(ModelSpecificationError, match="at least two factors"):
        fit_mirt(d, {"N": N})


def test_orthogonal_factors_equal_separate_unidimensional_fits():
    """With the correlation fixed at 0 the two-dimensional likelihood on the product grid
    factorises: it must equal the sum of the two unidimensional fits on the same points."""
    from psychometrics.irt import fit_irt
    d = dataset("bfi")[N + E].dropna().iloc[:1200]
    orth = fit_mirt(d, {"N": N, "E": E}, correlated=False)
    uni = [fit_irt(d[x], qpoints=21, qwidth=5.0) for x in (N, E)]
    assert orth.converged and all(u.converged for u in uni)
    assert_allclose(orth.loglik, uni[0].loglik + uni[1].loglik, rtol=0, atol=1e-6)
    assert_allclose(orth.params, np.concatenate([u.params for u in uni]), rtol=1e-5,
                    atol=1e-6)
    assert_allclose(np.sqrt(np.diag(orth.vcov)),
                    np.concatenate([u.se for u in uni]), rtol=1e-4)
    # EAP scores factorise too: each factor's EAP equals the unidimensional one
    from psychometrics.irt import score_persons
    sc = orth.scores()
    for name, u in zip(("N", "E"), uni):
        one = score_persons(u).frame
        assert_allclose(sc[name], one["est"], rtol=1e-5, atol=1e-6)
        assert_allclose(sc[f"{name}_se"], one["se"], rtol=1e-5)


def test_correlated_scores(fitted):
    sc = fitted.scores()
    assert len(sc) == fitted.n_obs
    assert (sc[["N_se", "E_se"]] > 0).all().all()
    # the EAPs correlate negatively, as the factors do
    assert np.corrcoef(sc["N"], sc["E"])[0, 1] < 0
