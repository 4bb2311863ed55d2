"""icc(..., missing="reml") on incomplete ratings against psych::ICC (psych 2.2.9, lme4 1.1-31).

References made by tests/data/r_scripts/reliability/icc_missing.R
(tests/data/r_results/reliability/icc_missing.json). The masked cells (1-based row/col)
are stored in the JSON so the same ratings are removed here.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from psychometrics.exceptions import DataValidationError, SingularFitWarning
from psychometrics.reliability import icc
from tests.conftest import dataset
from tests.reliability._helpers import check

REF = Path(__file__).parents[1] / "data" / "r_results" / "reliability" / "icc_missing.json"
COLS = {"ICC": "icc", "F": "f", "df1": "df1", "df2": "df2", "p": "p_value",
        "lower bound": "ci_lower", "upper bound": "ci_upper"}
# lme4's optimiser (bobyqa) stops ~1e-6 (relative) from the REML optimum: iterative tolerance
LME = dict(rtol=1e-5, atol=1e-8)
# tiny p-values (sai: 5.7e-42 for subjects, 4.2e-39 for Judges) amplify that error by
# |d log p / d log F| (~ 200 for Judges: observed 2.6e-4). Our criterion is <= lme4's, so the
# gap is lme4's; the p-value formula itself is checked on psych's own F at 1e-10 below.
P_TOL = dict(rtol=5e-4, atol=0.0)


def _ref():
    with open(REF, encoding="utf-8") as fh:
        return json.load(fh)


def _sf():
    return pd.DataFrame(_ref()["sf_data"]).astype(float)


def _sfc():
    # sf with every row centred on the grand mean: subject variance on its boundary
    return pd.DataFrame(_ref()["sfc_data"]).astype(float)


def _sai():
    sai = dataset("sai")
    sel = (sai["study"] == "FLAT") & (sai["time"] == 1)
    x = sai.loc[sel, ["calm", "secure", "at.ease", "rested", "comfortable"]].dropna().iloc[:100]
    return x.reset_index(drop=True).astype(float)


def _masked(x, ref):
    x = x.copy()
    for cell in ref["mask"]:
        x.iloc[cell["row"] - 1, cell["col"] - 1] = np.nan
    return x


@pytest.mark.parametrize("data,block,singular", [(_sf, "ICC_sf_missing", False),
                                                  (_sfc, "ICC_sfc_missing", True),
                                                  (_sai, "ICC_sai_missing", False)])
def test_reml_missing_matches_psych(data, block, singular):
    ref = _ref()[block]
    x = _masked(data(), ref)
    assert int(x.isna().sum().sum()) == len(ref["mask"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = icc(x, missing="reml")
    # lme4: "boundary (singular) fit" exactly when the reference theta has a 0
    assert any(issubclass(w.category, SingularFitWarning) for w in caught) == singular
    assert res.reml["singular"] == singular == (min(ref["lmer"]["theta"]) == 0)
    # lme4::REMLcrit(lmer(values ~ 1 + (1|id) + (1|items), na.action = na.omit)):
    # our optimum is at least as good as lme4's
    crit = ref["lmer"]["REMLcrit"]
    assert res.reml["reml_criterion"] <= crit + 1e-12 * abs(crit)   # rounding of the criterion only
    check(res.reml["reml_criterion"], crit, f"{block} REMLcrit", rtol=1e-10, atol=0)
    # lme4::getME(m, "theta"), lme4::fixef(m), nobs(m)
    for ours, theirs in zip(res.reml["theta"], ref["lmer"]["theta"], strict=True):
        check(ours, theirs, f"{block} theta", **LME)
    check(res.reml["intercept"], ref["lmer"]["fixef"], f"{block} fixef", **LME)
    assert res.reml["n_ratings"] == ref["lmer"]["nobs"]
    # psych::ICC(x)$lme: variance and Percent of ID, Items, Residual, Total
    names = {"ID": "subjects", "Items": "raters", "Residual": "residual", "Total": "total"}
    assert len(ref["lme"]) == len(res.variance_components)
    for row in ref["lme"]:
        got = res.variance_components.loc[names[row["row"]]]
        check(got["variance"], row["variance"], f"{block} lme {row['row']} variance", **LME)
        check(got["percent"], row["Percent"], f"{block} lme {row['row']} Percent", **LME)
    # psych::ICC(x)$results: every element
    assert len(ref["results"]) == len(res.table)
    for exp, (_, got) in zip(ref["results"], res.table.iterrows(), strict=True):
        assert got["type"] == exp["type"] and got["description"] == exp["row"]
        for col, ours in COLS.items():
            check(got[ours], exp[col], f"{block} {exp['type']} {col}",
                  **(P_TOL if col == "p" else LME))
    # psych::ICC(x)$n.obs (all rows, as psych counts them), $n.judge, $MSW
    assert res.n_subjects == ref["n.obs"] and res.n_raters == ref["n.judge"]
    check(res.msw, ref["MSW"], f"{block} MSW", **LME)
    # psych::ICC(x)$stats: df, SumSq, MS, F, p of subjects / Judges / Residual
    stats = ref["stats"]
    for src, col in [("subjects", "subjects"), ("raters", "Judges"), ("residual", "Residual")]:
        for ours, theirs in [("df", "df"), ("sum_sq", "SumSq"), ("mean_sq", "MS"), ("f", "F"),
                             ("p_value", "p")]:
            check(res.anova.loc[src, ours], stats[theirs][col], f"{block} stats {theirs} {col}",
                  **(P_TOL if theirs == "p" else LME))
    # closed-form follow-up: psych's p from psych's own F and df
    # (-expm1(pf(F, df1, df2, log.p = TRUE)))
    for col in ["subjects", "Judges"]:
        df1, df2 = stats["df"][col], stats["df"]["Residual"]
        check(scipy_stats.f.sf(stats["F"][col], df1, df2), stats["p"][col],
              f"{block} p({col}) from F", rtol=1e-10, atol=0)
    for exp in ref["results"]:
        check(scipy_stats.f.sf(exp["F"], exp["df1"], exp["df2"]), exp["p"],
              f"{block} {exp['type']} p from F", rtol=1e-10, atol=0)


def test_reml_missing_on_complete_data_is_the_closed_form():
    x = _sai()
    a, b = icc(x), icc(x, missing="reml")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert b.reml == {}


@pytest.mark.parametrize("data", [_sf, _sai])
def test_iterative_reml_agrees_with_closed_form_on_complete_data(data):
    # the iterative optimiser applied to complete data must reach the closed-form
    # REML components (balanced case) - checks criterion and optimiser independently of R.
    # The criterion is flat along the rater sd (4-5 raters): observed 7e-7 (sai raters).
    from psychometrics.reliability._icc import _reml_components, _reml_components_incomplete
    x = data().to_numpy()
    n, k = x.shape
    gm, rm, cm = x.mean(), x.mean(axis=1), x.mean(axis=0)
    ssb = k * ((rm - gm) ** 2).sum()
    ssj = n * ((cm - gm) ** 2).sum()
    sse = ((x - rm[:, None] - cm[None, :] + gm) ** 2).sum()
    closed = _reml_components(ssb, ssj, sse, n, k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no ConvergenceWarning / SingularFitWarning
        s_e, s_s, s_r, info = _reml_components_incomplete(x)
    assert info["converged"] and not info["singular"]
    np.testing.assert_allclose([s_e, s_s, s_r], closed, rtol=2e-6, atol=0)


def test_default_still_raises_and_suggests_reml():
    x = _masked(_sf(), _ref()["ICC_sf_missing"])
    with pytest.raises(DataValidationError, match="missing='reml'"):
        icc(x)


def test_subject_without_ratings_named():
    x = _masked(_sf(), _ref()["ICC_sf_missing"])
    x.iloc[3, :] = np.nan
    with pytest.raises(DataValidationError, match="no ratings") as err:
        icc(x, missing="reml")
    assert [i.row for i in err.value.issues] == [4]    # position 3 is data row 4
    assert "data row 4" in str(err.value)


def test_rater_without_ratings_named():
    x = _masked(_sf(), _ref()["ICC_sf_missing"])
    x["J2"] = np.nan
    with pytest.raises(DataValidationError, match=r"\['J2'\].*no observed response"):
        icc(x, missing="reml")


def test_missing_reml_needs_method_reml():
    with pytest.raises(ValueError, match="missing.*'reml'.*method='reml'"):
        icc(_sf(), method="anova", missing="reml")


def test_singular_fit_warned():
    # identical subject means: the subject variance is on its boundary (0)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 4)) + np.array([0.0, 1.0, 2.0, 3.0])
    x = x - x.mean(axis=1, keepdims=True) + rng.normal(scale=0.01, size=(30, 1))
    x[rng.choice(30, 5, replace=False), rng.choice(4, 5)] = np.nan
    with pytest.warns(SingularFitWarning, match="subjects"):
        res = icc(pd.DataFrame(x, columns=list("abcd")), missing="reml")
    assert res.reml["singular"]
    assert res.variance_components.loc["subjects", "variance"] < 1e-6


def test_no_warning_on_regular_fit():
    x = _masked(_sf(), _ref()["ICC_sf_missing"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        icc(x, missing="reml")
