"""Item fit and local dependence against rpf (tests/data/r_scripts/irt/scores_fit_bfi.R):
the uncollapsed observed and expected tables and their Pearson X2, at OpenMx's estimates.
rpf merges sparse cells with its own C routine (_rpf_collapse) that we do not copy, so the
merged statistics are checked for their own properties instead."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.irt import fit_irt, item_fit, local_dependence
from psychometrics.irt.fit import sx2_tables
from refdata import dataset

R = Path(__file__).resolve().parents[1] / "data" / "r_results" / "irt"
ITEMS = ["N1", "N2", "N3", "N4", "N5"]


@pytest.fixture(scope="module")
def ref():
    return json.loads((R / "scores_fit_bfi.json").read_text())


@pytest.fixture(scope="module")
def fitted():
    grm = json.loads((R / "grm_bfi.json").read_text())["complete"]
    res = fit_irt(dataset("bfi")[ITEMS].dropna())
    params = np.concatenate([np.r_[a, c] for a, c in zip(grm["a"], grm["c"])])
    return dataclasses.replace(res, params=params)


def test_sx2_rest_tables_match_rpf(fitted, ref):
    for entry in ref["sx2"]:
        O, E = sx2_tables(fitted, entry["item"], score="rest")
        # SitemFit(grp)[[item]]$orig.observed / $orig.expected
        assert_allclose(O, np.array(entry["observed"]), rtol=0, atol=0)
        assert_allclose(E, np.array(entry["expected"]), rtol=1e-7, atol=1e-9)


def test_sx2_rest_uncollapsed_statistic(fitted, ref):
    fit = item_fit(fitted, score="rest", mincell=0).to_frame().set_index("item")
    for entry in ref["sx2"]:
        # sum((orig.observed - orig.expected)^2 / orig.expected)
        assert_allclose(fit.loc[entry["item"], "chisq"], entry["x2_uncollapsed"], rtol=1e-7)


def test_sx2_total_score_tables(fitted):
    """Total-score grouping: rows sum to the observed group sizes, structural zeros where
    the item category exceeds the total, and category margins match the data."""
    codes = fitted.responses.codes
    for it in ITEMS:
        O, E = sx2_tables(fitted, it, score="total")
        assert_allclose(E.sum(axis=1), O.sum(axis=1), rtol=1e-10)
        assert E[0, 1:].sum() == 0 and E[-1, :-1].sum() == 0
        assert_allclose(O.sum(axis=0),
                        np.bincount(codes[:, ITEMS.index(it)], minlength=6))


def test_sx2_collapsed(fitted):
    fit = item_fit(fitted).to_frame()
    assert list(fit["item"]) == ITEMS
    assert (fit["df"] > 0).all() and (fit["chisq"] > 0).all()
    assert ((fit["p_value"] >= 0) & (fit["p_value"] <= 1)).all()
    assert (fit["n_obs"] == 2694).all()
    raw = item_fit(fitted, mincell=0).to_frame()
    assert (raw["df"] >= fit["df"]).all()


def test_ld_tables_match_rpf(fitted, ref):
    from psychometrics.irt.fit import bivariate_expected
    ld = local_dependence(fitted).to_frame()
    codes = fitted.responses.codes
    for entry in ref["ld"]:
        a, b = entry["pair"]
        j, k = ITEMS.index(a), ITEMS.index(b)
        # ChenThissen1997(grp)$detail[[pair]]$orig.expected
        assert_allclose(bivariate_expected(fitted, j, k, len(codes)),
                        np.array(entry["expected"]), rtol=1e-7)
        row = ld[((ld.item1 == a) & (ld.item2 == b)) | ((ld.item1 == b) & (ld.item2 == a))]
        assert len(row) == 1
        # sum((orig.observed - orig.expected)^2 / orig.expected)
        assert_allclose(row["chisq"].iloc[0], entry["x2_uncollapsed"], rtol=1e-7)
        assert row["df"].iloc[0] == 25


def test_q3(fitted):
    ld = local_dependence(fitted)
    q3 = ld.q3_matrix()
    assert q3.shape == (5, 5)
    assert_allclose(np.diag(q3), 1.0)
    assert (np.abs(ld.frame["q3"]) < 1).all()
    # N1-N2 is the known locally dependent pair of the neuroticism items (largest LD X2)
    top = ld.frame.sort_values("chisq").iloc[-1]
    assert {top.item1, top.item2} == {"N1", "N2"}
    # Q3 of N3-N4 recomputed from EAP scores and expected item scores
    from psychometrics.irt import _items, score_persons
    eap = score_persons(fitted).frame["est"].to_numpy()
    codes = fitted.responses.codes
    r = [codes[:, j] - np.arange(6) @ _items.prob("graded", fitted.item_params(j), eap)
         for j in (2, 3)]
    row = ld.frame[(ld.frame.item1 == "N3") & (ld.frame.item2 == "N4")]
    assert_allclose(row["q3"].iloc[0], np.corrcoef(r[0], r[1])[0, 1], rtol=1e-10)
    # with five items Q3 is biased towards -1/(J-1) = -0.25 (Yen 1993): mean near it
    assert -0.4 < ld.frame["q3"].mean() < -0.05
