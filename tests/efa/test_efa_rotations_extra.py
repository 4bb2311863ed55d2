"""Rotations added for issue 21 against psych 2.2.9 / GPArotation 2022.10-2.

Reference: tests/data/r_results/validity/fa_rotations.json, made by
tests/data/r_scripts/validity/fa_rotations.R (each case keeps its R call).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics import efa
from psychometrics.efa.rotation import _CRITERIA, rotate
from psychometrics.exceptions import ConvergenceWarning, ModelSpecificationError
from tests.refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "validity"
                  / "fa_rotations.json").read_text())


@pytest.fixture(scope="module")
def items():
    return dataset("bfi").iloc[:, :15]


@pytest.mark.parametrize("case", ["bifactor", "biquartimin", "equamax", "simplimax", "oblimin_gam"])
def test_fa_rotation_matches_psych(items, case):
    ref = REF[case]  # psych::fa(bfi[, 1:15], nf, rotate = ..., [gam = ...])
    with warnings.catch_warnings():
        # simplimax stops at GPArotation's 1000-iteration limit in R too (same warning there)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = efa.fa(items, ref["nf"], rotation=ref["rotate"], gamma=ref["gam"])
    assert list(res.loadings.columns) == ref["colnames"]
    # $loadings
    assert_allclose(res.loadings.to_numpy(), np.array(ref["loadings"]), rtol=1e-8, atol=1e-10)
    # $rot.mat
    assert_allclose(res.rotation_matrix.to_numpy(), np.array(ref["rot_mat"]), rtol=1e-8, atol=1e-10)
    if ref["Phi"] is None:
        assert res.phi is None
    else:  # $Phi
        assert_allclose(res.phi.to_numpy(), np.array(ref["Phi"]), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,kw", [("bimin", {}), ("cf", {"kappa": 0.2}), ("oblimax", {}),
                                     ("oblimin", {"gam": 0.4})])
def test_new_criteria_gradients(name, kw):
    rng = np.random.default_rng(3)
    L = rng.normal(size=(9, 3))
    G, f = _CRITERIA[name](L, **kw)
    num = np.zeros_like(L)
    h = 1e-6
    for idx in np.ndindex(L.shape):
        e = np.zeros_like(L)
        e[idx] = h
        num[idx] = (_CRITERIA[name](L + e, **kw)[1] - _CRITERIA[name](L - e, **kw)[1]) / (2 * h)
    assert_allclose(G, num, rtol=1e-6, atol=1e-7)


def test_oblimax_degenerates_as_in_gparotation():
    ref = REF["oblimax_gpa"]  # GPArotation::oblimax(A): factors 1 and 3 collapse (Phi = 1)
    with pytest.warns(ConvergenceWarning, match="collinear"):
        rot = rotate(np.array(ref["A"]), "oblimax")
    assert_allclose(rot.phi, np.array(ref["Phi"]), rtol=0, atol=1e-6)


def test_gamma_only_with_oblimin(items):
    with pytest.raises(ModelSpecificationError, match="gamma= applies to the oblimin"):
        efa.fa(items, 3, rotation="varimax", gamma=0.5)
