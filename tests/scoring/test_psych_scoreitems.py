"""Scale scores equal psych::scoreItems on bfi, every person, every scale.

Reference: tests/data/r_results/scoring/bfi_scoreitems.csv, made by
tests/data/r_scripts/scoring/bfi_scoreitems.R (psych 2.2.9) with psych's bfi.keys.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from psychometrics.scoring import score
from tests.conftest import DATA, dataset

HERE = Path(__file__).parent
SCALES = ["agree", "conscientious", "extraversion", "neuroticism", "openness"]
REF = DATA / "r_results" / "scoring" / "bfi_scoreitems.csv"


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF)


@pytest.fixture(scope="module")
def bfi():
    return dataset("bfi")


def _check(ours, ref, variant):
    assert len(ours.scores) == len(ref)
    for scale in SCALES:
        desired = ref[f"{variant}__{scale}"].to_numpy(dtype=float)
        assert_allclose(ours.scores[scale].to_numpy(), desired, rtol=1e-10, atol=0)


def test_impute_none_mean(bfi, ref):
    # psych::scoreItems(keys, bfi[, 1:25], impute = "none", totals = FALSE, min = 1, max = 6)$scores
    res = score(bfi, HERE / "bfi_mean.yaml")
    _check(res, ref, "none_mean")
    for scale in SCALES:
        # rowSums(!is.na(bfi[, items]))
        assert_array_equal(res.scores[f"{scale}_n_answered"].to_numpy(),
                           ref[f"n_answered__{scale}"].to_numpy())
        blanks = ref[f"n_answered__{scale}"].to_numpy() < 5
        expected = np.where(blanks, "prorated", "complete")
        assert_array_equal(res.scores[f"{scale}_status"].astype(str).to_numpy(), expected)


def test_impute_mean_mean(bfi, ref):
    # psych::scoreItems(keys, bfi[, 1:25], impute = "mean", totals = FALSE, min = 1, max = 6)$scores
    res = score(bfi, HERE / "bfi_mean.yaml", impute="item_mean")
    _check(res, ref, "mean_mean")
    # colMeans(bfi[, 1:25], na.rm = TRUE)
    assert_allclose(res.item_means.to_numpy(),
                    bfi.iloc[:, :25].mean(axis=0).to_numpy(), rtol=1e-12)


def test_impute_mean_sum(bfi, ref):
    # psych::scoreItems(keys, bfi[, 1:25], impute = "mean", totals = TRUE, min = 1, max = 6)$scores
    res = score(bfi, HERE / "bfi_sum.yaml", impute="item_mean")
    _check(res, ref, "mean_sum")


def test_impute_none_sum(bfi, ref):
    # psych::scoreItems(keys, bfi[, 1:25], impute = "none", totals = TRUE, min = 1, max = 6)$scores
    # psych sums the answered items without proration; we prorate (mean x k). Complete rows
    # must be equal; incomplete rows must equal psych's mean (totals = FALSE) times 5.
    res = score(bfi, HERE / "bfi_sum.yaml")
    for scale in SCALES:
        complete = ref[f"n_answered__{scale}"].to_numpy() == 5
        ours = res.scores[scale].to_numpy()
        assert_allclose(ours[complete], ref[f"none_sum__{scale}"].to_numpy()[complete],
                        rtol=1e-10, atol=0)
        assert_allclose(ours[~complete], 5 * ref[f"none_mean__{scale}"].to_numpy()[~complete],
                        rtol=1e-10, atol=0)
        assert (~complete).sum() > 0


def test_bfi_as_long_data_gives_the_same_scores(bfi, ref):
    # the same reference, reached through long data
    wide = bfi.iloc[:, :25].assign(person=np.arange(len(bfi)))
    long = wide.melt(id_vars="person", var_name="item", value_name="response")
    long = long.sample(frac=1.0, random_state=3)  # any row order
    res = score(long, HERE / "bfi_mean.yaml", id="person")
    got = res.scores.set_index("person").sort_index()
    for scale in SCALES:
        # psych::scoreItems(keys, bfi[, 1:25], impute = "none", totals = FALSE)$scores
        assert_allclose(got[scale].to_numpy(), ref[f"none_mean__{scale}"].to_numpy(),
                        rtol=1e-10, atol=0)
