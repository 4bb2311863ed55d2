"""The one input layer: psychometrics.io.item_data and the analyses that accept its object.

Issue #12: item columns mapped to a bank's item ids, range-checked once, id/time/group typed,
every dropped row counted with its reason; scoring, reliability, EFA, SEM, multilevel, IRT
and the report all accept it; an empty DataFrame is refused by every entry point; rows are
1-based data rows everywhere.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import (DataQualityWarning, DataValidationError, DataIssue,
                                      ModelSpecificationError)
from psychometrics.io import ItemData, item_data
from psychometrics.simulate import example_data

PEAR = [f"pear_{i}" for i in range(1, 11)]


@pytest.fixture(scope="module")
def example():
    return example_data()


def pear_frame(n=12, seed=1):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.integers(1, 7, size=(n, 10)).astype(float),
                      columns=[f"Q{i}" for i in range(1, 11)])
    df.insert(0, "pid", np.repeat(np.arange(1, n // 2 + 1), 2).astype(float))
    df.insert(1, "visit", [str(v) for v in np.tile([1, 2], n // 2)])
    df.insert(2, "site", np.tile(["a", "b", "c"], n // 3))
    return df


COLS = {f"pear_{i}": f"Q{i}" for i in range(1, 11)}


# ------------------------------------------------------------------ the object
def test_columns_mapped_to_item_ids_and_keys_typed():
    d = item_data(pear_frame(), "pear", columns=COLS, id="pid", time="visit", group="site")
    assert isinstance(d, ItemData)
    assert d.items == tuple(PEAR) and list(d.responses.columns) == PEAR
    assert d.columns["pear_3"] == "Q3"
    # ids written as 1.0, 2.0 (what a CSV reader gives) are integers; "1"/"2" times numbers
    assert d.keys["pid"].dtype == np.int64 and d.keys["visit"].dtype == np.int64
    assert d.keys["site"].tolist()[:3] == ["a", "b", "c"]
    assert list(d.to_frame().columns) == ["pid", "visit", "site", *PEAR]
    assert d.n_input == len(d) == 12 and len(d.dropped) == 0 and len(d.issues) == 0
    assert d.data_rows.tolist() == list(range(1, 13))


def test_every_offending_cell_named_once_with_its_data_row():
    df = pear_frame()
    df.loc[3, "Q2"] = 9            # outside 1..6
    df.loc[7, "Q5"] = 2.5          # not a whole number
    df["Q9"] = df["Q9"].astype(object)
    df.loc[0, "Q9"] = "often"      # text
    with pytest.raises(DataValidationError) as err:
        item_data(df, "pear", columns=COLS)
    got = sorted((i.row, i.column, i.value) for i in err.value.issues)
    assert got == [(1, "Q9", "often"), (4, "Q2", 9.0), (8, "Q5", 2.5)]
    msg = str(err.value)
    assert "data row 4, column 'Q2', value 9" in msg and "np." not in msg
    assert "Data rows are numbered from 1" in msg

    d = item_data(df, "pear", columns=COLS, invalid="missing")
    assert sorted(d.issues["data_row"].tolist()) == [1, 4, 8]
    assert set(d.issues["action"]) == {"set missing"}
    assert np.isnan(d.responses.loc[3, "pear_2"]) and np.isnan(d.responses.loc[0, "pear_9"])


def test_absent_item_column_named_with_a_hint():
    df = pear_frame().rename(columns={"Q4": "q4"})
    with pytest.raises(DataValidationError, match="'q4': names are case-sensitive"):
        item_data(df, "pear", columns=COLS)


def test_dropped_rows_counted_with_their_reason():
    df = pear_frame()
    df.loc[2, [f"Q{i}" for i in range(1, 11)]] = np.nan     # nothing answered
    df.loc[5, "pid"] = np.nan                                # no patient id
    with pytest.raises(DataValidationError, match="the id is missing") as err:
        item_data(df, "pear", columns=COLS, id="pid")
    assert [i.row for i in err.value.issues] == [6]
    with pytest.warns(DataQualityWarning, match="2 of 12 row"):
        d = item_data(df, "pear", columns=COLS, id="pid", drop_empty=True, missing_keys="drop")
    assert d.dropped.to_dict("records") == [
        {"data_row": 3, "index": 2, "reason": "no item answered"},
        {"data_row": 6, "index": 5, "reason": "id missing"}]
    assert len(d) + len(d.dropped) == d.n_input == 12
    assert 3 not in d.data_rows and 6 not in d.data_rows


def test_non_numeric_time_refused():
    df = pear_frame()
    df.loc[4, "visit"] = "second"
    with pytest.raises(DataValidationError, match="time column must hold numbers") as err:
        item_data(df, "pear", columns=COLS, time="visit")
    assert [(i.row, i.value) for i in err.value.issues] == [(5, "second")]


def test_items_without_a_bank_and_a_scale():
    df = pear_frame()
    d = item_data(df, items=["Q1", "Q2", "Q3"], scale=(1, 6))
    assert d.items == ("Q1", "Q2", "Q3") and d.scale == (1.0, 6.0, True)
    df.loc[1, "Q1"] = 0
    with pytest.raises(DataValidationError, match="outside the response scale 1..6"):
        item_data(df, items=["Q1", "Q2", "Q3"], scale=(1, 6))


def test_reads_a_file(tmp_path):
    df = pear_frame()
    path = tmp_path / "pear.csv"
    df.to_csv(path, index=False, sep=";")
    d = item_data(path, "pear", columns=COLS, id="pid", time="visit")
    assert d.source == str(path) and len(d) == 12
    assert_allclose(d.responses.to_numpy(), df[list(COLS.values())].to_numpy())


# ------------------------------------------------------------------ every analysis accepts it
def test_score_uses_the_checked_columns_without_checking_again(monkeypatch):
    from psychometrics.io import itemdata as io_itemdata
    from psychometrics.scoring import engine, score

    df = pear_frame()
    ref = score(df.rename(columns={v: k for k, v in COLS.items()}), "pear", id="pid",
                time="visit")
    d = item_data(df, "pear", columns=COLS, id="pid", time="visit")

    def no_second_check(*a, **k):
        raise AssertionError("responses checked a second time")
    monkeypatch.setattr(engine, "iter_item_columns", no_second_check)
    monkeypatch.setattr(engine, "check_responses", no_second_check)
    monkeypatch.setattr(io_itemdata, "check_responses", no_second_check)
    res = score(d, "pear")
    # the same scores; only the key columns differ: typed by item_data (integers)
    pd.testing.assert_frame_equal(res.scores.drop(columns=["pid", "visit"]),
                                  ref.scores.drop(columns=["pid", "visit"]))
    assert res.scores["pid"].tolist() == ref.scores["pid"].astype(int).tolist()
    assert res.id == "pid" and res.time == "visit"


def test_score_carries_the_issues_of_the_item_data():
    from psychometrics.scoring import score

    df = pear_frame()
    df.loc[3, "Q2"] = 9
    d = item_data(df, "pear", columns=COLS, invalid="missing")
    res = score(d, "pear")
    assert res.issues[["row", "column", "action"]].values.tolist() == [[3, "Q2", "set missing"]]
    with pytest.raises(ValueError, match="does not apply to an ItemData"):
        score(d, "pear", columns=COLS)


def test_reliability_efa_irt_accept_it(example):
    from psychometrics.efa import fa
    from psychometrics.irt import fit_irt
    from psychometrics.reliability import alpha, instrument_reliability

    first = example[example["month"] == 1].reset_index(drop=True)
    d = item_data(first, "pear", id="patient_id", time="month")
    a = alpha(d)
    assert_allclose(a.raw_alpha, alpha(first[PEAR]).raw_alpha, rtol=1e-12)
    ir = instrument_reliability(d, "pear")
    assert_allclose(ir.table["raw_alpha"].to_numpy(),
                    instrument_reliability(first, "pear").table["raw_alpha"].to_numpy(),
                    rtol=1e-12)
    f1, f2 = fa(d, n_factors=2), fa(first[PEAR], n_factors=2)
    assert_allclose(f1.loadings.to_numpy(), f2.loadings.to_numpy(), rtol=1e-10)
    sub = item_data(first, "pear", items=PEAR[:6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        i1 = fit_irt(sub)
        i2 = fit_irt(first[PEAR[:6]])
    assert_allclose(i1.loglik, i2.loglik, rtol=1e-10)


def test_sem_and_multilevel_accept_it(example):
    from psychometrics.multilevel import decompose, mixed
    from psychometrics.sem import fit

    d = item_data(example, "pear", id="patient_id", time="month")
    model = "f1 =~ pear_1 + pear_2 + pear_3 + pear_4"
    first = d.to_frame()
    s1, s2 = fit(model, d), fit(model, first)
    assert_allclose(s1.estimates["est"].to_numpy(), s2.estimates["est"].to_numpy(), rtol=1e-12)
    m1 = mixed("pear_1 ~ month + (1 | patient_id)", d)
    m2 = mixed("pear_1 ~ month + (1 | patient_id)", first)
    assert_allclose(m1.fixef.to_numpy(), m2.fixef.to_numpy(), rtol=1e-12)
    dec = decompose(d, "patient_id", "month", ["pear_1"])
    assert_allclose(dec["pear_1_within"].to_numpy(),
                    decompose(first, "patient_id", "month", ["pear_1"])["pear_1_within"]
                    .to_numpy(), rtol=1e-12)


# ------------------------------------------------------------------ empty input is refused
def _entry_points():
    from psychometrics.efa import fa, kmo, omega, parallel_analysis
    from psychometrics.irt import dif_lr, fit_irt
    from psychometrics.multilevel import decompose, lead, mixed, progress, statsby
    from psychometrics.reliability import (alpha, icc, instrument_reliability,
                                           multilevel_reliability, multilevel_reliability_long,
                                           polychoric, split_half, tetrachoric)
    from psychometrics.scoring import score
    from psychometrics.sem import fit, growth, invariance
    from psychometrics.validity import corr_test, describe

    return {
        "score": lambda d: score(d, "pear"),
        "alpha": alpha, "split_half": split_half, "icc": icc, "polychoric": polychoric,
        "instrument_reliability": lambda d: instrument_reliability(d, "pear"),
        "multilevel_reliability": lambda d: multilevel_reliability(d, "id", "t", ["a", "b"]),
        "fa": lambda d: fa(d, n_factors=1), "omega": lambda d: omega(d, n_factors=1),
        "fit": lambda d: fit("f =~ a + b + c", d),
        "mixed": lambda d: mixed("a ~ b + (1 | id)", d),
        "decompose": lambda d: decompose(d, "id", "t", ["a"]),
        "progress": lambda d: progress(d, "a", ["b"], "id", "t"),
        "fit_irt": fit_irt, "dif_lr": lambda d: dif_lr(d, "id"),
        "kmo": kmo, "parallel_analysis": parallel_analysis, "tetrachoric": tetrachoric,
        "multilevel_reliability_long":
            lambda d: multilevel_reliability_long(d, "id", "t", "a", "b"),
        "growth": lambda d: growth("i =~ 1*a + 1*b + 1*c", d),
        "invariance": lambda d: invariance("f =~ a + b + c", d, group="id"),
        "lead": lambda d: lead(d, "id", "t", "a"),
        "statsby": lambda d: statsby(d, "id", ["a"]),
        "describe": describe, "corr_test": corr_test,
    }


@pytest.mark.parametrize("name", sorted(_entry_points()))
@pytest.mark.parametrize("frame", ["no columns", "header only"])
def test_empty_dataframe_refused_with_a_clear_error(name, frame):
    df = (pd.DataFrame() if frame == "no columns" else
          pd.DataFrame({c: pd.Series(dtype=float) for c in ("id", "t", "a", "b", "c")}))
    with pytest.raises(DataValidationError, match=r"is empty \(0 row\(s\)") as err:
        _entry_points()[name](df)
    assert "this function" not in str(err.value)


# ------------------------------------------------------------------ one row numbering
def test_data_issue_row_is_the_one_based_data_row():
    i = DataIssue(1, "x", 5, "bad")
    assert i.data_row == 1 and i.position == 0 and str(i).startswith("data row 1,")
    assert DataIssue(None, "x", None, "bad").data_row is None


def test_formula_messages_name_data_rows_not_index_labels():
    from psychometrics.multilevel import mixed

    df = pd.DataFrame({"y": np.arange(8.0), "x": ["1", "2", "three", "4"] * 2,
                       "g": [1, 1, 2, 2, 3, 3, 4, 4]}, index=[100 + k for k in range(8)])
    with pytest.raises(DataValidationError) as err:
        mixed("y ~ I(x * 2) + (1 | g)", df)
    assert [(i.row, i.index) for i in err.value.issues] == [(3, 102), (7, 106)]
    assert "data row 3 (index 102)" in str(err.value)


def test_items_without_a_scale_still_refuse_text_and_infinity():
    df = pd.DataFrame({"a": [1, np.inf, 3], "b": ["x", 2, 3]})
    with pytest.raises(DataValidationError) as err:
        item_data(df, items=["a", "b"])
    assert [(i.row, i.column) for i in err.value.issues] == [(1, "b"), (2, "a")]
    assert "-inf" not in str(err.value) and "infinite value" in str(err.value)
    d = item_data(df, items=["a", "b"], invalid="missing")
    assert np.isnan(d.responses.loc[1, "a"]) and np.isnan(d.responses.loc[0, "b"])


def test_efa_cli_checks_the_bank_items_once_and_hints_without_a_missing_option(tmp_path,
                                                                                capsys):
    from psychometrics.cli import main

    df = example_data().iloc[:200]
    df = df.assign(pear_2=df["pear_2"].where(df.index != 4, 9.0))
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    code = main(["efa", "fit", str(path), "--instrument", "pear", "--factors", "2"])
    err = capsys.readouterr().err
    assert code != 0 and "data row 5, column 'pear_2', value 9" in err
    assert "--invalid" not in err and "Traceback" not in err
