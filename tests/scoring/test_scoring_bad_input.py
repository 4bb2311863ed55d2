"""Bad input: one DataValidationError listing every offending row, column and value, or,
with invalid="missing", each offending cell blank and reported. Never a dropped row."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError, InstrumentError, InstrumentNotFoundError
from psychometrics.scoring import score

ITEMS = [f"oq_{i}" for i in range(1, 46)]


def oq(n=4, value=2.0):
    df = pd.DataFrame(np.full((n, 45), value), columns=ITEMS)
    df.insert(0, "pid", np.arange(n) // 2)
    df.insert(1, "t", np.arange(n) % 2)
    return df


def test_out_of_range_names_row_column_value():
    df = oq()
    df.loc[2, "oq_7"] = 5
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2")
    msg = str(err.value)
    assert "data row 3, column 'oq_7', value 5.0" in msg
    assert "outside the response scale 0..4" in msg
    assert "invalid='missing'" in msg  # says how to go on
    assert len(err.value.issues) == 1


def test_non_integer_on_integer_scale():
    df = oq()
    df.loc[1, "oq_3"] = 2.5
    with pytest.raises(DataValidationError, match=r"data row 2, column 'oq_3', value 2\.5: not a whole"):
        score(df, "oq-45.2")


def test_text_in_numeric_column():
    df = oq().astype({"oq_9": object})
    df.loc[0, "oq_9"] = "often"
    df.loc[3, "oq_9"] = "3"          # numeric text is a number
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2")
    assert "data row 1, column 'oq_9', value 'often': text in a numeric column" in str(err.value)
    assert len(err.value.issues) == 1


def test_missing_item_column_names_it_and_suggests():
    df = oq().rename(columns={"oq_12": "OQ_12"}).drop(columns="oq_30")
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2")
    msg = str(err.value)
    assert "item 'oq_12'" in msg and "'OQ_12'" in msg and "case-sensitive" in msg
    assert "item 'oq_30'" in msg and "columns={'oq_30': ...}" in msg


def test_unknown_item_in_columns_mapping():
    with pytest.raises(ValueError, match=r"'oq_99'.*not an item of oq-45.2"):
        score(oq(), "oq-45.2", columns={"oq_99": "x"})


def test_duplicate_administration():
    df = oq()
    df.loc[3, "t"] = 0   # patient 1 at time 0 twice (rows 2 and 3)
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2", id="pid", time="t")
    msg = str(err.value)
    assert "data row 3, column 't'" in msg and "data row 4, column 't'" in msg
    assert "(pid=1, t=0) occurs in data rows [3, 4]" in msg   # one row numbering


def test_one_error_lists_every_problem_and_caps_the_listing():
    df = oq(n=40)
    df["oq_1"] = 9.0          # 40 bad cells
    df.loc[5, "oq_2"] = -1
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2")
    e = err.value
    assert len(e.issues) == 41
    assert "41 problem(s) in 40 of 40 row(s)" in str(e)
    assert "... and 21 more" in str(e)
    frame = e.to_frame()
    assert set(frame["column"]) == {"oq_1", "oq_2"}
    # sorted by row, then column
    assert list(frame["data_row"][:7]) == [1, 2, 3, 4, 5, 6, 6]


def test_invalid_missing_blanks_the_cells_and_reports_each():
    df = oq()
    df.loc[0, "oq_2"] = 7      # SD cell -> blank -> imputed
    df.loc[1, "oq_7"] = 1.5    # IR cell -> blank -> imputed
    df = df.astype({"oq_4": object})
    df.loc[3, "oq_4"] = "n/a?"  # SR cell
    res = score(df, "oq-45.2", invalid="missing", id="pid", time="t")
    assert len(res.scores) == len(df)
    iss = res.issues
    assert list(iss["row"]) == [0, 1, 3]
    assert list(iss["column"]) == ["oq_2", "oq_7", "oq_4"]
    assert list(iss["value"]) == [7.0, 1.5, "n/a?"]
    assert (iss["action"] == "set missing").all()
    # all answered items are 2 -> every blank imputed as 2: scores as if complete
    assert_allclose(res.scores["total"].to_numpy(), [90.0] * 4, rtol=1e-10)
    assert list(res.scores["sd_status"]) == ["imputed", "complete", "complete", "complete"]
    assert list(res.scores["sr_status"]) == ["complete", "complete", "complete", "imputed"]


def test_invalid_missing_with_missing_column():
    df = oq().drop(columns="oq_4")
    res = score(df, "oq-45.2", invalid="missing")
    assert res.issues["row"].isna().all() and list(res.issues["column"]) == ["oq_4"]
    assert (res.scores["sr_status"] == "imputed").all()


def test_duplicates_kept_and_reported_with_invalid_missing():
    df = oq()
    df.loc[1, "t"] = 0
    res = score(df, "oq-45.2", id="pid", time="t", invalid="missing")
    assert len(res.scores) == 4
    assert list(res.issues["row"]) == [0, 1]
    assert (res.issues["action"] == "scored (duplicate kept)").all()


def test_long_data_duplicates_and_unknown_items():
    long = oq(n=2).melt(id_vars=["pid", "t"], var_name="item", value_name="response")
    extra = pd.DataFrame({"pid": [0, 0], "t": [0, 0], "item": ["oq_5", "oq_99"],
                          "response": [3.0, 1.0]})
    long = pd.concat([long, extra], ignore_index=True)
    with pytest.raises(DataValidationError) as err:
        score(long, "oq-45.2", id="pid", time="t")
    msg = str(err.value)
    n = len(long)
    assert f"data row {n}, column 'item', value 'oq_99': unknown item" in msg
    assert f"data row {n - 1}, column 'item', value 3.0: duplicate answer" in msg
    first = long.index[(long["item"] == "oq_5") & (long["pid"] == 0)][0]
    assert f"data row {first + 1}, column 'item'" in msg
    res = score(long, "oq-45.2", id="pid", time="t", invalid="missing")
    assert len(res.scores) == 2
    assert res.scores.loc[0, "sd_status"] == "imputed"   # oq_5 blank for patient 0
    assert len(res.issues) == 3


def test_long_data_bad_response_names_the_long_row():
    long = oq(n=2).melt(id_vars=["pid", "t"], var_name="item", value_name="response")
    long.loc[17, "response"] = 11
    with pytest.raises(DataValidationError, match=r"data row 18, column 'response', value 11\.0"):
        score(long, "oq-45.2", id="pid", time="t")


def test_bad_arguments():
    with pytest.raises(ValueError, match="'invalid' parameter"):
        score(oq(), "oq-45.2", invalid="drop")
    with pytest.raises(ValueError, match="'impute' parameter"):
        score(oq(), "oq-45.2", impute="median")
    with pytest.raises(ValueError, match="'id' column 'patient' is not in the data"):
        score(oq(), "oq-45.2", id="patient")
    with pytest.raises(ValueError, match="'time' parameter needs 'id'"):
        score(oq(), "oq-45.2", time="t")
    with pytest.raises(InstrumentNotFoundError, match="oq-46"):
        score(oq(), "oq-46")
    with pytest.raises(InstrumentError, match="no form 'short'"):
        score(oq(), "oq-45.2", form="short")
    with pytest.raises(TypeError, match="'data' parameter"):
        score([[1, 2]], "oq-45.2")
    with pytest.raises(ValueError, match="'id' parameter"):
        score(oq(n=2).melt(id_vars=["pid", "t"], var_name="item", value_name="response"),
              "oq-45.2")


def test_missing_patient_id_is_an_issue():
    df = oq()
    df["pid"] = df["pid"].astype(object)
    df.loc[2, "pid"] = None
    with pytest.raises(DataValidationError, match=r"data row 3, column 'pid'.*patient id missing"):
        score(df, "oq-45.2", id="pid")


def test_missing_column_message_does_not_suggest_another_items_column():
    df = oq().drop(columns="oq_45")
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2")
    msg = str(err.value)
    assert "all rows, column 'oq_45', value '(no such column)': item column missing" in msg
    assert "did you mean" not in msg


def test_every_long_row_is_placed_or_reported():
    rng = np.random.default_rng(11)
    long = oq(n=6).melt(id_vars=["pid", "t"], var_name="item", value_name="response")
    long["response"] = rng.integers(0, 5, len(long)).astype(float)
    long.loc[rng.choice(len(long), 10, replace=False), "response"] = 8     # invalid
    long = pd.concat([long, long.iloc[[3, 50]],                            # duplicates
                      pd.DataFrame({"pid": [0], "t": [0], "item": ["oq_0"], "response": [1.0]})],
                     ignore_index=True)
    res = score(long, "oq-45.2", id="pid", time="t", invalid="missing")
    reported = set(res.issues["row"].astype(int))
    # rows not reported are exactly the cells placed in the wide matrix and answered
    n_answered = int(res.scores["total_n_answered"].sum())
    assert len(long) - len(reported) == n_answered
    assert len(res.scores) == 6


def test_item_mean_imputation_respects_the_bank_limit():
    # OQ IR allows 1 blank: with impute="item_mean" row 1 (2 IR blanks) stays missing
    df = oq(n=4, value=2.0)
    df.loc[0, "oq_7"] = 4.0
    df.loc[1, ["oq_7", "oq_16"]] = np.nan
    df.loc[2, "oq_7"] = np.nan
    res = score(df, "oq-45.2", impute="item_mean")
    # item mean of oq_7 over the rows that answered it (0 and 3): (4 + 2)/2 = 3
    assert_allclose(res.item_means["oq_7"], 3.0, rtol=1e-12)
    # row 2: IR = 10 answered items * 2 + 3 = 23
    assert_allclose(res.scores["ir"].to_numpy(), [24.0, np.nan, 23.0, 22.0], rtol=1e-10)
    assert list(res.scores["ir_status"]) == ["complete", "too_many_missing", "imputed",
                                              "complete"]


def test_unknown_item_column():
    df = oq().assign(oq_46=1.0, oq_total=3.0)  # oq_total is not item-like: ignored
    with pytest.raises(DataValidationError) as err:
        score(df, "oq-45.2", id="pid", time="t")
    msg = str(err.value)
    assert "all rows, column 'oq_46'" in msg and "unknown item column" in msg
    assert "oq_total" not in msg
    res = score(df, "oq-45.2", id="pid", time="t", invalid="missing")
    assert list(res.issues["column"]) == ["oq_46"]
    assert list(res.issues["action"]) == ["column ignored"]


def test_non_default_index_is_named_in_messages():
    df = oq()
    df.index = ["w", "x", "y", "z"]
    df.loc["y", "oq_8"] = -2
    with pytest.raises(DataValidationError, match=r"data row 3 \(index 'y'\), column 'oq_8', value -2"):
        score(df, "oq-45.2")
    res = score(df, "oq-45.2", invalid="missing")
    assert list(res.issues["index"]) == ["y"] and list(res.issues["row"]) == [2]
