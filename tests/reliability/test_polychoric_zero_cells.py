"""Polychoric pairs whose optimum drops observed cells (issue 19 audit).

psych's objective ``-sum(tab * log P)`` leaves out cells with ``P <= 0``. On this sparse
30-row data set (found by the random audit) two pairs end at a rho where cells with
observations have model probability 0, so the reported rho is not a maximum-likelihood
estimate. psych 2.2.9 stops on these data
(tests/data/r_scripts/reliability/polychoric_zero_cells.R: "Something is wrong in
polycor"). Ours used to return the numbers silently; now it names the pairs.
"""
from __future__ import annotations

import pandas as pd
import pytest

from psychometrics.exceptions import DataQualityWarning
from psychometrics.reliability import polychoric

X = pd.DataFrame({
    "a": [2, 2, 2, 1, 2, 1, 2, 2, 2, 2, 3, 1, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 1],
    "b": [1, 3, 2, 2, 4, 1, 1, 2, 2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 3, 3, 2, 1, 2, 2, 2, 1, 2, 2, 1],
    "c": [2, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 4, 3, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 1, 2, 1, 2],
    "d": [1, 2, 2, 2, 4, 1, 2, 2, 1, 2, 2, 1, 2, 2, 3, 2, 1, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 2, 3, 2]})


def test_zero_probability_cells_are_reported():
    with pytest.warns(DataQualityWarning, match=r"\[\['c', 'a'\], \['d', 'a'\]\].*model probability 0"):
        res = polychoric(X, smooth=False)
    z = res.pairs.set_index(["item1", "item2"])["zero_probability_cells"]
    assert z[("c", "a")] == 3 and z[("d", "a")] == 3
    assert z.drop([("c", "a"), ("d", "a")]).eq(0).all()
