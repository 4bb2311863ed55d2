"""psychometrics.reliability.icc against psych::ICC (psych 2.2.9).

References made by tests/data/r_scripts/reliability/reliability_extra.R.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import DataValidationError
from psychometrics.reliability import icc
from tests.conftest import dataset
from tests.reliability._helpers import CLOSED, check, extra

COLS = {"ICC": "icc", "F": "f", "df1": "df1", "df2": "df2", "p": "p_value",
        "lower bound": "ci_lower", "upper bound": "ci_upper"}


def _sf():
    return pd.DataFrame(extra()["sf_data"])


def _sai():
    sai = dataset("sai")
    sel = (sai["study"] == "FLAT") & (sai["time"] == 1)
    return sai.loc[sel, ["calm", "secure", "at.ease", "rested", "comfortable"]].dropna().iloc[:100]


def _compare(res, ref, what, **tol):
    rows = ref["results"]
    assert len(rows) == len(res.table)
    for exp, (_, got) in zip(rows, res.table.iterrows(), strict=True):
        assert got["type"] == exp["type"] and got["description"] == exp["row"]
        for col, ours in COLS.items():
            check(got[ours], exp[col], f"{what} {exp['type']} {col}", **tol)
    assert res.n_subjects == ref["n.obs"] and res.n_raters == ref["n.judge"]
    check(res.msw, ref["MSW"], f"{what} MSW", **tol)


def _compare_stats(res, stats, block, tol, p_tol):
    # psych::ICC(x)$stats: df, SumSq, MS, F, p by subjects/Judges/Residual
    for src, col in [("subjects", "subjects"), ("raters", "Judges"), ("residual", "Residual")]:
        for ours, theirs in [("df", "df"), ("sum_sq", "SumSq"), ("mean_sq", "MS"), ("f", "F"),
                             ("p_value", "p")]:
            check(res.anova.loc[src, ours], stats[theirs][col], f"{block} stats {theirs} {col}",
                  **(p_tol if theirs == "p" else tol))


@pytest.mark.parametrize("data,block", [(_sf, "ICC_sf_aov"), (_sai, "ICC_sai_aov")])
def test_anova_route(data, block):
    # psych::ICC(x, lmer = FALSE)$results  -- closed form
    res = icc(data(), method="anova")
    _compare(res, extra()[block], block, **CLOSED)
    # psych::ICC(x, lmer = FALSE)$stats
    _compare_stats(res, extra()[block]["stats"], block, CLOSED, CLOSED)


def test_reml_route_sf():
    # psych::ICC(sf)$results (lmer = TRUE). lme4's optimiser stops near, not at, the
    # REML optimum our closed form gives: compare at its precision.
    res = icc(_sf())
    _compare(res, extra()["ICC_sf_lmer"], "ICC_sf_lmer", rtol=1e-5, atol=1e-8)
    # psych::ICC(sf)$stats: psych rebuilds the mean squares from lme4's variance components
    # (observed 2.5e-6 relative); the p-values amplify that (observed 2e-5)
    _compare_stats(res, extra()["ICC_sf_lmer"]["stats"], "ICC_sf_lmer",
                   dict(rtol=1e-5, atol=1e-8), dict(rtol=1e-4, atol=0))


def test_reml_route_sai():
    # psych::ICC(sai subset)$results (lmer = TRUE); p-values are tiny and amplify
    # lme4's ~1e-7 error in the variance components.
    res = icc(_sai())
    ref = extra()["ICC_sai_lmer"]
    for exp, (_, got) in zip(ref["results"], res.table.iterrows(), strict=True):
        for col, ours in COLS.items():
            tol = dict(rtol=1e-4, atol=0) if col == "p" else dict(rtol=1e-5, atol=1e-8)
            check(got[ours], exp[col], f"ICC_sai_lmer {exp['type']} {col}", **tol)
    assert len(ref["results"]) == len(res.table)
    assert res.n_subjects == ref["n.obs"] and res.n_raters == ref["n.judge"]
    check(res.msw, ref["MSW"], "ICC_sai_lmer MSW", rtol=1e-5, atol=1e-8)
    # psych::ICC(...)$stats: mean squares rebuilt from lme4's variance components (observed
    # 1.3e-6 relative); the tiny p-values amplify that (observed 9e-5)
    _compare_stats(res, ref["stats"], "ICC_sai_lmer", dict(rtol=1e-5, atol=1e-8),
                   dict(rtol=1e-4, atol=0))


def test_reml_equals_anova_for_icc2_icc3():
    a = icc(_sai(), method="anova").table.set_index("type")
    b = icc(_sai(), method="reml").table.set_index("type")
    for t in ["ICC2", "ICC3", "ICC2k", "ICC3k"]:
        check(b.loc[t, "icc"], a.loc[t, "icc"], t, **CLOSED)


def test_boundary_variance_component_is_zero():
    # raters differ less than chance: the REML rater variance is 0, not negative
    rng = np.random.default_rng(2)
    subj = rng.normal(size=(40, 1))
    x = pd.DataFrame(subj + rng.normal(scale=1.0, size=(40, 3)), columns=list("abc"))
    x = x - x.mean() + x.to_numpy().mean()   # identical rater means: SS_raters = 0
    res = icc(x)
    assert res.variance_components.loc["raters", "variance"] == 0.0
    assert (res.variance_components["variance"] >= 0).all()


def test_missing_rows_named():
    x = _sf()
    x.loc[2, "J3"] = np.nan
    with pytest.raises(DataValidationError, match="missing ratings") as err:
        icc(x)
    assert err.value.issues[0].row == 3     # position 2 is data row 3
    res = icc(x, missing="drop")
    assert res.n_subjects == 5


def test_bad_method():
    with pytest.raises(ValueError, match="'method' parameter of icc"):
        icc(_sf(), method="lmer")


def test_summary():
    assert "ICC2k" in icc(_sf()).summary().as_text()
