"""Scores, sum-score tables and information against rpf (tests/data/r_scripts/irt/
scores_fit_bfi.R), evaluated at OpenMx's estimates so that only the scoring is compared."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.irt import fit_irt, information, score_persons, sum_score_table
from psychometrics.irt import _items
from refdata import dataset

R = Path(__file__).resolve().parents[1] / "data" / "r_results" / "irt"
ITEMS = ["N1", "N2", "N3", "N4", "N5"]


@pytest.fixture(scope="module")
def ref():
    return json.loads((R / "scores_fit_bfi.json").read_text())


@pytest.fixture(scope="module")
def bfi():
    return dataset("bfi")


@pytest.fixture(scope="module")
def fitted(bfi):
    """Our fit on the complete rows with OpenMx's parameters plugged in."""
    grm = json.loads((R / "grm_bfi.json").read_text())["complete"]
    res = fit_irt(bfi[ITEMS].dropna())
    params = np.concatenate([np.r_[a, c] for a, c in zip(grm["a"], grm["c"])])
    return dataclasses.replace(res, params=params)


def test_eap_scores_with_missing(fitted, bfi, ref):
    rows = ref["eap"]["rows"]                       # 1-based R row names
    data = bfi.loc[[r - 1 for r in rows], ITEMS]
    sc = score_persons(fitted, data).to_frame()
    assert len(sc) == len(ref["eap"]["est"])
    for k, (e, s) in enumerate(zip(ref["eap"]["est"], ref["eap"]["se"])):
        # EAPscores(grpm)[, 1:2]
        assert_allclose(sc["est"].iloc[k], e, rtol=1e-6, atol=1e-8)
        assert_allclose(sc["se"].iloc[k], s, rtol=1e-6)
    assert (sc["n_items"] == data.notna().sum(axis=1).to_numpy()).all()


def test_sum_score_table(fitted, ref):
    tab = sum_score_table(fitted).to_frame()
    ss = ref["sum_score"]
    assert len(tab) == len(ss["eap"])
    # rownames(sumScoreEAP(grp)) are code sums 0..25; ours are in response units 5..30
    assert_allclose(tab["sum_score"], np.array(ss["sum_score"]) + 5)
    for k in range(len(ss["eap"])):
        # sumScoreEAP(grp)[, c("p", "f1", "se1")]
        assert_allclose(tab["p"].iloc[k], ss["p"][k], rtol=1e-6)
        assert_allclose(tab["eap"].iloc[k], ss["eap"][k], rtol=1e-6, atol=1e-8)
        assert_allclose(tab["se"].iloc[k], ss["se"][k], rtol=1e-6)
    assert_allclose(tab["p"].sum(), 1.0, rtol=1e-12)


def test_sum_score_table_subset_equals_refit_items(fitted):
    """A form's table uses only its items: brute force over all patterns of 2 items."""
    tab = sum_score_table(fitted, ["N1", "N3"]).to_frame()
    th = fitted.quadrature()
    w = np.exp(-0.5 * th ** 2)
    w /= w.sum()
    P1 = _items.prob("graded", fitted.item_params("N1"), th)
    P3 = _items.prob("graded", fitted.item_params("N3"), th)
    for s in range(11):
        L = sum(P1[a] * P3[s - a] for a in range(6) if 0 <= s - a < 6)
        assert_allclose(tab["eap"].iloc[s], (L * w) @ th / (L @ w), rtol=1e-12)
    assert tab["sum_score"].tolist() == list(range(2, 13))


def test_map_is_posterior_mode(fitted, bfi):
    data = bfi[ITEMS].iloc[:50]
    sc = score_persons(fitted, data, method="map").to_frame()
    eap = score_persons(fitted, data).to_frame()

    def logpost(t, row):
        v = -0.5 * t ** 2
        for j, it in enumerate(ITEMS):
            if not np.isnan(row[j]):
                v += _items.logprob("graded", fitted.item_params(it), np.array([t]))[
                    int(row[j]) - 1, 0]
        return v
    h = 1e-4
    for i in range(50):
        row, t = data.iloc[i].to_numpy(float), sc["est"].iloc[i]
        g = (logpost(t + h, row) - logpost(t - h, row)) / (2 * h)
        assert abs(g) < 1e-5
        d2 = (logpost(t + h, row) - 2 * logpost(t, row) + logpost(t - h, row)) / h ** 2
        assert_allclose(sc["se"].iloc[i], 1 / np.sqrt(-d2), rtol=1e-4)
    assert np.corrcoef(sc["est"], eap["est"])[0, 1] > 0.99


def test_item_information(fitted, ref):
    inf = ref["information"]
    tab = information(fitted, theta=inf["theta"]).to_frame()
    for j, it in enumerate(ITEMS):
        for q in range(len(inf["theta"])):
            # rpf.info(spec[[j]], param[, j], t(th_info))
            assert_allclose(tab[it].iloc[q], inf["item"][q][j], rtol=1e-8)
    assert_allclose(tab["test"], tab[ITEMS].sum(axis=1), rtol=1e-12)
    assert_allclose(tab["se"], 1 / np.sqrt(tab["test"]), rtol=1e-12)


def test_marginal_reliability_between_0_and_1_and_form_lower(fitted):
    full = information(fitted).marginal_reliability
    short = information(fitted, items=["N4", "N5"]).marginal_reliability
    assert 0 < short < full < 1


def test_scores_reject_unknown_category(fitted, bfi):
    from psychometrics.exceptions import DataValidationError
    data = bfi[ITEMS].iloc[:5].copy()
    data.iloc[2, 1] = 9
    with pytest.raises(DataValidationError, match="column 'N2', value 9"):
        score_persons(fitted, data)


def test_information_plot(fitted, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    fig = information(fitted).plot()
    fig.savefig(tmp_path / "info.png")
    assert (tmp_path / "info.png").stat().st_size > 1000
