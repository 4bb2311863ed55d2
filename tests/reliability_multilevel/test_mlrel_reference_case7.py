"""psych::multilevel.reliability on therapy_sim (tests/data/reference/case7_within_between.json).

R: psych::multilevel.reliability(d, grp = 'patient_id', Time = 'month', items = wai_cols,
                                 alpha = FALSE, aov = FALSE, lmer = TRUE, lme = TRUE)

Tolerances.  The reference components come from lme4's optimiser (nloptwrap/BOBYQA) and nlme's,
which stop before the REML optimum: two R runs on the same data in a different row order differ
by up to 9e-4 relative in the Time component (case7 vs tests/data/r_results/mlrel), and lme4's
REML criterion is 1e-6 above ours.  Our optimum is exact to rounding (see test_exactness.py), so
the crossed components are compared with an absolute tolerance of 5e-5 x the total variance and
the coefficients with rtol 1e-4; the nested components, which psych reads from nlme's printed
VarCorr (7 significant digits), with rtol 1e-4.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import COEFS, WAI, case7, fitted, psych_components, therapy
from psychometrics.exceptions import SingularFitWarning
from psychometrics.reliability.multilevel import multilevel_reliability

CASES = {"all_12": WAI, "goal_subscale": WAI[:4]}


def _ref(block):
    return case7() if block == "all_12" else case7()["goal_subscale"]


@pytest.fixture(scope="module")
def results():
    out = {}
    for block, items in CASES.items():
        with pytest.warns(SingularFitWarning, match="time:items"):
            out[block] = multilevel_reliability(therapy(), "patient_id", "month", items)
    return out


@pytest.mark.parametrize("block", list(CASES))
def test_coefficients(results, block):
    res, ref = results[block], _ref(block)
    for name in COEFS:
        # mr$RkF, mr$R1R, mr$RkR, mr$Rc (lmer components), mr$RkRn, mr$Rcn (nlme components)
        assert_allclose(getattr(res, name), ref[name], rtol=1e-4, atol=0, err_msg=name)


@pytest.mark.parametrize("block", list(CASES))
def test_crossed_components(results, block):
    res, ref = results[block], _ref(block)
    ours = {row.psych_label: row for row in res.components.itertuples()}
    refc = psych_components(ref)
    total = refc["Total"]["variance"]
    crossed = ["ID", "Time", "Items", "ID x time", "ID x items", "time x items", "Residual", "Total"]
    for label in crossed:
        # mr$components[label, "variance"]  (lme4::VarCorr of the crossed lmer fit)
        assert_allclose(ours[label].variance, refc[label]["variance"], rtol=0, atol=5e-5 * total,
                        err_msg=label)
        # mr$components[label, "Percent"]
        assert_allclose(ours[label].percent, refc[label]["Percent"], rtol=0, atol=5e-5,
                        err_msg=label)
    assert len(ours) == len(crossed)


@pytest.mark.parametrize("block", list(CASES))
def test_nested_components(results, block):
    res, ref = results[block], _ref(block)
    ours = {row.psych_label: row for row in res.nested_components.itertuples()}
    refc = psych_components(ref)
    for label in ["id", "id(time)", "residual", "total"]:
        # mr$components[c("id", "id(time)", "residual", "total"), ]  (nlme::lme, printed VarCorr)
        assert_allclose(ours[label].variance, refc[label]["variance"], rtol=1e-4, err_msg=label)
        assert_allclose(ours[label].percent, refc[label]["Percent"], rtol=1e-4, err_msg=label)
    assert len(ours) == 4


def test_counts(results):
    res, ref = results["all_12"], case7()
    # mr$n.obs, mr$n.time, mr$n.items
    assert (res.n_persons, res.n_times, res.n_items) == (ref["n.obs"], ref["n.time"], ref["n.items"])
    assert res.n_observations == 22320 and res.n_missing == 0


def test_singular_flag(results):
    # lme4: "boundary (singular) fit" (time x items variance ~ 0); isSingular(mod) is TRUE
    res = results["all_12"]
    assert res.singular and res.crossed_fit.singular and not res.nested_fit.singular
    assert res.converged
    assert res.components.set_index("component").loc["time:items", "variance"] == 0.0
    assert res.crossed_fit.path == "complete-grid"
