"""psychometrics.validity.cor_ci against psych::cor.ci (psych 2.2.9).

Reference values: tests/data/r_results/validity/cor_ci.json, made by
tests/data/r_scripts/validity/cor_ci.R (each entry keeps its R call).

R's bootstrap draws (R's RNG inside mclapply) cannot be reproduced, so:

* the deterministic parts equal psych to ~1e-15 (rtol 1e-10): ``rho`` (items, keyed scales,
  overlap-corrected scales, Spearman), the correlation-matrix route (``cor.Ci``), and the
  summary of R's *own* replicates (stored in the JSON): means, sds, normal intervals,
  empirical quantiles, tci, p;
* our bootstrap (numpy's generator, fixed seed) meets psych's long runs (n.iter = 4000)
  within Monte-Carlo error: every interval end, on the Fisher-z scale, within 5 standard
  errors of the difference of two independent 4000-sample estimates.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError
from psychometrics.validity import CorCiResult, cor_ci
from psychometrics.validity._cor_ci import _PairwisePearson, _summarise
from tests.refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "validity"
                  / "cor_ci.json").read_text())
TIGHT = dict(rtol=1e-10, atol=1e-13)


def bfi(k: int) -> pd.DataFrame:
    # bfi[, 1:k], with its missing values (psych: pairwise correlations)
    return dataset("bfi").iloc[:, :k]


CASES = {
    "items": lambda: (bfi(10), {}),
    "keyed": lambda: (bfi(25), dict(keys=REF["keys"])),
    "overlap": lambda: (bfi(25), dict(keys=REF["keys_overlap"], overlap=True)),
    "items_p10": lambda: (bfi(10), dict(level=0.90)),
    "spearman": lambda: (bfi(5), dict(method="spearman")),
}


def test_reference_version():
    assert REF["versions"]["psych"] == "2.2.9"


@pytest.mark.parametrize("case", list(CASES))
def test_rho_equals_psych(case):
    # REF[case]["call"]$rho, e.g. cor.ci(bfi[, 1:25], keys, n.iter = 100, plot = FALSE)$rho
    data, kw = CASES[case]()
    ref = REF[case]
    res = cor_ci(data, n_iter=2, seed=0, **kw)
    names = list(ref["rho"])
    assert list(res.rho.index) == names and list(res.rho.columns) == names
    assert_allclose(res.rho.to_numpy(), [[ref["rho"][a][b] for b in names] for a in names],
                    **TIGHT)
    # the pair table and the replicate columns follow psych's r[lower.tri(r)] order
    assert len(res.table) == len(ref["pairs"]) == res.replicates.shape[1]
    iu = np.triu_indices(len(names), 1)
    assert list(res.table["var1"]) == [names[i] for i in iu[0]]
    assert list(res.table["var2"]) == [names[j] for j in iu[1]]
    assert_allclose(res.table["r"], res.rho.to_numpy()[iu], rtol=0, atol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_summary_of_psych_replicates_equals_psych(case):
    # psych's summary of its own replicates, REF[case]["replicates"] (cc$replicates)
    ref = REF[case]
    level = CASES[case]()[1].get("level", 0.95)
    s = _summarise(np.array(ref["replicates"], dtype=float), level)
    ci = ref["ci"]
    assert_allclose(s["ci_lower"], ci["lower"], **TIGHT)              # cc$ci$lower
    assert_allclose(s["ci_upper"], ci["upper"], **TIGHT)              # cc$ci$upper
    assert_allclose(s["empirical_ci_lower"], ci["low.e"], **TIGHT)    # cc$ci$low.e
    assert_allclose(s["empirical_ci_upper"], ci["up.e"], **TIGHT)     # cc$ci$up.e
    assert_allclose(s["p_value"], ci["p"], rtol=1e-10, atol=1e-15)    # cc$ci$p
    assert_allclose(s["boot_mean"], ref["means"], **TIGHT)            # cc$means
    assert_allclose(s["boot_sd"], ref["sds"], **TIGHT)                # cc$sds
    assert_allclose(s["z"], ref["tci"], rtol=1e-10)                   # cc$tci
    assert_allclose(s["p_value"] / 2, ref["ptci"], rtol=1e-10, atol=1e-15)  # cc$ptci
    assert len(ref["replicates"]) == ref["n.iter"] == 100


def test_correlation_matrix_route_equals_cor_Ci():
    # cor.ci(cor(na.omit(bfi[, 1:25])), n = 2436, plot = FALSE)$ci  (psych:::cor.Ci)
    ref = REF["matrix"]
    X = bfi(25).dropna()
    res = cor_ci(X.corr(), n_obs=ref["n"])
    assert res.replicates is None and res.n_obs == 2436
    assert list(res.table.columns) == ["var1", "var2", "r", "ci_lower", "ci_upper"]
    assert_allclose(res.table["r"], ref["ci"]["r"], **TIGHT)
    assert_allclose(res.table["ci_lower"], ref["ci"]["lower"], **TIGHT)
    assert_allclose(res.table["ci_upper"], ref["ci"]["upper"], **TIGHT)
    assert [f"{a}-{b}" for a, b in zip(res.table.var1, res.table.var2)] == ref["pairs"]


@pytest.mark.parametrize("case", ["long_items", "long_keys"])
def test_bootstrap_within_monte_carlo_error(case):
    # set.seed(22); cor.ci(bfi[, 1:10], n.iter = 4000)$ci and
    # set.seed(23); cor.ci(bfi[, 1:25], keys, n.iter = 4000)$ci
    ref = REF[case]
    B = ref["n.iter"]
    data = bfi(10) if case == "long_items" else bfi(25)
    kw = {} if case == "long_items" else dict(keys=REF["keys"])
    res = cor_ci(data, n_iter=B, seed=2026, **kw)
    s_z = np.arctanh(np.array(ref["sds"]))           # bootstrap SD of Fisher z (psych's)
    # SE of the difference of two independent B-sample estimates, Fisher-z scale:
    # normal ends mean +/- 1.96 sd: sqrt(2/B + 1.96^2/B) sd; 2.5% / 97.5% quantiles of a
    # normal: sqrt(2) sqrt(.025 .975 / B) / phi(1.96) sd = 3.78 sd / sqrt(B)
    se_normal = s_z * np.sqrt((2 + 1.959964 ** 2) / B)
    se_quant = 3.78 * s_z / np.sqrt(B)
    for ours, theirs, se in (("ci_lower", "lower", se_normal), ("ci_upper", "upper", se_normal),
                             ("empirical_ci_lower", "low.e", se_quant),
                             ("empirical_ci_upper", "up.e", se_quant)):
        diff = np.arctanh(res.table[ours].to_numpy()) - np.arctanh(np.array(ref["ci"][theirs]))
        assert np.all(np.abs(diff) < 5 * se), (ours, np.max(np.abs(diff) / se))
    # the bootstrap SD itself: relative SE of a difference of two SD estimates 1/sqrt(B)
    ratio = np.arctanh(res.table["boot_sd"].to_numpy()) / s_z
    assert np.all(np.abs(ratio - 1) < 5 / np.sqrt(B)), ratio
    # the point estimates are not random: equal to psych's rho
    names = list(ref["rho"])
    iu = np.triu_indices(len(names), 1)
    rho = np.array([[ref["rho"][a][b] for b in names] for a in names])
    assert_allclose(res.table["r"], rho[iu], **TIGHT)


def test_resampling_uses_the_rows_drawn():
    # the weighted pairwise Pearson of a draw equals cor(x[draw, ], use = "pairwise")
    x = bfi(10).to_numpy(dtype=float)
    draw = np.random.default_rng(3).integers(0, len(x), len(x))
    w = np.bincount(draw, minlength=len(x)).astype(float)
    assert_allclose(_PairwisePearson(x)(w), pd.DataFrame(x[draw]).corr().to_numpy(),
                    rtol=1e-12, atol=1e-14)


def test_seed_reproducible():
    a = cor_ci(bfi(5), n_iter=20, seed=7)
    b = cor_ci(bfi(5), n_iter=20, seed=7)
    c = cor_ci(bfi(5), n_iter=20, seed=8)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["ci_lower"], c.table["ci_lower"])
    assert isinstance(a, CorCiResult) and a.replicates.shape == (20, 10)
    assert "bootstrap" in a.summary().as_text()


@pytest.mark.parametrize("kw, match", [
    (dict(n_iter=1), "n_iter="),
    (dict(level=95), "level="),
    (dict(method="biserial"), "method="),
    (dict(overlap=True), "needs keys="),
    (dict(keys={"a": ["A1", "Z9"]}), "Z9"),
    (dict(keys={"a": "A1"}), "non-empty list"),
    (dict(n_obs=100), "n_obs= is for a correlation matrix"),
])
def test_bad_arguments_are_named(kw, match):
    with pytest.raises(DataValidationError, match=match):
        cor_ci(bfi(5), **kw)


def test_matrix_needs_n_obs():
    r = bfi(5).corr()
    with pytest.raises(DataValidationError, match="n_obs="):
        cor_ci(r)
    with pytest.raises(DataValidationError, match="keys= needs raw responses"):
        cor_ci(r, keys={"a": ["A1", "A2"]}, n_obs=100)
