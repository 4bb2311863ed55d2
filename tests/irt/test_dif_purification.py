"""lordif-style purification of the matching theta in ordinal logistic DIF (dif_ordinal):
flag, split the flagged items by group, recalibrate, re-score, repeat until the flags
settle.  Simulated data with planted DIF and a group difference in the trait (impact),
which is what makes an unpurified theta biased."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from irt_sim import simulate_grm
from psychometrics.exceptions import DataQualityWarning, ModelSpecificationError
from psychometrics.irt import dif_ordinal, fit_irt
from psychometrics.irt.dif import _split_flagged
from psychometrics.irt._data import prepare_responses

J = 8
A = np.array([1.8, 2.2, 2.0, 1.2, 1.6, 1.4, 1.9, 1.3])
B = np.array([[-1.5, -0.5, 0.4, 1.3]] * J) + np.linspace(-0.6, 0.6, J)[:, None]


@pytest.fixture(scope="module")
def dif_data():
    n = 900
    ref, _ = simulate_grm(n, A, B, seed=11)
    a2, b2 = A.copy(), B.copy()
    b2[0] += 0.9                      # uniform DIF on i1
    b2[1] -= 0.7                      # uniform DIF on i2, the other way
    rng = np.random.default_rng(12)
    foc, _ = simulate_grm(n, a2, b2, seed=13, theta=rng.normal(-0.5, 1.0, n))
    d = pd.concat([ref, foc], ignore_index=True)
    d["g"] = ["ref"] * n + ["focal"] * n
    return d


@pytest.fixture(scope="module")
def purified(dif_data):
    return dif_ordinal(dif_data, "g", [f"i{j + 1}" for j in range(J)])


def test_planted_items_flagged_and_flags_settle(purified):
    fr = purified.frame.set_index("item")
    assert fr.loc["i1", "flagged"] and fr.loc["i2", "flagged"]
    assert purified.iterations >= 2
    # stopped because the last flagged set was seen before (lordif's rule)
    assert purified.flag_history[-1] in purified.flag_history[:-1]
    assert tuple(fr.index[fr["flagged"]]) == purified.flag_history[-1]
    assert "Purification" in purified.notes[-1]


def test_final_table_is_the_calibration_on_the_previous_flags(dif_data, purified):
    """Rebuild the last step by hand: split the items flagged one calibration earlier, fit
    the model, score theta, run the unpurified tests with it: the same table."""
    items = [f"i{j + 1}" for j in range(J)]
    prev = purified.flag_history[-2]
    resp = prepare_responses(dif_data, items, what="test")
    gv = (dif_data["g"] == "focal").astype(float).to_numpy()
    sparse = _split_flagged(resp, gv, [it in prev for it in items])
    for it in prev:                   # each flagged item becomes one column per group
        assert f"{it}@group1" in sparse.columns and f"{it}@group2" in sparse.columns
        assert it not in sparse.columns
    assert (sparse[f"{prev[0]}@group1"].notna() == (gv == 0)).all()
    split_fit = fit_irt(sparse)
    manual = dif_ordinal(dif_data, "g", items, fit=split_fit, purify=False).frame
    cols = ["chisq_12", "chisq_13", "chisq_23", "r2_mcfadden_13", "beta_change"]
    assert_allclose(purified.frame[cols].to_numpy(), manual[cols].to_numpy(), rtol=1e-10)


def test_unpurified_is_the_first_calibration(dif_data, purified):
    items = [f"i{j + 1}" for j in range(J)]
    first = dif_ordinal(dif_data, "g", items, purify=False)
    assert first.iterations == 1
    assert tuple(first.frame["item"][first.frame["flagged"]]) == purified.flag_history[0]


def test_purification_options(dif_data):
    items = [f"i{j + 1}" for j in range(J)]
    with pytest.raises(ModelSpecificationError, match="needs\\s+matching='theta'"):
        dif_ordinal(dif_data, "g", items, matching="sum", purify=True)
    with pytest.raises(ModelSpecificationError, match="'criterion'"):
        dif_ordinal(dif_data, "g", items, criterion="pvalue")
    # a sum-score run does not purify by default
    assert dif_ordinal(dif_data, "g", items, matching="sum").iterations == 1
    # beta criterion: the uniform-DIF item moves the matching coefficient most
    beta = dif_ordinal(dif_data, "g", items, criterion="beta", beta_change=0.05)
    assert set(beta.frame["item"][beta.frame["flagged"]]) <= set(items)
    with pytest.warns(DataQualityWarning, match="max_iter=1|Every item"):
        # alpha = 1 flags every item: purification stops with a warning
        dif_ordinal(dif_data, "g", items, alpha=1.0)
