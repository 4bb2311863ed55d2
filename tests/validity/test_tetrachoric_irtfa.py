"""reliability.tetrachoric and efa.irt_fa against psych 2.2.9
(tests/data/r_scripts/validity/tetrachoric_irtfa.R -> .../tetrachoric_irtfa.json)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.efa import irt_fa
from psychometrics.exceptions import DataQualityWarning, DataValidationError
from psychometrics.reliability import polychoric, tetrachoric
from tests.refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "validity"
                  / "tetrachoric_irtfa.json").read_text())


def _data(name):
    if name == "lsat6":
        return dataset("lsat6")
    if name == "zero_cell":
        return pd.DataFrame(REF["zero_cell_data"])
    return (dataset("bfi").iloc[:600, :10] > 3).astype(float).where(
        dataset("bfi").iloc[:600, :10].notna())


@pytest.mark.parametrize("name", ["lsat6", "zero_cell", "bfi_binary"])
def test_tetrachoric_equals_psych(name):
    ref = REF[name]  # psych::tetrachoric(x)$rho, $tau
    x = _data(name)
    if name == "zero_cell":
        with pytest.warns(DataQualityWarning, match="pair\\(s\\) b-a"):
            res = tetrachoric(x)
    else:
        res = tetrachoric(x)
    # R's optimize path reproduced step for step; the BVN CDF differs in the last digits
    assert_allclose(res.rho.to_numpy(), np.array(ref["rho"]), rtol=0, atol=1e-10)
    assert_allclose(res.tau["1"].to_numpy(), ref["tau"], rtol=1e-12, atol=1e-12)


def test_tetrachoric_equals_polychoric_without_empty_cells():
    x = _data("lsat6")
    # same likelihood; psych's tetrac works on counts and polyc on proportions, which changes
    # the last bits of R's optimize path (differences ~3e-12)
    assert_allclose(tetrachoric(x).rho.to_numpy(), polychoric(x).rho.to_numpy(), rtol=0,
                    atol=1e-10)


def test_irt_fa_one_factor():
    ref = REF["irt_fa_lsat6"]  # psych::irt.fa(lsat6, plot = FALSE)
    res = irt_fa(_data("lsat6"))
    f = res.fa.loadings.columns[0]
    assert_allclose(res.fa.loadings[f].to_numpy(), ref["loadings"], rtol=1e-6, atol=1e-8)
    assert_allclose(res.discrimination[f].to_numpy(), ref["discrimination"], rtol=1e-6, atol=1e-8)
    assert_allclose(res.difficulty[f]["1"].to_numpy(), ref["difficulty"], rtol=1e-6, atol=1e-8)
    assert len(res.to_frame()) == 5 and res.summary().as_text()


def test_irt_fa_two_factors():
    ref = REF["irt_fa_bfi2"]  # psych::irt.fa(x, nfactors = 2, plot = FALSE)
    res = irt_fa(_data("bfi_binary"), 2)
    assert list(res.fa.loadings.columns) == ref["colnames"]
    assert_allclose(res.fa.loadings.to_numpy(), np.array(ref["loadings"]), rtol=1e-6, atol=1e-8)
    assert_allclose(res.discrimination.to_numpy(), np.array(ref["discrimination"]), rtol=1e-6,
                    atol=1e-8)
    for f, dif in zip(ref["colnames"], ref["difficulty"], strict=True):
        assert_allclose(res.difficulty[f]["1"].to_numpy(), dif, rtol=1e-6, atol=1e-8)


def test_tetrachoric_bad_input():
    with pytest.raises(DataValidationError, match="not dichotomous"):
        tetrachoric(pd.DataFrame({"a": [0, 1, 2, 1], "b": [0, 1, 1, 0]}))
    with pytest.raises(DataValidationError, match="'c'.*no variance"):
        tetrachoric(pd.DataFrame({"a": [0, 1, 0, 1], "c": [1, 1, 1, 1]}))
