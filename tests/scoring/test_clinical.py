"""Clinical significance (Jacobson & Truax, 1991) against hand-computed values.

SE = s sqrt(1 - r); S_diff = sqrt(2 SE^2); RC = (post - pre) / S_diff; reliable if |RC| > 1.96.
OQ-45.2 norms from the bank: us total cutoff 64, rci 14; nl total cutoff 56, rci 18.
"""
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError
from psychometrics.scoring import clinical_significance, score


def totals():
    # patient: (time, total)
    return pd.DataFrame({
        "pid":   ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e", "f", "f"],
        "t":     [1, 2, 3, 1, 2, 1, 1, 2, 2, 1, 1, 2],
        "total": [90, 70, 60, 50, 80, 70, 78, 64, 60, 74, 70, np.nan],
    })


def test_rci_from_us_norms():
    res = clinical_significance(totals(), "oq-45.2", id="pid", time="t", norms="us")
    t = res.table.set_index("pid")
    assert res.method == "rci" and res.threshold == 14 and res.cutoff == 64
    # a: 90 -> 60, change -30, |-30| >= 14 reliable, 90 >= 64 dysfunctional, 60 < 64 -> recovered
    # b: 50 -> 80, +30 -> deteriorated
    # c: one administration -> not assessed
    # d: 78 -> 64, -14 reliable (>= rci), 64 still dysfunctional (cut-off included) -> improved
    # e: time order: 74 (t=1) -> 60 (t=2), -14 reliable, crosses -> recovered
    # f: second score missing -> fewer than two scores
    assert list(t["class"].astype(object).where(t["class"].notna(), None)) == \
        ["recovered", "deteriorated", None, "improved", "recovered", None]
    assert list(t["status"]) == ["assessed", "assessed", "fewer_than_two_scores", "assessed",
                                 "assessed", "fewer_than_two_scores"]
    assert_allclose(t["change"].to_numpy(), [-30, 30, np.nan, -14, -14, np.nan], rtol=1e-10)
    assert t.loc["d", "post_dysfunctional"] and not t.loc["e", "post_dysfunctional"]
    assert list(t["time_pre"][["a", "e"]]) == [1, 1] and list(t["time_post"][["a", "e"]]) == [3, 2]


def test_nl_norms_differ():
    res = clinical_significance(totals(), "oq-45.2", id="pid", time="t", norms="nl")
    t = res.table.set_index("pid")
    # rci 18: d and e change -14 -> not reliable -> unchanged; cutoff 56
    assert t.loc["d", "class"] == "unchanged" and t.loc["e", "class"] == "unchanged"
    # a: -30 reliable, but 60 >= 56 is still dysfunctional under the Dutch cut-off -> improved
    assert t.loc["a", "class"] == "improved"
    assert res.cutoff == 56 and res.threshold == 18


def test_jacobson_truax_from_reliability_and_sd():
    r, s = 0.84, 20.0
    res = clinical_significance(totals(), "oq-45.2", id="pid", time="t", reliability=r, sd=s,
                                cutoff=63.5)
    se = s * math.sqrt(1 - r)              # 8
    s_diff = math.sqrt(2 * se ** 2)        # 11.3137...
    assert_allclose(res.s_diff, s_diff, rtol=1e-12)
    t = res.table.set_index("pid")
    # RC = change / S_diff
    assert_allclose(t["rc"].to_numpy(), np.array([-30, 30, np.nan, -14, -14, np.nan]) / s_diff,
                    rtol=1e-10)
    # |-14 / 11.31| = 1.237 < 1.96: d and e unchanged; a recovered, b deteriorated
    assert list(t["class"][["a", "b", "d", "e"]]) == ["recovered", "deteriorated", "unchanged",
                                                       "unchanged"]


def test_criteria_a_b_c():
    kw = dict(id="pid", time="t", rci=10, functional_mean=40.0, functional_sd=10.0,
              dysfunctional_mean=80.0, dysfunctional_sd=20.0)
    # higher is worse: a = 80 - 2*20 = 40; b = 40 + 2*10 = 60; c = (10*80 + 20*40)/30 = 53.33
    for crit, cut in (("a", 40.0), ("b", 60.0), ("c", (10 * 80 + 20 * 40) / 30)):
        res = clinical_significance(totals(), "oq-45.2", criterion=crit, **kw)
        assert_allclose(res.cutoff, cut, rtol=1e-12)
    # a: 90 -> 60 with cut 53.33: 60 still dysfunctional -> improved
    res = clinical_significance(totals(), "oq-45.2", criterion="c", **kw)
    assert res.table.set_index("pid").loc["a", "class"] == "improved"
    with pytest.raises(ValueError, match="Criterion 'c' needs"):
        clinical_significance(totals(), "oq-45.2", id="pid", time="t", rci=10, criterion="c")


def test_higher_is_better_direction():
    # WAI-SR total: higher is better; reliable increase = improvement
    df = pd.DataFrame({"pid": [1, 1, 2, 2], "t": [1, 2, 1, 2], "total": [30, 50, 50, 30.0]})
    res = clinical_significance(df, "wai-sr", id="pid", time="t", rci=8, cutoff=40)
    t = res.table.set_index("pid")
    # 30 <= 40 dysfunctional -> 50 functional, +20 reliable -> recovered; patient 2 deteriorated
    assert list(t["class"]) == ["recovered", "deteriorated"]
    assert not res.higher_is_worse


def test_chosen_pre_and_post_and_from_score_result():
    items = [f"oq_{i}" for i in range(1, 46)]
    X = np.vstack([np.full(45, 2.0), np.full(45, 1.0), np.full(45, 0.0)])
    df = pd.DataFrame(X, columns=items).assign(pid=7, wk=[0, 4, 8])
    res = score(df, "oq-45.2", id="pid", time="wk")
    # totals: all 2 -> 90; all 1 -> 36 + 27 = 63 (SD 22+9=31, IR 7+12=19, SR 7+6=13);
    # all 0 -> reversed items 9*4 = 36
    assert_allclose(res.scores["total"].to_numpy(), [90.0, 63.0, 36.0], rtol=1e-10)
    cs = clinical_significance(res, norms="us", pre=0, post=4)
    row = cs.table.iloc[0]
    assert (row["time_pre"], row["time_post"], row["change"]) == (0, 4, -27.0)
    assert row["class"] == "recovered"
    cs = clinical_significance(res, norms="us", pre=0, post=12)
    assert cs.table.iloc[0]["status"] == "pre_or_post_missing"


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="'norms' parameter 'uk'.*us, nl, es|'norms' parameter 'uk'"):
        clinical_significance(totals(), "oq-45.2", id="pid", time="t", norms="uk")
    with pytest.raises(ValueError, match="Cannot judge reliable change: pass norms="):
        clinical_significance(totals(), "oq-45.2", id="pid", time="t")
    with pytest.raises(ValueError, match="norm set 'es'.*neither rci nor reliability"):
        clinical_significance(totals(), "oq-45.2", id="pid", time="t", norms="es")
    with pytest.raises(ValueError, match="'scale' parameter 'sx'"):
        clinical_significance(totals(), "oq-45.2", id="pid", scale="sx", norms="us")
    dup = totals()
    dup.loc[1, "t"] = 1
    with pytest.raises(DataValidationError, match="patient 'a' has more than one administration"):
        clinical_significance(dup, "oq-45.2", id="pid", time="t", norms="us")
