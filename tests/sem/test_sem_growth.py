"""sem.growth / sem.scale_growth against lavaan 0.6-14 growth()
(tests/data/r_scripts/sem/sem_growth.R -> tests/data/r_results/sem/sem_growth.json).

Demo.growth is lavaan's own data set (lavaan::Demo.growth, exported to CSV).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem
from psychometrics.exceptions import (DataQualityWarning, DataValidationError,
                                      ModelSpecificationError, ModelSpecificationWarning)

from sem_helpers import check_fit_measures, check_parameter_estimates, load_csv, load_json

LIN = """i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
        s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"""
QUAD = LIN + "\n q =~ 0*t1 + 1*t2 + 4*t3 + 9*t4"
TIC = LIN + "\n i ~ x1 + x2\n s ~ x1 + x2"
TVC = TIC + "\n t1 ~ c1\n t2 ~ c2\n t3 ~ c3\n t4 ~ c4"
MONTHS = [1, 2, 3, 4, 6, 8, 10, 12]
# lavaan's FIML-corrected robust RMSEA p-values depend on its EM h1 moments (stopped at
# ~1e-6), as in test_sem_fiml.py: compared at rtol 1e-3
LOOSE = {"rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust"}


def _dg_missing():
    d = load_csv("Demo.growth").copy()
    row = np.arange(1, len(d) + 1)          # R's 1-based row numbers
    d.loc[row % 5 == 0, "t2"] = np.nan
    d.loc[row % 3 == 1, "t4"] = np.nan
    d.loc[row % 7 == 2, "t3"] = np.nan
    return d


CASES = {
    "linear": (LIN, "DG", {}),
    "quadratic": (QUAD, "DG", {}),
    "time_invariant": (TIC, "DG", {}),
    "time_varying": (TVC, "DG", {}),
    "linear_fiml": (LIN, "DGm", {"missing": "ml"}),
    "time_invariant_fiml": (TIC, "DGm", {"missing": "ml"}),
}


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_growth.json")


@pytest.fixture(scope="module")
def fits():
    data = {"DG": load_csv("Demo.growth"), "DGm": _dg_missing()}
    return {k: sem.growth(m, data[d], **kw) for k, (m, d, kw) in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_growth_estimates(fits, ref, case):
    # growth(model, data): parameterEstimates(fit); estimates rtol 1e-5, SEs 1e-4
    assert fits[case].converged and ref[case]["converged"]
    check_parameter_estimates(fits[case], ref[case]["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4)


@pytest.mark.parametrize("case", list(CASES))
def test_growth_fit_measures(fits, ref, case):
    # fitMeasures(fit), statistics rtol 1e-4 (issue #20); most agree to 1e-6
    fm = ref[case]["fitMeasures"]
    check_fit_measures(fits[case], fm, rtol=1e-4, skip=LOOSE)
    for k in LOOSE:
        if k.replace("_", ".") in fm:
            assert_allclose(fits[case].fit_measures[k], fm[k.replace("_", ".")], rtol=1e-3)


@pytest.mark.parametrize("case", list(CASES))
def test_growth_implied_means(fits, ref, case):
    # lavInspect(fit, "implied")$mean
    mu = fits[case].implied_mean[1]
    for v, val in ref[case]["implied_mean"].items():
        assert_allclose(mu[v], val, rtol=1e-5, atol=1e-8, err_msg=v)


def test_growth_defaults_in_table(fits):
    # lavaan growth(): observed intercepts fixed at 0, latent means free
    e = fits["linear"].estimates
    ov_int = e[(e["op"] == "~1") & e["lhs"].isin(["t1", "t2", "t3", "t4"])]
    assert len(ov_int) == 4 and (ov_int["est"] == 0).all() and not ov_int["free"].any()
    lv_int = e[(e["op"] == "~1") & e["lhs"].isin(["i", "s"])]
    assert len(lv_int) == 2 and lv_int["free"].all()


def test_growth_does_not_warn_and_rejects_overrides():
    d = load_csv("Demo.growth")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelSpecificationWarning)
        sem.growth(LIN, d)
    with pytest.raises(ModelSpecificationError, match="'meanstructure'"):
        sem.growth(LIN, d, meanstructure=False)


def _therapy_long():
    d = load_csv("therapy_sim")
    d = d.assign(bond=d["wai_3"] + d["wai_5"] + d["wai_7"] + d["wai_9"])
    return d


def test_scale_growth_from_long_scores(ref):
    # growth(BOND, data = W, missing = "ml"): W = bond at months 1..12 (chosen months), wide
    d = _therapy_long()
    with pytest.warns(DataQualityWarning, match="occasion not modelled"):
        g = sem.scale_growth(d, "bond", id="patient_id", time="month", times=MONTHS)
    r = ref["bond_months_fiml"]
    check_parameter_estimates(g.fit, r["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4)
    check_fit_measures(g.fit, r["fitMeasures"], rtol=1e-4, skip=LOOSE)
    # every long row is used or listed
    assert g.n_long_rows == len(d)
    assert g.n_long_dropped == len(g.dropped) == int((~d["month"].isin(MONTHS)).sum())
    assert g.fit.n_obs == (150,)
    # slope loadings = months - first month (as the R syntax)
    assert "s =~ 0*bond_1 + 1*bond_2 + 2*bond_3 + 3*bond_4 + 5*bond_6" in g.model


def test_scale_growth_scores_with_the_bank(ref):
    # the same model, the raw WAI-SR items scored with the bank first (bond = sum of 4)
    d = load_csv("therapy_sim")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        g = sem.scale_growth(d, "bond", instrument="wai-sr", form="standard", id="patient_id",
                             time="month", times=MONTHS)
    r = ref["bond_months_fiml"]
    check_parameter_estimates(g.fit, r["parameterEstimates"], rtol_est=1e-5,
                              rtol_se=1e-4)
    tab = g.to_frame()
    assert set(tab["lhs"]) == {"i", "s"}
    s = g.summary()
    assert "Latent growth model" in s.as_text() and "bond_12" in s.as_text()
    tr = g.trajectory()
    assert list(tr["time"]) == [float(m) for m in MONTHS]
    # lavInspect(fit, "implied")$mean
    for v, val in r["implied_mean"].items():
        assert_allclose(tr.set_index("variable").loc[v, "implied_mean"], val, rtol=1e-5)


def test_scale_growth_bad_input():
    d = _therapy_long()
    dup = pd.concat([d, d.iloc[[0]]])
    with pytest.raises(DataValidationError, match="share a person and occasion"):
        sem.scale_growth(dup, "bond", id="patient_id", time="month", times=MONTHS)
    with pytest.raises(ModelSpecificationError, match="'nope'"):
        sem.scale_growth(d, "nope", id="patient_id", time="month")
    with pytest.raises(DataValidationError, match="varies within person"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            sem.scale_growth(d, "bond", id="patient_id", time="month", times=MONTHS,
                             covariates=["wai_1"])


def test_trajectory_figure(fits, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    fig = sem.plot_trajectory(fits["linear"])
    ax = fig.axes[0]
    # implied line through lavInspect(fit, "implied")$mean at times 0..3
    x, y = ax.lines[0].get_data()
    assert_allclose(x, [0, 1, 2, 3])
    tr = sem.growth_trajectory(fits["linear"])
    assert_allclose(y, tr["implied_mean"].to_numpy())
    fig.savefig(tmp_path / "traj.png")
    assert (tmp_path / "traj.png").stat().st_size > 1000
