"""Bad input to fit_twolevel: every error names the thing at fault."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import (ConvergenceWarning, DataQualityWarning, DataValidationError,
                                      ModelSpecificationError, ModelSyntaxError)
from psychometrics.sem.twolevel import fit_twolevel, lrt_twolevel, split_levels
from twolevel_helpers import dataset

MODEL = """
level: 1
    fw =~ y1 + y2 + y3
level: 2
    fb =~ y1 + y2 + y3
"""


@pytest.fixture(scope="module")
def demo():
    return dataset("Demo.twolevel")


def test_cluster_not_in_data(demo):
    with pytest.raises(ModelSpecificationError, match="'school'"):
        fit_twolevel(MODEL, demo, "school")


def test_cluster_not_a_string(demo):
    with pytest.raises(ModelSpecificationError, match="'cluster' argument"):
        fit_twolevel(MODEL, demo, 3)


def test_data_not_a_dataframe():
    with pytest.raises(DataValidationError, match="'data' argument"):
        fit_twolevel(MODEL, np.zeros((10, 3)), "cluster")


def test_variable_not_in_data(demo):
    with pytest.raises(ModelSpecificationError, match="'y9'"):
        fit_twolevel(MODEL.replace("y3\nlevel", "y9\nlevel"), demo, "cluster")


def test_all_clusters_size_one(demo):
    d = demo.assign(id=np.arange(len(demo)))
    with pytest.raises(DataValidationError, match="size 1"):
        fit_twolevel(MODEL, d, "id")


def test_single_cluster(demo):
    d = demo.assign(one=1)
    with pytest.raises(DataValidationError, match="only 1 cluster"):
        fit_twolevel(MODEL, d, "one")


def test_non_numeric_variable(demo):
    d = demo.assign(y2=demo["y2"].astype(str))
    with pytest.raises(DataValidationError, match="'y2'"):
        fit_twolevel(MODEL, d, "cluster")


def test_missing_level_block():
    with pytest.raises(ModelSyntaxError, match="level: 2"):
        split_levels("level: 1\n f =~ a + b + c\n")


def test_statement_before_level():
    with pytest.raises(ModelSyntaxError, match="line 1") as e:
        split_levels("f =~ a + b\nlevel: 1\n f =~ a + b + c\nlevel: 2\n g =~ a + b + c")
    assert e.value.line == 1


def test_unknown_level_name():
    with pytest.raises(ModelSyntaxError, match="'3'"):
        split_levels("level: 1\n f =~ a + b + c\nlevel: 3\n g =~ a + b + c")


def test_duplicate_level():
    with pytest.raises(ModelSyntaxError, match="level 1 is declared twice"):
        split_levels("level: 1\n f =~ a + b\nlevel: within\n g =~ a + b\nlevel: 2\n h =~ a + b")


def test_within_between_names():
    b = split_levels("level: within\n f =~ a + b + c\nlevel: between\n g =~ a + b + c")
    assert "f =~" in b[1] and "g =~" not in b[1] and "g =~" in b[2]
    # line numbers are kept (blank lines for the other block)
    assert b[2].splitlines()[3].strip() == "g =~ a + b + c"


def test_empty_level_block(demo):
    with pytest.raises(ModelSyntaxError, match="'level: 2' block contains no model statements"):
        fit_twolevel("level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n", demo, "cluster")


def test_syntax_error_line_number(demo):
    with pytest.raises(ModelSyntaxError) as e:
        fit_twolevel("level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + + y3\n", demo, "cluster")
    assert e.value.line == 4


def test_definition_with_unknown_label(demo):
    m = MODEL.replace("fw =~ y1 + y2 + y3", "fw =~ y1 + a*y2 + y3\n    d := a*b")
    with pytest.raises(ModelSyntaxError, match="'b' in the definition of 'd'") as e:
        fit_twolevel(m, demo, "cluster")
    assert e.value.line == 4   # MODEL starts with an empty line


def test_not_identified(demo):
    m = ("level: 1\n fw =~ y1 + y2 + y3\n y1 ~~ y2 + y3\n y2 ~~ y3\n"
         "level: 2\n fb =~ y1 + y2 + y3\n")
    with pytest.raises(ModelSpecificationError, match="not identified"):
        fit_twolevel(m, demo, "cluster")


def test_listwise_deletion_warns(demo):
    d = demo.copy()
    d.loc[[0, 5, 7], "y2"] = np.nan
    with pytest.warns(DataQualityWarning, match="3 of 2500 rows"):
        res = fit_twolevel(MODEL, d, "cluster")
    assert res.n_obs == 2497


def test_level1_variable_without_within_variance(demo):
    # w1 is a cluster-level variable: lavaan warns to remove it from level 1
    m = "level: 1\n fw =~ y1 + y2 + y3\n w1 ~~ w1\nlevel: 2\n fb =~ y1 + y2 + y3\n"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit_twolevel(m, demo, "cluster")   # a warning, not an error: must not raise
    msgs = [str(x.message) for x in w if issubclass(x.category, DataQualityWarning)]
    assert any("'w1' has no variance at the within level" in s for s in msgs)


def test_level2_only_variable_varying_within(demo):
    m = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n fb ~ x1\n"
    with pytest.raises(DataValidationError, match="'x1' has non-zero variance at the within"):
        fit_twolevel(m, demo, "cluster")


def test_zero_within_variance_in_some_clusters(demo):
    d = demo.copy()
    d.loc[d.cluster == 3, "y2"] = 1.5
    with pytest.warns(DataQualityWarning, match=r"'y2' has no variance within some clusters.*: 3$"):
        fit_twolevel(MODEL, d, "cluster")


def test_non_convergence(demo):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = fit_twolevel(MODEL, demo, "cluster", max_iter=1)
    assert res.converged is False
    assert res.estimates["se"].isna().all()
    assert res.vcov is None
    assert "NOT CONVERGE" in res.summary().as_text()


def test_bad_max_iter(demo):
    with pytest.raises(ModelSpecificationError, match="'max_iter'"):
        fit_twolevel(MODEL, demo, "cluster", max_iter=0)


def test_lrt_needs_two(demo):
    res = fit_twolevel(MODEL, demo, "cluster")
    with pytest.raises(ModelSpecificationError, match="at least two"):
        lrt_twolevel(res)


def test_result_is_immutable(demo):
    res = fit_twolevel(MODEL, demo, "cluster")
    with pytest.raises(Exception):
        res.converged = False
    assert "level" in res.estimates.columns
    assert set(res.estimates["level"]) == {1, 2}
    text = res.summary().as_text()
    assert "Level 1 [within]" in text and "Level 2 [between]" in text
    assert "TwoLevelResult(converged=True" in repr(res)
    assert "<table>" in res.summary().as_html()


def test_string_cluster_ids_and_row_order(demo):
    # cluster labels as strings and shuffled rows give the same fit
    base = fit_twolevel(MODEL, demo, "cluster")
    d = demo.assign(cluster=("P" + demo["cluster"].astype(str)).astype("string"))
    d = d.sample(frac=1.0, random_state=3)
    res = fit_twolevel(MODEL, d, "cluster")
    np.testing.assert_allclose(res.fit_measures["logl"], base.fit_measures["logl"], rtol=1e-10)
    np.testing.assert_allclose(res.estimates["est"], base.estimates["est"], rtol=1e-6, atol=1e-8)
    assert res.cluster_sizes.index[0].startswith("P")


def test_missing_cluster_id_dropped(demo):
    d = demo.copy()
    d["cluster"] = d["cluster"].astype(float)
    d.loc[[1, 2], "cluster"] = np.nan
    with pytest.warns(DataQualityWarning, match="cluster variable 'cluster'"):
        res = fit_twolevel(MODEL, d, "cluster")
    assert res.n_obs == 2498


def test_lrt_bad_names_and_different_data(demo):
    a = fit_twolevel(MODEL, demo, "cluster")
    b = fit_twolevel(MODEL, demo.iloc[:-10], "cluster")
    with pytest.raises(ModelSpecificationError, match="'names' has 1 entries"):
        lrt_twolevel(a, a, names=["only"])
    with pytest.raises(ModelSpecificationError, match="different numbers of observations"):
        lrt_twolevel(a, b)


def test_latent_without_scale_names_level(demo):
    # fb =~ NA*y1 with fb ~~ fb free: the between factor has no scale
    m = ("level: 1\n fw =~ y1 + y2 + y3\n"
         "level: 2\n fb =~ NA*y1 + y2 + y3\n fb ~~ fb\n")
    with pytest.raises(ModelSpecificationError, match="In the 'level: 2' block: Latent variable "
                                                      "'fb' has no scale"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_twolevel(m, demo, "cluster")


def test_split_variable_without_between_variance(demo):
    # a cluster-mean-centred variable has no between variance: lavaan's warning
    d = demo.copy()
    d["y3"] = d["y3"] - d.groupby("cluster")["y3"].transform("mean")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = fit_twolevel(MODEL, d, "cluster")   # a warning, not an error: must not raise
    # whatever the optimizer reached, non-convergence is reported, never hidden
    assert res.converged or any(issubclass(x.category, ConvergenceWarning) for x in w)
    msgs = [str(x.message) for x in w if issubclass(x.category, DataQualityWarning)]
    assert any("zero variance at the between level for split variable(s): y3" in s
               for s in msgs)
