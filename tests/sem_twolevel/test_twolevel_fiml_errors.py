"""Bad input with missing="ml" (and the improper-solution and singleton warnings of every
two-level fit): each error or warning names the variable, row, cluster and level."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import DataQualityWarning, DataValidationError, HeywoodCaseWarning
from psychometrics.sem.twolevel import _heywood, fit_twolevel
from twolevel_helpers import dataset

MODEL = """
level: 1
    fw =~ y1 + y2 + y3
level: 2
    fb =~ y1 + y2 + y3
"""


@pytest.fixture(scope="module")
def demo():
    d = dataset("Demo.twolevel")
    rng = np.random.default_rng(7)
    for v in ("y1", "y2", "y3"):
        d.loc[rng.random(len(d)) < 0.1, v] = np.nan
    return d


def _messages(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = fn()
    return res, [str(x.message) for x in w]


def test_cluster_with_one_row(demo):
    d = demo[~((demo.cluster == 5) & demo.duplicated("cluster"))]
    with pytest.warns(DataQualityWarning, match=r"1 cluster\(s\) have a single row \(ids: 5\)"
                                                r".*level-2 \(between\) part only"):
        res = fit_twolevel(MODEL, d, "cluster", missing="ml")
    assert res.converged
    assert res.cluster_sizes.loc[5] == 1


def test_level1_variable_constant_within_every_cluster(demo):
    m = "level: 1\n fw =~ y1 + y2 + y3\n w1 ~~ w1\nlevel: 2\n fb =~ y1 + y2 + y3\n"
    _, msgs = _messages(lambda: fit_twolevel(m, demo, "cluster", missing="ml"))
    assert any("Level-1 variable 'w1' has no variance at the within level" in s
               and "level 1 section" in s for s in msgs)


def test_level2_variable_varying_within_clusters(demo):
    m = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n fb ~ x1\n"
    with pytest.raises(DataValidationError,
                       match="Level-2 variable 'x1' has non-zero variance at the within level"):
        fit_twolevel(m, demo, "cluster", missing="ml")


def test_level2_variable_missing_in_some_rows_is_not_variation(demo):
    # a cluster-level value missing in some rows of its cluster is a hole, not variation
    d = demo.copy()
    d.loc[d.index[::3], "w1"] = np.nan
    m = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n w1 ~ fb\n"
    res = fit_twolevel(m, d, "cluster", missing="ml")
    assert res.converged


def test_all_values_of_a_cluster_missing(demo):
    d = demo.copy()
    d.loc[d.cluster == 17, ["y1", "y2", "y3"]] = np.nan
    n17 = int((d.cluster == 17).sum())
    with pytest.warns(DataQualityWarning, match=r"lost every row \(ids: 17\)"):
        res = fit_twolevel(MODEL, d, "cluster", missing="ml")
    assert res.dropped["clusters with no observed values"] == 1
    assert res.dropped["no observed level-1 variable"] >= n17
    assert 17 not in res.cluster_sizes.index
    assert res.nclusters == demo.cluster.nunique() - 1


def test_rows_without_cluster_id(demo):
    d = demo.copy()
    d.loc[[3, 4], "cluster"] = np.nan
    with pytest.warns(DataQualityWarning, match=r"2 with no cluster id \('cluster' missing\)"):
        res = fit_twolevel(MODEL, d, "cluster", missing="ml")
    assert res.dropped["no cluster id ('cluster' missing)"] == 2


def test_variable_never_observed(demo):
    d = demo.copy()
    d["y3"] = np.nan
    with pytest.raises(DataValidationError, match="Level-1 variable 'y3' has no observed value"):
        fit_twolevel(MODEL, d, "cluster", missing="ml")


def test_level2_variable_never_observed(demo):
    d = demo.copy()
    d["w1"] = np.nan
    m = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n w1 ~ fb\n"
    with pytest.raises(DataValidationError, match="Level-2 variable 'w1' has no observed value"):
        fit_twolevel(m, d, "cluster", missing="ml")


def test_negative_variance_warning_names_variable_and_level():
    tab = pd.DataFrame(dict(lhs=["y1", "y2", "y1"], op=["~~"] * 3, rhs=["y1", "y2", "y2"],
                            level=[2, 2, 2], est=[-0.05, 0.5, 0.1], free=[True, True, True]))
    with pytest.warns(HeywoodCaseWarning, match=r"variance of 'y1' at level 2 \(between\) is "
                                                r"negative"):
        msgs = _heywood(tab)
    assert len(msgs) == 1


def test_correlation_beyond_one_warning():
    tab = pd.DataFrame(dict(lhs=["f1", "f2", "f1"], op=["~~"] * 3, rhs=["f1", "f2", "f2"],
                            level=[1, 1, 1], est=[1.0, 1.0, 1.3], free=[True, True, True]))
    with pytest.warns(HeywoodCaseWarning, match=r"correlation of 'f1' and 'f2' at level 1 "
                                                r"\(within\) is 1.3, beyond"):
        _heywood(tab)


def test_improper_solutions_from_fits():
    # Demo.twolevel: between loadings of y2, y3 fixed far too small force a negative
    # between residual variance of y1; a between variance fixed near zero forces a residual
    # correlation beyond 1. Both warnings name variable and level.
    d = dataset("Demo.twolevel")
    m1 = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ 1*y1 + 0.4*y2 + 0.4*y3\n"
    res, msgs = _messages(lambda: fit_twolevel(m1, d, "cluster", missing="ml"))
    e = res.estimates
    neg = e[(e.op == "~~") & (e.lhs == e.rhs) & e.free & (e.est < 0)]
    assert len(neg) > 0
    for r in neg.itertuples():
        assert any(f"variance of {r.lhs!r} at level {r.level} (between) is negative" in s
                   for s in msgs)
    m2 = ("level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n y1 ~~ y2 + y3\n y2 ~~ y3\n"
          " y1 ~~ 0.01*y1\n")
    res, msgs = _messages(lambda: fit_twolevel(m2, d, "cluster", missing="ml"))
    assert any("correlation of 'y1' and 'y2' at level 2 (between)" in s for s in msgs)
