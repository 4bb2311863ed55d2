"""psychometrics.reliability.alpha against psych::alpha (psych 2.2.9)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning, DataValidationError, ReliabilityWarning
from psychometrics.reliability import alpha, alpha_from_matrix
from tests.conftest import dataset, reference
from tests.reliability._helpers import CLOSED, DROP, ITEM, TOTAL, check, compare_rows, extra


def _items(prefix, numbers=range(1, 6)):
    return [f"{prefix}{i}" for i in numbers]


CASES = {
    # block: (items, reverse, source)
    "alpha_A": (_items("A"), ["A1"], "case4"),       # psych::alpha(bfi[, A1:A5], keys = "A1")
    "alpha_C": (_items("C"), ["C4", "C5"], "case4"),  # psych::alpha(bfi[, C1:C5], keys = c("C4","C5"))
    "alpha_E": (_items("E"), ["E1", "E2"], "extra"),  # psych::alpha(bfi[, E1:E5], keys = c("E1","E2"))
    "alpha_O3": (["O1", "O3", "O5"], ["O5"], "extra"),  # psych::alpha(bfi[, c(O1,O3,O5)], keys = "O5")
    "alpha_N2": (["N1", "N2"], None, "extra"),        # psych::alpha(bfi[, c("N1","N2")])
    "alpha_lsat6": ([f"Q{i}" for i in range(1, 6)], None, "extra"),  # psych::alpha(lsat6): KR-20
    # psych::alpha(bfi[, A1:A5], keys = "A1", cumulative = TRUE): sum scores
    "alpha_A_cumulative": (_items("A"), ["A1"], "extra"),
}


def _ref(block):
    src = CASES[block][2]
    return reference("case4_reliability")[block] if src == "case4" else extra()[block]


@pytest.fixture(scope="module")
def results():
    bfi = dataset("bfi")
    lsat6 = dataset("lsat6")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        warnings.simplefilter("ignore", DataQualityWarning)
        for block, (items, rev, _) in CASES.items():
            data = lsat6 if block == "alpha_lsat6" else bfi
            out[block] = alpha(data[items], reverse=rev, cumulative=block.endswith("cumulative"))
    return out


@pytest.mark.parametrize("block", list(CASES))
def test_total(results, block):
    ref = _ref(block)["total"]  # psych::alpha(...)$total
    total = results[block].total.iloc[0]
    assert set(ref) <= set(TOTAL)
    for key, value in ref.items():
        check(total[TOTAL[key]], value, f"{block} total {key}", **CLOSED)


@pytest.mark.parametrize("block", list(CASES))
def test_alpha_drop(results, block):
    # psych::alpha(...)$alpha.drop
    compare_rows(results[block].alpha_drop, _ref(block)["alpha.drop"], DROP, f"{block} alpha.drop",
                 **CLOSED)


@pytest.mark.parametrize("block", list(CASES))
def test_item_stats(results, block):
    # psych::alpha(...)$item.stats
    compare_rows(results[block].item_stats, _ref(block)["item.stats"], ITEM, f"{block} item.stats",
                 **CLOSED)


@pytest.mark.parametrize("block", list(CASES))
def test_response_freq(results, block):
    # psych::alpha(...)$response.freq
    ref = _ref(block)["response.freq"]
    freq = results[block].response_freq
    assert len(ref) == len(freq)
    for row in ref:
        for col, value in row.items():
            if col == "row":
                continue
            assert col in freq.columns, f"{block}: response category {col} missing"
            check(freq.loc[row["row"], col], value, f"{block} freq {row['row']} {col}", **CLOSED)


@pytest.mark.parametrize("block", list(CASES))
def test_feldt_unidim_fit(results, block):
    ref = _ref(block)
    res = results[block]
    ci = res.confidence_intervals.loc["feldt"]
    # psych::alpha(...)$feldt
    check(ci["ci_lower"], ref["feldt"]["lower.ci"], "feldt lower", **CLOSED)
    check(ci["ci_upper"], ref["feldt"]["upper.ci"], "feldt upper", **CLOSED)
    check(res.feldt_r_bar, ref["feldt"]["r.bar"], "feldt r.bar", **CLOSED)
    if "alpha" in ref["feldt"]:
        check(ci["est"], ref["feldt"]["alpha"], "feldt alpha", **CLOSED)
    else:
        # psych::alpha.ci puts Feldt's interval around the raw alpha: psych::alpha(...)$total$raw_alpha
        check(ci["est"], ref["total"]["raw_alpha"], "feldt alpha = raw_alpha", **CLOSED)
    # psych::alpha(...)$Unidim, $Fit
    unidim = ref["Unidim"]["Unidim"] if isinstance(ref["Unidim"], dict) else ref["Unidim"]
    check(res.unidim, unidim, "Unidim", **CLOSED)
    check(res.fit_off, ref["Fit"], "Fit", **CLOSED)


@pytest.mark.parametrize("block", ["alpha_A", "alpha_C"])
def test_scores_and_keys(results, block):
    ref = reference("case4_reliability")[block]
    res = results[block]
    # head(psych::alpha(...)$scores, 10)
    check(res.scores.iloc[:10].to_numpy(), ref["scores_first10"], "scores", **CLOSED)
    assert res.n_items == ref["nvar"]
    # psych::alpha(...)$keys: "-A1" marks a reversed item
    expected = {k.lstrip("-"): (-1 if k.startswith("-") else 1) for k in ref["keys"][0]}
    assert res.keys.to_dict() == expected


def test_listwise_equals_complete_cases():
    bfi = dataset("bfi")
    items = _items("A")
    a = alpha(bfi[items], reverse=["A1"], missing="listwise")
    b = alpha(bfi[items].dropna(), reverse=["A1"])
    check(a.total.to_numpy(), b.total.to_numpy(), "listwise", **CLOSED)
    assert a.n_obs == bfi[items].dropna().shape[0]


def test_bootstrap_is_seeded():
    bfi = dataset("bfi")
    a = alpha(bfi[_items("A")], reverse="A1", n_iter=200, seed=7)
    b = alpha(bfi[_items("A")], reverse="A1", n_iter=200, seed=7)
    assert a.boot.shape == (200,)
    np.testing.assert_array_equal(a.boot, b.boot)
    ci = a.confidence_intervals.loc["bootstrap"]
    assert ci["ci_lower"] < a.raw_alpha < ci["ci_upper"]


def test_alpha_from_covariance_matrix_equals_raw():
    bfi = dataset("bfi")
    x = bfi[_items("C")].dropna()
    raw = alpha(x, reverse=["C4", "C5"])
    mat = alpha_from_matrix(x.cov(), reverse=["C4", "C5"], n_obs=len(x))
    for col in ["raw_alpha", "std_alpha", "g6_smc", "average_r", "signal_to_noise", "ase", "median_r"]:
        check(mat.total[col].iloc[0], raw.total[col].iloc[0], col, **CLOSED)
    check(mat.alpha_drop.to_numpy(), raw.alpha_drop.to_numpy(), "drop", **CLOSED)


def test_check_keys_reverses_negative_items():
    bfi = dataset("bfi")
    with pytest.warns(ReliabilityWarning, match="A1"):
        a = alpha(bfi[_items("A")], check_keys=True)
    assert a.reversed_items == ("A1",)
    b = alpha(bfi[_items("A")], reverse="A1")
    check(a.raw_alpha, b.raw_alpha, "check_keys", **CLOSED)


def test_response_range_controls_reversal():
    bfi = dataset("bfi")
    a = alpha(bfi[_items("A")], reverse="A1", response_range=(0, 7))
    b = alpha(bfi[_items("A")], reverse="A1")
    # reversal as 7 - x instead of 7 - x over the observed 1..6: a shift of the mean only
    check(a.item_stats.loc["A1", "mean"], b.item_stats.loc["A1", "mean"], "mean", **CLOSED)
    c = alpha(bfi[_items("A")], reverse="A1", response_range=(1, 7))
    check(c.item_stats.loc["A1", "mean"], b.item_stats.loc["A1", "mean"] + 1, "mean+1", **CLOSED)
    check(c.raw_alpha, b.raw_alpha, "alpha unchanged", **CLOSED)


# --------------------------------------------------------------------------- bad input
def test_fewer_than_two_items():
    with pytest.raises(ValueError, match="at least 2 items.*A1"):
        alpha(dataset("bfi")[["A1"]])


def test_constant_item_is_named():
    x = dataset("bfi")[_items("A")].copy()
    x["A3"] = 4.0
    with pytest.raises(DataValidationError, match="A3.*no variance"):
        alpha(x)


def test_all_missing_row_warns_and_is_kept_as_psych():
    # bfi positions 675, 1121, 1647, 2306 (data rows 676, 1122, ...) answered none of O1,
    # O3, O5; psych counts them in n (reference alpha_O3 matches above).
    x = dataset("bfi")[["O1", "O3", "O5"]]
    with pytest.warns(DataQualityWarning,
                      match=r"4 row\(s\) have every item missing \(data rows 676, 1122"):
        a = alpha(x, reverse="O5")
    assert a.n_obs == len(x)
    assert a.scores.isna().sum() == 4
    assert "answered no item" in a.summary().as_text()


def test_all_missing_row_dropped_on_request():
    x = dataset("bfi")[_items("A")].iloc[:200].copy()
    x.iloc[5] = np.nan
    with pytest.warns(DataQualityWarning,
                      match=r"every item missing and were dropped \(data rows 6;"):
        a = alpha(x, reverse="A1", empty_rows="drop")
    assert a.n_obs == 199
    assert a.dropped_rows == (5,)
    assert np.isfinite(a.total.to_numpy()).all()
    b = alpha(x.drop(index=5), reverse="A1")
    check(a.total.to_numpy(), b.total.to_numpy(), "drop", **CLOSED)


def test_negative_average_covariance_warns():
    x = dataset("bfi")[_items("A")]
    with pytest.warns(ReliabilityWarning, match="average covariance.*negative"):
        a = alpha(x[["A2", "A3"]].dropna(how="all"), reverse=["A3"])
    assert a.negative_average_covariance


def test_negatively_correlated_item_warns_with_name():
    with pytest.warns(ReliabilityWarning, match=r"\['A1'\].*reverse"):
        a = alpha(dataset("bfi")[_items("A")])
    assert a.negatively_correlated_items == ("A1",)


def test_unknown_reverse_item():
    with pytest.raises(KeyError, match="A9"):
        alpha(dataset("bfi")[_items("A")], reverse=["A9"])


def test_non_numeric_item_named():
    x = dataset("bfi")[_items("A")].copy()
    x["A2"] = x["A2"].astype(object)
    x.loc[x.index[4], "A2"] = "agree"
    with pytest.raises(DataValidationError, match="non-numeric") as err:
        alpha(x)
    # the cell at position 4 is data row 5 (1-based, as in every message)
    assert [(i.row, i.column, i.value) for i in err.value.issues] == [(5, "A2", "agree")]
    assert "data row 5, column 'A2', value 'agree'" in str(err.value)


def test_numeric_text_is_read_as_numbers():
    x = dataset("bfi")[_items("A")].iloc[:300].copy()
    text = x.astype(object).where(x.isna(), x.astype("Int64").astype(str))
    assert_allclose(alpha(text, reverse="A1").raw_alpha, alpha(x, reverse="A1").raw_alpha, rtol=1e-12)


def test_bad_options():
    x = dataset("bfi")[_items("A")]
    with pytest.raises(ValueError, match="'missing' parameter of alpha"):
        alpha(x, missing="complete")
    with pytest.raises(ValueError, match="'level' parameter"):
        alpha(x, level=1.5)
    with pytest.raises(ValueError, match="either reverse= or check_keys"):
        alpha(x, reverse="A1", check_keys=True)


def test_result_is_frozen_and_summary():
    a = alpha(dataset("bfi")[_items("A")], reverse="A1")
    with pytest.raises(AttributeError):
        a.n_obs = 3
    text = a.summary().as_text()
    assert "Coefficient alpha" in text and "A1" in text
    assert list(a.total.columns) == ["raw_alpha", "std_alpha", "g6_smc", "average_r",
                                     "signal_to_noise", "ase", "mean", "sd", "median_r"]


def test_items_never_answered_together_named():
    x = pd.DataFrame({"a": [1, 2, 3, np.nan, np.nan, np.nan, 2],
                      "b": [np.nan, np.nan, np.nan, 1, 2, 3, np.nan],
                      "c": [1, 3, 2, 2, 3, 1, 2]})
    with pytest.raises(ValueError, match="'a' and 'b' are never answered"):
        alpha(x)


def test_item_without_any_response_named():
    x = dataset("bfi")[_items("A")].copy()
    x["A4"] = np.nan
    with pytest.raises(DataValidationError, match="A4.*no observed response"):
        alpha(x)


def test_numpy_input_gets_default_names():
    x = dataset("bfi")[_items("C")].dropna().to_numpy()
    res = alpha(x, reverse=["V4", "V5"])
    ref = alpha(dataset("bfi")[_items("C")].dropna(), reverse=["C4", "C5"])
    check(res.raw_alpha, ref.raw_alpha, "array input", **CLOSED)
    assert list(res.item_stats.index) == ["V1", "V2", "V3", "V4", "V5"]


def test_matrix_input_with_n_obs_equals_psych():
    ref = extra()["alpha_C_matrix"]
    x = dataset("bfi")[_items("C")].dropna()
    assert len(x) == ref["n.obs"]
    res = alpha_from_matrix(x.cov(), reverse=["C4", "C5"], n_obs=len(x))
    # psych::alpha(cov(Cc), keys = c("C4","C5"), n.obs = nrow(Cc))$total
    for key, value in ref["total"].items():
        check(res.total[TOTAL[key]].iloc[0], value, f"matrix total {key}", **CLOSED)
    compare_rows(res.alpha_drop, ref["alpha.drop"], DROP, "matrix alpha.drop", **CLOSED)
    # $item.stats of a matrix: r (= std.r), r.cor, r.drop
    compare_rows(res.item_stats, ref["item.stats"], ITEM, "matrix item.stats", **CLOSED)
