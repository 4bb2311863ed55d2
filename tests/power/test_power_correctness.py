"""Power against theory: nominal rejection under the null, the closed form for a
level-1 predictor, and the performance measures against hand computation."""
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.power import (closed_form_for, load_design, performance, run_power,
                                 within_power_closed_form)

PROGRESS_MODEL = "y_lead ~ x_within + x_between_c + y + (1 | id)"


def _mc_band(p: float, n: int) -> float:
    """3 Monte Carlo SEs of a proportion p estimated from n replications."""
    return 3 * math.sqrt(p * (1 - p) / n)


def test_zero_effect_rejects_at_the_nominal_rate():
    # The study's lagged model (progress's 'x' model) on the simulator's dynamics with no
    # alliance effect at all: every test's rejection rate is alpha within MC error, and
    # every 95% interval covers the truth 95% of the time within MC error.
    R = 300
    res = run_power({"seed": 20261202, "replications": R,
                     "fixed": {"n_patients": 30, "n_months": 6, "within": 0.0, "between": 0.0},
                     "analysis": {"type": "mixed", "formula": PROGRESS_MODEL}},
                    workers=2, progress=False)
    t = res.table
    assert list(t["effect"]) == ["within", "between", "contextual"]
    assert (t["n_ok"] == R).all()
    for _, row in t.iterrows():
        assert abs(row["power"] - 0.05) <= _mc_band(0.05, R), row.to_dict()
        assert abs(row["coverage"] - 0.95) <= _mc_band(0.95, R), row.to_dict()
        assert abs(row["bias"]) <= 3 * row["bias_mcse"], row.to_dict()


def _closed_form_check(R: int, cells: dict, seed: int):
    design = load_design({"seed": seed, "replications": R,
                          "fixed": {"lag": 0, "x_ar": 0.0, "x_trend": 0.0, "between": 0.0,
                                    "n_months": 5},
                          "grid": cells,
                          "analysis": {"type": "mixed",
                                       "formula": "y ~ x_within + x_between_c + (1 | id)",
                                       "effects": {"within": "x_within"}}})
    res = run_power(design, workers=2, progress=False)
    for c in design.cells():
        exact = closed_form_for(c.params())
        row = res.table[res.table["cell"] == c.index].iloc[0]
        assert row["n_ok"] == R
        assert abs(row["power"] - exact) <= _mc_band(exact, R), (c.values, row["power"], exact)


def test_power_of_a_level1_predictor_matches_the_closed_form():
    # CI-sized: 2 cells x 250 replications (band 3 MC SEs, about +-0.09 at power 0.5)
    _closed_form_check(250, {"n_patients": [20, 40], "within": [3.0]}, seed=17)


@pytest.mark.slow
def test_power_of_a_level1_predictor_matches_the_closed_form_large():
    _closed_form_check(2000, {"n_patients": [20, 40, 80], "within": [1.5, 3.0]}, seed=18)


def test_closed_form_limits():
    # zero effect: power = alpha exactly (the t-test's size)
    assert_allclose(within_power_closed_form(20, 5, 0.0, 0.35, 7.0), 0.05, rtol=1e-8)
    # huge effect: power 1; monotone in N
    assert within_power_closed_form(200, 10, 5.0, 0.35, 7.0) > 0.999999
    p = [within_power_closed_form(n, 5, 3.0, 0.35, 7.0) for n in (10, 20, 40, 80)]
    assert all(a < b for a, b in zip(p, p[1:]))
    # plug-in normal approximation (Raudenbush & Liu: E[SS_w] = N (n-1) s_w^2) is close for
    # large N, where SS_w hardly varies
    N, n, g, sw, se = 400, 5, 1.0, 0.35, 7.0
    delta = g * sw * math.sqrt(N * (n - 1)) / se
    from scipy import stats
    approx = stats.norm.sf(1.959963984540054 - delta) + stats.norm.cdf(-1.959963984540054 - delta)
    assert_allclose(within_power_closed_form(N, n, g, sw, se), approx, atol=2e-3)


def test_performance_measures_by_hand():
    design = load_design({"seed": 1, "replications": 4, "alpha": 0.05,
                          "analysis": {"type": "mixed", "formula": "y ~ x + (1 | id)",
                                       "effects": {"within": "x"}}})
    truth = design.cells()[0].truth()["within"]
    est = np.array([truth - 1.0, truth + 1.0, truth + 3.0, np.nan])
    rec = pd.DataFrame({
        "cell": 0, "rep": range(4), "effect": "within", "truth": truth, "est": est,
        "se": [1.0, 1.0, 1.0, np.nan], "df": 10.0, "p_value": [0.01, 0.2, 0.04, np.nan],
        "ci_lower": est - 2.0, "ci_upper": est + 2.0, "converged": [True, False, True, False],
        "singular": [False, False, True, False], "n_obs": 50, "n_patients": 10,
        "error": [None, None, None, "EstimationError: boom"], "warning": None})
    t = performance(rec, design).iloc[0]
    counts = ("n_rep", "n_ok", "n_failed", "n_nonconverged", "n_singular")
    assert tuple(t[c] for c in counts) == (4, 3, 1, 1, 1)
    ok = est[:3]
    assert_allclose(t["power"], 2 / 3, rtol=1e-15)
    assert_allclose(t["power_mcse"], math.sqrt(2 / 9 / 3), rtol=1e-15)
    assert_allclose(t["bias"], ok.mean() - truth, rtol=1e-12)
    assert_allclose(t["emp_se"], ok.std(ddof=1), rtol=1e-12)
    assert_allclose(t["bias_mcse"], ok.std(ddof=1) / math.sqrt(3), rtol=1e-12)
    assert_allclose(t["rmse"], math.sqrt(((ok - truth) ** 2).mean()), rtol=1e-12)
    sq = (ok - truth) ** 2
    assert_allclose(t["rmse_mcse"], sq.std(ddof=1) / math.sqrt(3) / (2 * t["rmse"]), rtol=1e-12)
    # intervals: [t-3, t+1] covers, [t-1, t+3] covers, [t+1, t+5] does not
    assert_allclose(t["coverage"], 2 / 3, rtol=1e-15)
    assert t["n_planned"] == 150 * 12


def test_closed_form_equals_an_independent_r_computation():
    # tests/data/r_scripts/power/closed_form.R: the same integral with R's pt(ncp=) and
    # integrate() (rel.tol 1e-10); both quadratures are far more precise than rtol 1e-7
    import json
    from pathlib import Path

    ref = json.loads((Path(__file__).resolve().parents[1] / "data" / "r_results" / "power"
                      / "closed_form.json").read_text(encoding="utf-8"))
    assert len(ref["cases"]) == 5
    for case in ref["cases"]:
        ours = within_power_closed_form(case["n_patients"], case["n_months"], case["within"],
                                        case["x_within_sd"], case["e_sd"])
        # R: power_within(N, n, gw, sw, se)  (closed_form.R)
        assert_allclose(ours, case["power"], rtol=1e-7, atol=0, err_msg=str(case))
