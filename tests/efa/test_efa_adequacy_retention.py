"""KMO, Bartlett, eigenvalues, parallel analysis and Velicer's MAP against psych 2.2.9."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset, reference
from psychometrics.efa import (
    bartlett,
    eigenvalues,
    kmo,
    parallel_analysis,
    velicer_map,
)

EXTRA = Path(__file__).parents[1] / "data" / "r_results" / "efa" / "efa_extra.json"


def extra() -> dict:
    with open(EXTRA, encoding="utf-8") as fh:
        return json.load(fh)


def X() -> pd.DataFrame:
    # X <- na.omit(bfi[, 1:25])
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


def B() -> pd.DataFrame:
    return dataset("bfi").iloc[:, :25]


CLOSED = dict(rtol=1e-10, atol=0)


def test_correlation_matrix_equals_r():
    # cor(X)
    from psychometrics.efa import pairwise_cor
    ref = reference("case5_efa")["correlation_matrix"]
    items = list(ref)
    ours = pairwise_cor(X()[items].to_numpy(dtype=float))
    desired = np.array([[ref[r][c] for c in items] for r in items])
    assert_allclose(ours, desired, **CLOSED)


def test_kmo_complete_cases():
    # psych::KMO(X)
    ref = reference("case5_efa")["KMO"]
    res = kmo(X())
    assert_allclose(res.msa, ref["MSA"], **CLOSED)
    assert list(res.msa_items.index) == list(ref["MSAi"])
    assert_allclose(res.msa_items.to_numpy(), list(ref["MSAi"].values()), **CLOSED)
    tidy = res.to_frame()
    assert list(tidy.columns) == ["item", "msa"] and len(tidy) == 25


def test_kmo_pairwise():
    # psych::KMO(bfi[, 1:25])  (pairwise-complete correlations)
    ref = extra()["KMO_pairwise"]
    res = kmo(B())
    assert_allclose(res.msa, ref["MSA"], **CLOSED)
    assert list(res.msa_items.index) == list(ref["MSAi"])
    assert_allclose(res.msa_items.to_numpy(), list(ref["MSAi"].values()), **CLOSED)


def test_bartlett_complete_cases():
    # psych::cortest.bartlett(cor(X), n = nrow(X))
    ref = reference("case5_efa")["bartlett"]
    for res in (bartlett(X()),
                bartlett(pd.DataFrame(np.corrcoef(X().to_numpy(float), rowvar=False)),
                         n_obs=len(X()))):
        assert_allclose(res.chisq, ref["chisq"], **CLOSED)
        assert_allclose(res.df, ref["df"], **CLOSED)
        assert_allclose(res.p_value, ref["p.value"], rtol=1e-10, atol=1e-300)


def test_bartlett_pairwise():
    # psych::cortest.bartlett(bfi[, 1:25])  (n = 2800 rows)
    ref = extra()["bartlett_pairwise"]
    res = bartlett(B())
    assert res.n_obs == len(B())
    assert_allclose(res.chisq, ref["chisq"], **CLOSED)
    assert_allclose(res.df, ref["df"], **CLOSED)
    assert_allclose(res.p_value, ref["p.value"], rtol=1e-10, atol=1e-300)


def test_eigenvalues():
    # eigen(cor(X), symmetric = TRUE, only.values = TRUE)$values
    assert_allclose(eigenvalues(X()), reference("case5_efa")["eigenvalues_R"], **CLOSED)


# --------------------------------------------------------------------------- parallel analysis
@pytest.fixture(scope="module")
def pa42():
    return parallel_analysis(X(), seed=42)


def test_parallel_observed_values(pa42):
    # set.seed(42); psych::fa.parallel(X, fm = "minres", fa = "both", plot = FALSE)
    ref = reference("case5_efa")["fa_parallel"]
    assert_allclose(pa42.observed_pc, ref["pc.values_observed"], **CLOSED)       # $pc.values
    # $fa.values: eigenvalues of the 1-factor minres reduced matrix (optimiser output;
    # we take psych's L-BFGS-B path, so they agree to ~1e-12)
    assert_allclose(pa42.observed_fa, ref["fa.values_observed"], rtol=1e-10, atol=1e-12)


def test_parallel_observed_values_pairwise():
    # psych::fa.parallel(bfi[, 1:25], plot = FALSE)$pc.values / $fa.values
    ref = extra()["fa_parallel_pairwise_observed"]["pc.values"]
    res = parallel_analysis(B(), seed=1, n_iter=2)
    assert_allclose(res.observed_pc, ref["pc"], **CLOSED)
    assert_allclose(res.observed_fa, ref["fa"], rtol=1e-10, atol=1e-12)


def test_parallel_seed_reproducible(pa42):
    again = parallel_analysis(X(), seed=42)
    pd.testing.assert_frame_equal(again.table, pa42.table)
    np.testing.assert_array_equal(again.simulated, pa42.simulated)
    other = parallel_analysis(X(), seed=43)
    assert not np.allclose(other.simulated, pa42.simulated)


def test_parallel_simulated_properties(pa42):
    p = 25
    t = pa42.table
    assert pa42.simulated.shape == (20, 4 * p)   # resampled pc, fa; simulated pc, fa
    sim_pc = pa42.simulated[:, 2 * p:3 * p]
    # eigenvalues of a correlation matrix sum to p and are sorted
    assert_allclose(sim_pc.sum(axis=1), p, rtol=1e-10)
    assert np.all(np.diff(sim_pc, axis=1) <= 1e-12)
    assert_allclose(t["sim_pc_mean"], sim_pc.mean(axis=0), rtol=1e-12)
    assert_allclose(t["sim_pc_quantile"], np.quantile(sim_pc, 0.95, axis=0), rtol=1e-12)
    # random normal data: leading eigenvalue a little above 1, none near the observed 5.1
    assert 1.0 < t["sim_pc_mean"].iloc[0] < 1.5
    assert (t["sim_fa_quantile"] >= t["sim_fa_mean"] - 1e-12).all()
    # the count follows psych's rule: leading observed values above the criterion
    above = t["observed_pc"].to_numpy() > t["sim_pc_quantile"].to_numpy()
    k = int(np.argmin(above))
    assert pa42.n_components == k and above[:k].all()
    above_f = t["observed_fa"].to_numpy() > t["sim_fa_quantile"].to_numpy()
    assert pa42.n_factors == int(np.argmin(above_f))


def test_parallel_mean_criterion_and_pc_only():
    res = parallel_analysis(X(), seed=7, n_iter=5, criterion="mean", fa="pc", resample=False)
    assert res.n_factors is None
    assert res.table["sim_fa_mean"].isna().all()
    above = res.table["observed_pc"].to_numpy() > res.table["sim_pc_mean"].to_numpy()
    assert res.n_components == int(np.argmin(above))
    assert res.simulated.shape == (5, 25)


def test_parallel_matrix_input_needs_n_obs():
    from psychometrics.exceptions import ModelSpecificationError
    R = np.corrcoef(X().to_numpy(float), rowvar=False)
    with pytest.raises(ModelSpecificationError, match="n_obs"):
        parallel_analysis(R)
    res = parallel_analysis(R, n_obs=500, seed=3, n_iter=3)
    assert res.table["resampled_pc_mean"].isna().all()   # no raw data to resample
    assert res.n_obs == 500


# --------------------------------------------------------------------------- MAP
def test_velicer_map():
    # psych::vss(X, n = 8, plot = FALSE)$map
    ref = extra()["vss_map"]["map"]
    res = velicer_map(X(), 8)
    assert_allclose(res.table["map"].to_numpy(), ref, **CLOSED)
    assert res.n_factors == int(np.argmin(ref)) + 1


def test_parallel_observed_factor_values_ml_two_factors():
    # psych::fa.parallel(X, fm = "ml", nfactors = 2, fa = "fa")$fa.values
    ref = extra()["fa_parallel_ml_nf2_observed"]["fa.values"]
    res = parallel_analysis(X(), method="ml", extract_factors=2, fa="fa", n_iter=2, seed=2)
    assert_allclose(res.observed_fa, ref, rtol=1e-10, atol=1e-12)
    assert res.n_components is None and res.table["sim_pc_mean"].notna().all()
