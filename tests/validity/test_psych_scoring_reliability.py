"""score_items, reliability_table, unidim and omega_sem against psych 2.2.9 (+ lavaan 0.6-14).

Reference values: tests/data/r_results/validity/psych_scoring_reliability.json, made by
tests/data/r_scripts/validity/psych_scoring_reliability.R (each entry keeps its R call).
Every reference element is compared; a reference value with no counterpart fails.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics import validity
from psychometrics.exceptions import DataValidationError, ReliabilityWarning
from tests.refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "validity"
                  / "psych_scoring_reliability.json").read_text())
TIGHT = dict(rtol=1e-10, atol=1e-12)
KEYS = {"agree": ["-A1", "A2", "A3", "A4", "A5"], "conscientious": ["C1", "C2", "C3", "-C4", "-C5"],
        "extraversion": ["-E1", "-E2", "E3", "E4", "E5"], "neuroticism": ["N1", "N2", "N3", "N4", "N5"],
        "openness": ["O1", "-O2", "O3", "O4", "-O5"]}
HS_KEYS = {"vis_text": [f"x{i}" for i in range(1, 7)], "vis_speed": ["x1", "x2", "x3", "x7", "x8", "x9"],
           "all": [f"x{i}" for i in range(1, 10)]}


def as_array(m: dict) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in m["values"]], dtype=float)


def as_frame(m: dict) -> pd.DataFrame:
    return pd.DataFrame(as_array(m), index=m["rows"], columns=m["cols"])


@pytest.fixture(scope="module")
def bfi():
    return dataset("bfi").iloc[:, :25]


@pytest.fixture(scope="module")
def hs():
    return dataset("HolzingerSwineford1939")[[f"x{i}" for i in range(1, 10)]]


# ------------------------------------------------------------------ scoreItems
@pytest.mark.parametrize("case, kw", [
    ("score_items_median", {}),
    ("score_items_mean_totals", dict(impute="mean", totals=True)),
    ("score_items_none", dict(impute="none")),
    ("score_items_minmax", dict(min=1, max=7)),
])
def test_score_items_equals_psych(bfi, case, kw):
    ref = REF[case]
    keys = KEYS if case != "score_items_minmax" else dict(list(KEYS.items())[:2])
    res = validity.score_items(keys, bfi, **kw)
    names = ref["scale_names"]
    assert list(res.scores.columns) == names
    tab = res.scales.set_index("scale").loc[names]
    for ours, theirs in [("alpha", "alpha"), ("av_r", "av_r"), ("g6", "g6"), ("sn", "sn"),
                         ("n_items", "n_items"), ("med_r", "med_r"), ("ase", "ase")]:
        assert_allclose(tab[ours].to_numpy(float), np.asarray(ref[theirs], float), **TIGHT)
    if kw.get("impute") == "none":
        assert_allclose(tab["alpha_ob"], ref["alpha_ob"], **TIGHT)
        assert_allclose(tab["n_items_answered"], ref["num_ob_item"], **TIGHT)
    head = as_array(ref["scores_head"])
    assert_allclose(res.scores.iloc[:len(head)].to_numpy(), head, **TIGHT)
    assert int(res.scores.isna().to_numpy().sum()) == ref["scores_na"]
    for attr in ("cor", "corrected", "mims"):
        theirs = as_frame(ref[attr])
        assert_allclose(getattr(res, attr).loc[theirs.index, theirs.columns].to_numpy(),
                        theirs.to_numpy(), **TIGHT)
    for attr in ("item_cor", "item_corrected"):
        theirs = as_frame(ref[attr])
        assert_allclose(getattr(res, attr).loc[theirs.index, theirs.columns].to_numpy(),
                        theirs.to_numpy(), rtol=1e-9, atol=1e-12)
    miss = as_array(ref["missing_head"])
    assert_allclose(res.missing.iloc[:len(miss)].to_numpy(), miss)
    assert res.summary().as_text()
    assert list(res.to_frame()["scale"]) == names


def test_score_items_input_errors(bfi):
    with pytest.raises(DataValidationError, match="not in data"):
        validity.score_items({"s": ["A1", "Z9"]}, bfi)
    with pytest.raises(DataValidationError, match="impute"):
        validity.score_items(KEYS, bfi, impute="mode")
    with pytest.raises(DataValidationError, match="non-empty list"):
        validity.score_items({"s": "A1"}, bfi)
    const = bfi[["A1", "A2", "A3"]].copy()
    const["A3"] = 4.0
    with pytest.warns(ReliabilityWarning, match="'A3' has no variance"):
        res = validity.score_items({"s": ["A1", "A2", "A3"]}, const)
    assert res.scales["n_items"].iloc[0] == 2


# ------------------------------------------------------------------ reliability()
COLS = ["omega_h", "alpha", "omega_total", "uni", "r_fit", "fa_fit", "max_split", "min_split",
        "mean_r", "med_r", "n_items"]


def test_reliability_table_hs_equals_psych(hs):
    ref = as_frame(REF["reliability_hs"]["table"])
    res = validity.reliability_table(HS_KEYS, hs).table.set_index("scale")
    assert list(res.index) == list(ref.index)
    assert_allclose(res[COLS].to_numpy(float), ref.to_numpy(), rtol=1e-9, atol=1e-12)


def test_reliability_table_bfi_equals_psych(bfi):
    """Four scales equal psych. For openness, psych's minres start lands on a local optimum
    of the two-factor solution; our fit restarts and returns the better one (a
    ConvergenceWarning says so), so its omegas differ, while every column that does not
    depend on that solution still equals psych."""
    ref = as_frame(REF["reliability_bfi"]["table"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = validity.reliability_table(KEYS, bfi).table.set_index("scale")
    assert list(res.index) == list(ref.index)
    same = ["agree", "conscientious", "extraversion", "neuroticism"]
    # psych's minres stops at its own tolerance: omegas agree to about 1e-6
    assert_allclose(res.loc[same, COLS].to_numpy(float), ref.loc[same].to_numpy(), rtol=1e-5, atol=1e-9)
    solution_free = [c for c in COLS if c not in ("omega_h", "omega_total")]
    assert_allclose(res.loc["openness", solution_free].to_numpy(float),
                    ref.loc["openness"].to_numpy()[[COLS.index(c) for c in solution_free]],
                    rtol=1e-9, atol=1e-12)
    assert abs(res.loc["openness", "omega_h"] - ref.loc["openness"].iloc[0]) > 1e-3


def test_reliability_table_needs_enough_items(hs):
    with pytest.raises(DataValidationError, match="at least three"):
        validity.reliability_table({"two": ["x1", "x2"]}, hs)


def test_unidim_equals_psych(bfi):
    ref = as_frame(REF["unidim_bfi"]["table"])
    res = validity.unidim(bfi, KEYS).table.set_index("scale")
    cols = ["u", "av_r_fit", "fa_fit", "alpha", "av_r", "median_r", "unidim_a"]
    assert_allclose(res.loc[ref.index, cols].to_numpy(float), ref.to_numpy(), rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------------ omegaSem
@pytest.mark.parametrize("case, k", [("omega_sem_hs", 3), ("omega_sem_bfi", 5)])
def test_omega_sem_equals_psych(hs, bfi, case, k):
    ref = REF[case]
    data = hs if case.endswith("hs") else bfi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = validity.omega_sem(data, k)
    want = [line.replace(" ", "").replace("=~+", "=~") for line in ref["model"]]
    assert [line.replace(" ", "") for line in res.model.splitlines()] == want
    # lavaan stops its optimiser at a relative tolerance near 1e-7 of the loadings
    assert_allclose(res.omega_h, ref["omega_h"], rtol=1e-5)
    assert_allclose(res.omega_total, ref["omega_tot"], rtol=1e-5)
    assert_allclose(res.fit.fit_measures["chisq"], ref["chisq"], rtol=1e-6)
    assert res.fit.fit_measures["df"] == ref["df"]
    # A group factor whose loadings have mixed signs has no preferred orientation (psych
    # flips on the sign lavaan's optimiser happened to end with): compare up to sign.
    ours, theirs = res.loadings.to_numpy(), as_array(ref["cfa_loads"])
    sign = np.where(np.sum(ours * theirs, axis=0) < 0, -1.0, 1.0)
    assert_allclose(ours * sign, theirs, rtol=1e-4, atol=1e-5)
    assert_allclose(res.omega_group.to_numpy(), as_array(ref["omega_group"]), rtol=1e-4, atol=1e-5)
    assert "omega_h" in res.summary().as_text()


def test_split_half_accepts_a_correlation_matrix(hs):
    from psychometrics.reliability import split_half
    raw = split_half(hs).table.iloc[0]
    cor = split_half(hs.corr()).table.iloc[0]
    for col in ("max_split_half", "min_split_half", "mean_split_half", "alpha", "lambda6"):
        assert_allclose(cor[col], raw[col], rtol=1e-12)


def test_htmt2_with_a_zero_item_correlation_warns_and_htmt_still_works():
    from psychometrics.exceptions import DataQualityWarning
    a = np.array([1, -1, 1, -1, 1, -1, 1, -1], float)
    b = np.array([1, 1, -1, -1, 1, 1, -1, -1], float)   # exactly uncorrelated with a
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"x1": a, "x2": b, "x3": a + b + rng.normal(0, .1, 8),
                      "y1": a + rng.normal(0, .5, 8), "y2": b + rng.normal(0, .5, 8)})
    model = "f =~ x1 + x2 + x3\ng =~ y1 + y2"
    with pytest.warns(DataQualityWarning, match="HTMT2 is undefined for factor\\(s\\) f"):
        validity.htmt(model, d)
    arith = validity.htmt(model, d, htmt2=False)
    assert np.isfinite(arith.matrix.to_numpy()).all()


def _long_example():
    """The shipped example data (long: one row per patient and month)."""
    return pd.read_csv(Path(__file__).parents[2] / "examples" / "therapy_example.csv")


def test_longitudinal_invariance_refuses_occasions_with_different_items():
    d = _long_example()
    d.loc[d["month"] == 3, "wai_2"] = np.nan
    with pytest.raises(DataValidationError, match=r"'wai_2' at month = 3"):
        validity.longitudinal_invariance({"bond": ["wai_2", "wai_5", "wai_7", "wai_9"]}, d,
                                         "patient_id", "month", [1, 3])


def test_longitudinal_invariance_refuses_too_few_complete_patients():
    d = _long_example()
    keep = d["patient_id"].isin(d["patient_id"].unique()[:6])
    with pytest.raises(DataValidationError, match="missing='ml'"):
        validity.longitudinal_invariance({"bond": ["wai_2", "wai_5", "wai_7", "wai_9"]},
                                         d[keep], "patient_id", "month", [1, 3])


def test_invariance_names_a_group_too_small_for_its_covariance_matrix():
    from psychometrics import sem
    d = dataset("HolzingerSwineford1939")
    d = pd.concat([d[d["school"] == "Pasteur"], d[d["school"] == "Grant-White"].iloc[:5]])
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    with pytest.raises(DataValidationError, match="Group 'Grant-White' has 5 complete row"):
        sem.invariance(model, d, "school")
