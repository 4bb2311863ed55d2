"""Result objects (immutability, tidy frames, summary), rotation properties and
item selection rules."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset
from psychometrics.efa import (
    ShortFormRule,
    cross_loadings,
    fa,
    item_diagnostics,
    low_loading_items,
    rotate,
    select_items,
)
from psychometrics.exceptions import DataQualityWarning, ModelSpecificationError


@pytest.fixture(scope="module")
def X():
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


@pytest.fixture(scope="module")
def ml(X):
    return fa(X, n_factors=5, method="ml", rotation="oblimin")


def test_result_is_frozen(ml):
    with pytest.raises(dataclasses.FrozenInstanceError):
        ml.n_factors = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        ml.fit_stats.rmsea = 0.0


def test_tidy_frames(ml):
    long = ml.loadings_long()
    assert list(long.columns) == ["item", "factor", "loading", "structure"]
    assert len(long) == 25 * 5
    # long format holds the same numbers as the wide matrix
    wide = long.pivot(index="item", columns="factor", values="loading")
    assert_allclose(wide.loc[ml.items, ml.factor_names].to_numpy(), ml.loadings.to_numpy(),
                    rtol=0, atol=0)
    items = ml.item_table()
    assert list(items.columns) == ["item", *ml.factor_names, "communality", "uniqueness",
                                   "complexity"]
    fit = ml.fit_table()
    assert list(fit.columns) == ["statistic", "value"]
    assert "rmsea" in set(fit["statistic"]) and fit["value"].dtype == float
    assert list(ml.variance.columns) == ["ss_loadings", "proportion_var", "cumulative_var",
                                         "proportion_explained", "cumulative_proportion"]


def test_summary_text_and_html(ml):
    s = ml.summary()
    text = s.as_text()
    for word in ("maximum likelihood", "oblimin", "ML2", "RMSEA", "Factor correlations"):
        assert word in text
    assert "<table" in s.as_html()


def test_structure_and_variance_definitions(ml):
    L = ml.loadings.to_numpy()
    phi = ml.phi.to_numpy()
    assert_allclose(ml.structure.to_numpy(), L @ phi, rtol=1e-12)
    # psych: SS loadings of an oblique solution are diag(Phi L'L)
    assert_allclose(ml.variance["ss_loadings"], np.diag(phi @ L.T @ L), rtol=1e-12)
    assert_allclose(np.diag(phi), 1.0, rtol=1e-12)
    # factors ordered by variance accounted for
    assert np.all(np.diff(ml.variance["ss_loadings"].to_numpy()) <= 0)
    # psych's sign rule: every column sums positive
    assert (L.sum(axis=0) > 0).all()


@pytest.mark.parametrize("rotation", ["oblimin", "quartimin", "geomin", "bentler", "varimax",
                                      "quartimax", "promax", "geominT", "bentlerT"])
def test_rotation_matrix_maps_unrotated_to_rotated(X, rotation):
    unrot = fa(X, n_factors=5, rotation="none").loadings.to_numpy()
    res = fa(X, n_factors=5, rotation=rotation)
    M = unrot @ res.rotation_matrix.to_numpy()          # psych: A %*% rot.mat
    # psych then flips signs (column sums positive) and orders by variance
    M = M * np.sign(M.sum(axis=0))
    phi = None if res.phi is None else res.phi.to_numpy()
    cols = []
    for j in range(5):
        hits = [k for k in range(5) if np.allclose(M[:, k], res.loadings.to_numpy()[:, j],
                                                   atol=1e-10)]
        assert len(hits) == 1
        cols.append(hits[0])
    assert sorted(cols) == list(range(5))
    # orthogonal rotations keep the communalities row sums of squares
    if phi is None:
        assert_allclose((res.loadings.to_numpy() ** 2).sum(axis=1), res.communalities,
                        rtol=1e-10)


def test_rotate_function_none_and_single_factor(ml):
    assert rotate(ml.loadings.to_numpy(), "none") is None
    with pytest.raises(ModelSpecificationError, match="single factor"):
        rotate(ml.loadings.to_numpy()[:, :1], "oblimin")


# --------------------------------------------------------------------------- selection
def test_item_diagnostics_follow_the_loadings(ml):
    d = item_diagnostics(ml, min_loading=0.4, cross_loading=0.3)
    a = ml.loadings.abs()
    assert list(d["item"]) == ml.items
    assert list(d["primary_factor"]) == list(a.idxmax(axis=1))
    srt = np.sort(a.to_numpy(), axis=1)
    assert_allclose(d["primary_loading"].abs(), srt[:, -1], rtol=0, atol=0)
    assert_allclose(d["secondary_loading"].abs(), srt[:, -2], rtol=0, atol=0)
    assert_allclose(d["gap"], srt[:, -1] - srt[:, -2], rtol=1e-15)
    assert (d["low_loading"] == (srt[:, -1] < 0.4)).all()
    assert (d["cross_loading"] == (srt[:, -2] >= 0.3)).all()
    assert (d["keep"] == ~(d["low_loading"] | d["cross_loading"])).all()
    assert (d["keyed"] == np.sign(d["primary_loading"])).all()
    assert set(low_loading_items(ml, 0.4)) == set(d.loc[d["low_loading"], "item"])
    from psychometrics.efa import kmo
    assert_allclose(d["msa"].to_numpy(), kmo(ml.correlation).msa_items.to_numpy(), rtol=1e-12)


def test_cross_loadings_table(ml):
    cl = cross_loadings(ml, threshold=0.3)
    assert list(cl.columns) == ["item", "factor", "loading"]
    assert (cl["loading"].abs() >= 0.3).all()
    assert (cl.groupby("item").size() >= 2).all()
    a = ml.loadings.abs()
    expected = set(a.index[(a >= 0.3).sum(axis=1) >= 2])
    assert set(cl["item"]) == expected


def test_select_items_rule(ml):
    rule = ShortFormRule(items_per_factor=2, min_loading=0.5, max_cross_loading=0.3)
    sf = select_items(ml, rule)
    d = item_diagnostics(ml, min_loading=0.5, cross_loading=0.3)
    for f in ml.factor_names:
        eligible = d[(d["primary_factor"] == f) & d["keep"]]
        best = eligible.reindex(eligible["primary_loading"].abs()
                                .sort_values(ascending=False, kind="stable").index)
        assert sf.by_factor[f] == tuple(best["item"].iloc[:2])
    assert len(sf.items) == sum(len(v) for v in sf.by_factor.values())
    assert all(sf.keys[i] == d.set_index("item").loc[i, "keyed"] for i in sf.items)
    assert sf.table["selected"].sum() == len(sf.items)
    assert sf.complete
    assert sf.rule_dict()["items_per_factor"] == 2


def test_select_items_incomplete_warns(ml):
    with pytest.warns(DataQualityWarning, match="only"):
        sf = select_items(ml, items_per_factor=6)
    assert not sf.complete


def test_select_items_bad_rule(ml):
    with pytest.raises(ModelSpecificationError, match="'items_per_factor'"):
        select_items(ml, items_per_factor=0)
    with pytest.raises(ModelSpecificationError, match="'rank_by'"):
        select_items(ml, rank_by="alphabet")
    with pytest.raises(ModelSpecificationError, match="'min_loading'"):
        select_items(ml, min_loading=1.5)
    with pytest.raises(ModelSpecificationError, match="FactorAnalysisResult"):
        item_diagnostics(ml.loadings)


def test_every_result_has_a_summary(X):
    from psychometrics.efa import bartlett, kmo, omega, parallel_analysis, velicer_map
    outs = [kmo(X).summary(), bartlett(X).summary(),
            parallel_analysis(X, n_iter=2, seed=1).summary(), velicer_map(X).summary(),
            omega(X).summary(), select_items(fa(X, 5), items_per_factor=1).summary()]
    for s in outs:
        text = s.as_text()
        assert text.splitlines()[0] == s.title and len(text.splitlines()) > 2
        assert s.as_html().startswith("<h3>")


def test_model_specification_is_reusable_and_frozen(X):
    from psychometrics.efa import FactorAnalysis
    spec = FactorAnalysis(n_factors=2, method="minres", rotation="varimax")
    a = spec.fit(X.iloc[:, :10])
    b = spec.fit(X.iloc[:, 10:20])
    assert a.items != b.items
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.n_factors = 3
    assert "n_factors=2" in a.call and a.elapsed_seconds > 0
