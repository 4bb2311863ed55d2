"""Reading and writing response files: CSV, Excel, SPSS (.sav, value labels), parquet."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError
from psychometrics.io import long_to_wide, read_responses, write_table
from psychometrics.io.validate import check_responses
from psychometrics.scoring import score

ITEMS = [f"oq_{i}" for i in range(1, 46)]


def oq_frame(n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 5, size=(n, 45)).astype(float)
    X[1, 3] = np.nan
    df = pd.DataFrame(X, columns=ITEMS)
    df.insert(0, "pid", np.arange(n) // 2)
    df.insert(1, "t", np.arange(n) % 2)
    return df


@pytest.mark.parametrize("ext", ["csv", "xlsx", "sav", "parquet", "tsv"])
def test_round_trip_and_scores_equal(tmp_path, ext):
    df = oq_frame()
    path = write_table(df, tmp_path / f"data.{ext}")
    back = read_responses(path)
    assert list(back.columns) == list(df.columns)
    assert_allclose(back[ITEMS].to_numpy(float), df[ITEMS].to_numpy(float), rtol=0)
    a = score(df, "oq-45.2", id="pid", time="t").scores
    b = score(path, "oq-45.2", id="pid", time="t").scores
    assert_allclose(b["total"].to_numpy(), a["total"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("ext", ["csv", "xlsx", "sav", "parquet"])
def test_write_scores_with_statuses(tmp_path, ext):
    res = score(oq_frame(), "oq-45.2", id="pid", time="t")
    path = write_table(res.scores, tmp_path / f"scores.{ext}")
    back = read_responses(path)
    assert len(back) == len(res.scores)
    assert list(back["sd_status"].astype(str)) == list(res.scores["sd_status"].astype(str))
    assert_allclose(back["total"].to_numpy(float), res.scores["total"].to_numpy(), rtol=1e-12)


def test_spss_value_labels_map_onto_the_response_scale(tmp_path):
    import pyreadstat

    df = oq_frame()[ITEMS] + 1  # coded 1..5 in the file
    labels = {1: "Never", 2: "Rarely", 3: "Sometimes", 4: "Frequently", 5: "Almost always"}
    path = tmp_path / "coded.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={c: labels for c in ITEMS})
    raw = read_responses(path)
    assert np.nanmax(raw.to_numpy()) == 5
    mapped = read_responses(path, instrument="oq-45.2")
    assert_allclose(mapped.to_numpy(float), (df - 1).to_numpy(float), rtol=0)
    assert mapped.attrs["value_label_map"]["oq_1"] == {1.0: 0.0, 2.0: 1.0, 3.0: 2.0, 4.0: 3.0,
                                                       5.0: 4.0}
    # scoring the path applies the labels; the codes as such would be out of range
    res = score(path, "oq-45.2")
    assert res.scores["total"].notna().sum() == len(df) - 0
    with pytest.raises(DataValidationError, match="outside the response scale"):
        score(raw, "oq-45.2")


def test_spss_contradicting_labels(tmp_path):
    import pyreadstat

    df = pd.DataFrame({"oq_1": [1.0, 2.0]})
    path = tmp_path / "bad.sav"
    pyreadstat.write_sav(df, str(path),
                         variable_value_labels={"oq_1": {1: "Never", 2: "never "}})
    with pytest.raises(DataValidationError, match="codes 1 and 2 both map to response 0"):
        read_responses(path, instrument="oq-45.2")


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"extension '\.json'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.json")
    with pytest.raises(FileNotFoundError, match="No response file"):
        read_responses(tmp_path / "nope.csv")


def test_long_to_wide():
    long = pd.DataFrame({"id": [1, 1, 2, 2, 1], "item": ["a", "b", "a", "b", "a"],
                         "response": [1, 2, 3, 4, 5]})
    with pytest.raises(DataValidationError) as err:
        long_to_wide(long, id="id", items=["a", "b"])
    rows = [i.row for i in err.value.issues]
    assert rows == [1, 5]      # 1-based data rows of the repeated (id, item)
    wide = long_to_wide(long.iloc[:4], id="id", items=["a", "b"])
    assert_allclose(wide[["a", "b"]].to_numpy(), [[1, 2], [3, 4]], rtol=0)
    with pytest.raises(DataValidationError, match="value 'c': unknown item"):
        long_to_wide(pd.DataFrame({"id": [1], "item": ["c"], "response": [1]}), id="id",
                     items=["a", "b"])


def test_check_responses_kinds():
    s = pd.Series([1, None, "2", " ", "x", 7, 2.5], dtype=object)
    c = check_responses(s, 1, 5)
    assert list(c.bad_rows) == [4, 5, 6]
    assert c.bad_values == ["x", 7, 2.5]
    assert list(c.missing) == [False, True, False, True, True, True, True]
    assert_allclose(c.values, [1, np.nan, 2, np.nan, np.nan, np.nan, np.nan], rtol=0, atol=0)
    # nullable integers
    c = check_responses(pd.Series([1, None, 9], dtype="Int64"), 1, 5)
    assert list(c.bad_rows) == [2] and list(c.missing) == [False, True, True]
    # plain ints, all fine: no copy, no mask
    arr = np.array([1, 2, 3], dtype=np.int8)
    c = check_responses(pd.Series(arr), 1, 5)
    assert c.missing is None and c.n_bad == 0


def test_text_in_a_csv_column_is_reported_with_its_row(tmp_path):
    df = oq_frame().astype({"oq_9": object})
    df.loc[4, "oq_9"] = "sometimes"
    path = tmp_path / "text.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError,
                       match=r"data row 5, column 'oq_9', value 'sometimes': text in a numeric column"):
        score(path, "oq-45.2")
    res = score(path, "oq-45.2", invalid="missing")
    assert list(res.issues["row"]) == [4] and res.scores.loc[4, "sd_status"] == "imputed"


def test_spss_end_labels_only_shift_the_other_codes(tmp_path):
    import pyreadstat

    # WAI-S bank labels only 1 = Never and 7 = Always; file codes 0..6 with labels at the ends
    df = pd.DataFrame({"wai_1": [0.0, 3.0, 6.0], "wai_2": [1.0, 2.0, 5.0]})
    path = tmp_path / "ends.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={
        "wai_1": {0: "Never", 6: "Always"}, "wai_2": {0: "Never", 6: "always"}})
    got = read_responses(path, instrument="wai-s")
    assert_allclose(got.to_numpy(float), (df + 1).to_numpy(float), rtol=0)


def test_spss_inconsistent_partial_labels_are_an_error(tmp_path):
    import pyreadstat

    df = pd.DataFrame({"wai_1": [0.0, 3.0, 6.0]})
    path = tmp_path / "bad_ends.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={
        "wai_1": {0: "Never", 6: "5"}})
    with pytest.raises(DataValidationError, match="code 3 has no value label"):
        read_responses(path, instrument="wai-s")
