"""psychometrics.reliability.split_half against psych::splitHalf (psych 2.2.9)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from psychometrics.exceptions import ReliabilityWarning
from psychometrics.reliability import alpha, split_half
from tests.conftest import dataset, reference
from tests.reliability._helpers import CLOSED, check, extra

FIELDS = {"maxrb": "max_split_half", "minrb": "min_split_half", "meanr": "mean_split_half",
          "alpha": "alpha", "lambda2": "lambda2", "lambda6": "lambda6", "av.r": "average_r",
          "med.r": "median_r"}


def _compare(res, ref, what, fields=FIELDS):
    for key, value in ref.items():
        if key in ("call", "ci"):
            continue
        if key not in fields:
            continue
        check(res.table[fields[key]].iloc[0], value, f"{what} {key}", **CLOSED)
    missing = [k for k in ref if k not in ("call", "ci") and k not in FIELDS]
    assert not missing, f"{what}: reference fields without counterpart {missing}"


def test_case4_agreeableness():
    bfi = dataset("bfi")
    ar = bfi[[f"A{i}" for i in range(1, 6)]].copy()
    ar["A1"] = 7 - ar["A1"]
    # psych::splitHalf(Ar)
    res = split_half(ar)
    _compare(res, reference("case4_reliability")["splitHalf_A"], "splitHalf_A")
    assert res.table["exhaustive"].iloc[0]


def test_case4_reverse_argument_equals_recoded_data():
    bfi = dataset("bfi")
    a = bfi[[f"A{i}" for i in range(1, 6)]]
    res = split_half(a, reverse=["A1"])
    _compare(res, reference("case4_reliability")["splitHalf_A"], "splitHalf_A (reverse=)")


@pytest.mark.parametrize("block,items,key", [
    # psych::splitHalf(bfi[, c(C1..C5, A2, A3, A4)], key = c("C1","C2","C3","-C4","-C5","A2","A3","A4"))  -- 35 splits
    ("splitHalf_8", [f"C{i}" for i in range(1, 6)] + ["A2", "A3", "A4"], ["C4", "C5"]),
    # psych::splitHalf(bfi[, c(C1..C5, A2, A3)], key = c("C1","C2","C3","-C4","-C5","A2","A3"))  -- odd: 17.5 "splits"
    ("splitHalf_7", [f"C{i}" for i in range(1, 6)] + ["A2", "A3"], ["C4", "C5"]),
    # psych::splitHalf(bfi[, c("A2","A3","A5")])
    ("splitHalf_3", ["A2", "A3", "A5"], None),
])
def test_extra_exhaustive(block, items, key):
    res = split_half(dataset("bfi")[items], reverse=key)
    _compare(res, extra()[block], block)


def test_sampled_splits_18_items():
    # set.seed(1); psych::splitHalf(bfi[, 1:18]) samples 10000 random splits: the
    # max/min/mean differ with the random numbers, the closed-form parts must agree.
    with pytest.warns(ReliabilityWarning, match="automatically reversed"):
        res = split_half(dataset("bfi").iloc[:, :18], seed=1)
    closed = {k: v for k, v in FIELDS.items() if k not in ("maxrb", "minrb", "meanr")}
    ref = {k: v for k, v in extra()["splitHalf_18"].items() if k not in ("maxrb", "minrb", "meanr")}
    _compare(res, ref, "splitHalf_18", fields=closed)
    assert not res.table["exhaustive"].iloc[0]
    assert res.table["n_splits"].iloc[0] == 10000
    sh = extra()["splitHalf_18"]
    # sampled values are within the range of all splits: loose agreement with R's sample
    check(res.table["mean_split_half"].iloc[0], sh["meanr"], "sampled mean", rtol=5e-3)


def test_sampling_is_seeded():
    x = dataset("bfi").iloc[:, :18]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        a = split_half(x, seed=3, n_sample=500)
        b = split_half(x, seed=3, n_sample=500)
    np.testing.assert_array_equal(a.splits, b.splits)


def test_lambda6_equals_alpha_g6():
    x = dataset("bfi")[[f"C{i}" for i in range(1, 6)]]
    s = split_half(x, reverse=["C4", "C5"])
    a = alpha(x, reverse=["C4", "C5"])
    check(s.lambda6, a.g6, "lambda6 = G6(smc)", **CLOSED)
    check(s.alpha, a.std_alpha, "alpha = std alpha", **CLOSED)


def test_best_split_reports_halves():
    res = split_half(dataset("bfi")[[f"C{i}" for i in range(1, 6)]], reverse=["C4", "C5"])
    assert set(res.max_split["half"]) == {1, 2}
    assert res.max_split.set_index("item")["key"].to_dict()["C4"] == -1


def test_brute_force_guard():
    with pytest.raises(ValueError, match="brute=True would examine"):
        split_half(dataset("bfi").iloc[:, :25], brute=True, check_keys=False)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 items"):
        split_half(dataset("bfi")[["A1"]])
    with pytest.raises(ValueError, match="'n_sample' parameter"):
        split_half(dataset("bfi")[["A2", "A3"]], n_sample=0)
    with pytest.raises(KeyError, match="Z1"):
        split_half(dataset("bfi")[["A2", "A3"]], reverse="Z1")


def test_covariance_version():
    bfi = dataset("bfi")
    ar = bfi[[f"A{i}" for i in range(1, 6)]].copy()
    ar["A1"] = 7 - ar["A1"]
    # psych::splitHalf(Ar, covar = TRUE)
    _compare(split_half(ar, covar=True), extra()["splitHalf_A_covar"], "splitHalf covar")


def test_raw_splits_and_interval():
    bfi = dataset("bfi")
    ar = bfi[[f"A{i}" for i in range(1, 6)]].copy()
    ar["A1"] = 7 - ar["A1"]
    ref = extra()["splitHalf_A_raw"]
    res = split_half(ar)
    # psych::splitHalf(Ar, raw = TRUE)$raw : every split examined, in psych's order
    check(res.splits, ref["raw"], "raw splits", **CLOSED)
    # psych::splitHalf(Ar, raw = TRUE)$ci : quantiles .025, .5, .975
    ci = res.ci.iloc[0]
    check([ci["ci_lower"], ci["median"], ci["ci_upper"]], [ref["ci"]["2.5%"], ref["ci"]["50%"],
                                                     ref["ci"]["97.5%"]], "ci", **CLOSED)
