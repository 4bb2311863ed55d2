"""Factor scores, weights and their R2 against psych::fa(..., scores = ...)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset
from psychometrics.efa import fa
from psychometrics.exceptions import ModelSpecificationError

REF = Path(__file__).parents[1] / "data" / "r_results" / "efa" / "efa_scores.json"
TOL = dict(rtol=1e-6, atol=1e-9)   # built on the iterative fit


def ref() -> dict:
    with open(REF, encoding="utf-8") as fh:
        return json.load(fh)


def X():
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


CASES = {
    "ml_oblimin_regression": (lambda: X(), dict(method="ml"), "regression"),
    "ml_oblimin_tenBerge": (lambda: X(), dict(method="ml"), "tenBerge"),
    "ml_oblimin_Bartlett": (lambda: X(), dict(method="ml"), "Bartlett"),
    "minres_varimax_tenBerge": (lambda: X(), dict(rotation="varimax"), "tenBerge"),
    "pairwise_minres_oblimin_regression": (lambda: dataset("bfi").iloc[:, :25], {},
                                           "regression"),
}


def _matrix(d):
    rows = list(d)
    cols = list(d[rows[0]])
    return rows, cols, np.array([[np.nan if d[r][c] is None else d[r][c] for c in cols]
                                 for r in rows], dtype=float)


@pytest.mark.parametrize("key", list(ref()))
def test_scores_against_psych(key):
    if key == "versions":
        return
    r = ref()[key]           # see r["call"]
    data_fn, kw, method = CASES[key]
    data = data_fn()
    res = fa(data, n_factors=5, **kw)
    for part, val in r.items():
        if part == "call":
            continue
        if part == "weights":                                   # f$weights
            rows, cols, desired = _matrix(val)
            w = res.score_weights(method, data=data)
            assert list(w.index) == rows and list(w.columns) == cols
            assert_allclose(w.to_numpy(), desired, err_msg=part, **TOL)
        elif part == "R2.scores":                               # f$R2.scores
            r2 = res.score_r2(method)
            if isinstance(val, dict):
                assert list(r2.index) == list(val)
                val = list(val.values())
            desired = np.array([np.nan if v is None else v for v in val], dtype=float)
            if method == "Bartlett":
                # diag(W'L Phi) is exactly 1 for Bartlett weights; psych turns rounding
                # noise above 1 into NA, so R's NA pattern is noise: check the values
                w = res.score_weights(method).to_numpy()
                L = res.loadings.to_numpy()
                raw = np.diag(w.T @ L @ res.phi.to_numpy())
                assert_allclose(raw, 1.0, rtol=1e-10)
                ok = ~np.isnan(desired)
                assert_allclose(desired[ok], 1.0, rtol=1e-10)
                assert_allclose(r2.to_numpy()[~np.isnan(r2.to_numpy())], 1.0, rtol=1e-10)
            else:
                assert_allclose(r2.to_numpy(), desired, err_msg=part, **TOL)
        elif part == "scores_first20":                          # f$scores[1:20, ]
            rows, cols, desired = _matrix(val)
            sc = res.factor_scores(data, method)
            assert list(sc.columns) == cols
            got = sc.iloc[:20].to_numpy()
            assert (np.isnan(got) == np.isnan(desired)).all()
            assert_allclose(got, desired, err_msg=part, **TOL)
        else:
            pytest.fail(f"reference part {part!r} has no counterpart")


def test_residuals_and_score_errors():
    res = fa(X(), n_factors=5, method="ml")
    resid = res.residuals()
    assert_allclose(np.diag(resid.to_numpy()), res.uniquenesses.to_numpy(), rtol=1e-10)
    with pytest.raises(ModelSpecificationError, match="'method'"):
        res.score_weights("anderson-rubin")
    with pytest.raises(ModelSpecificationError, match="lack item"):
        res.factor_scores(X().drop(columns="A1"))
