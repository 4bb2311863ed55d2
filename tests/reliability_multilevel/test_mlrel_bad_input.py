"""Bad input: each error names the argument, column or rows at fault; data problems warn."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from mlrel_helpers import WAI, shrout, therapy_sub
from psychometrics.exceptions import (
    DataQualityWarning,
    DataValidationError,
    HeywoodCaseWarning,
    ModelSpecificationError,
    SingularFitWarning,
)
from psychometrics.reliability.multilevel import multilevel_reliability

ITEMS = ["Item1", "Item2", "Item3"]


def _fit(data, items=ITEMS, **kw):
    return multilevel_reliability(data, "Person", "Time", items, **kw)


def test_data_not_a_dataframe():
    with pytest.raises(TypeError, match="'data' argument .* pandas DataFrame.*Got dict"):
        multilevel_reliability({"a": [1]}, "Person", "Time", ITEMS)


@pytest.mark.parametrize("arg", ["id", "time"])
def test_unknown_id_or_time_column(arg):
    kw = {"id": "Person", "time": "Time"}
    kw[arg] = "nope"
    with pytest.raises(DataValidationError, match=f"'{arg}' argument .*'nope'"):
        multilevel_reliability(shrout(), kw["id"], kw["time"], ITEMS)


def test_unknown_item_column():
    with pytest.raises(DataValidationError, match="Item 'Item9' .* not a column"):
        _fit(shrout(), ["Item1", "Item9"])


def test_fewer_than_two_items():
    with pytest.raises(ModelSpecificationError, match="'items' argument .* at least 2 items.*'Item1'"):
        _fit(shrout(), ["Item1"])


def test_items_as_single_string():
    with pytest.raises(ModelSpecificationError, match="'items' argument .* list of column names"):
        _fit(shrout(), "Item1")


def test_duplicate_items():
    with pytest.raises(ModelSpecificationError, match="more than once: \\['Item1'\\]"):
        _fit(shrout(), ["Item1", "Item1", "Item2"])


def test_item_is_id_column():
    with pytest.raises(ModelSpecificationError, match="'Person' is also the id or time column"):
        _fit(shrout(), ["Item1", "Person"])


def test_non_numeric_item():
    d = shrout()
    d["Item2"] = d["Item2"].astype(str)
    d.loc[4, "Item2"] = "seven"
    with pytest.raises(DataValidationError, match="\\['Item2'\\] are not numeric") as exc:
        _fit(d)
    assert any(i.column == "Item2" and i.row == 5 for i in exc.value.issues)  # data row


def test_missing_id_or_time():
    d = shrout().astype({"Time": float})
    d.loc[7, "Time"] = np.nan
    with pytest.raises(DataValidationError, match="'Time' must not have missing values") as exc:
        _fit(d)
    assert [(i.row, i.column) for i in exc.value.issues] == [(8, "Time")]  # 1-based


def test_infinite_item_value():
    d = shrout().astype({"Item3": float})
    d.loc[2, "Item3"] = np.inf
    with pytest.raises(DataValidationError, match="finite") as exc:
        _fit(d)
    assert exc.value.issues[0].column == "Item3" and exc.value.issues[0].row == 3  # data row


def test_single_time_point():
    d = shrout()
    d = d[d["Time"] == 1]
    with pytest.raises(ModelSpecificationError, match="time column 'Time' has 1 distinct value"):
        _fit(d)


def test_single_person():
    d = shrout()
    d = d[d["Person"] == 1]
    with pytest.raises(ModelSpecificationError, match="id column 'Person' has 1 distinct value"):
        _fit(d)


def test_every_person_single_session():
    d = shrout()
    d = d[d["Person"] == d["Time"]]          # persons 1..4 seen once each, at different times
    with pytest.raises(ModelSpecificationError, match="Every person has a single session"):
        _fit(d)


def test_some_persons_single_session_warns():
    d = therapy_sub()
    d = d[~((d["patient_id"].isin([3, 7])) & (d["month"] > 1))]
    with pytest.warns(DataQualityWarning, match="2 persons have a single session \\(3, 7\\)"):
        res = multilevel_reliability(d, "patient_id", "month", WAI[:6])
    assert np.isfinite(res.RkF)


def test_missing_values_warn_with_counts():
    d = shrout().astype({"Item1": float, "Item2": float})
    d.loc[[1, 5], "Item1"] = np.nan
    d.loc[5, "Item2"] = np.nan
    with pytest.warns(DataQualityWarning, match="3 item values are missing \\(0 rows"):
        res = _fit(d)
    assert res.n_missing == 3 and res.n_observations == 57
    # missing cells are filled in the grid aggregates and removed by a Schur complement
    assert res.crossed_fit.path == "grid+missing"


def test_repeated_sessions_warn():
    d = pd.concat([shrout(), shrout().iloc[[0]]], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="1 rows repeat a \\(Person, Time\\) pair .*Person=1, Time=1"):
        res = _fit(d)
    assert res.crossed_fit.path in ("general", "mixed")


def test_unknown_method():
    with pytest.raises(ModelSpecificationError, match="'method' argument .* 'lmer' or 'aov'.*'anova'"):
        _fit(shrout(), method="anova")


def test_bad_singular_tol():
    with pytest.raises(ModelSpecificationError, match="'singular_tol' argument"):
        _fit(shrout(), singular_tol=-1)


def test_aov_needs_balanced_design():
    d = shrout().iloc[:-1]
    with pytest.raises(ModelSpecificationError, match="method='aov' needs a balanced design"):
        _fit(d, method="aov")


def test_aov_negative_component_warns():
    # items identical across time -> time x items mean square 0 -> negative estimate
    rng = np.random.default_rng(1)
    rows = []
    for p in range(6):
        base = rng.normal(size=3)
        for t in range(4):
            rows.append([p, t, *(base + rng.normal(scale=0.01, size=3) + 0.5 * t * (p % 2))])
    d = pd.DataFrame(rows, columns=["Person", "Time", *ITEMS])
    with pytest.warns(HeywoodCaseWarning, match="negative"):
        _fit(d, method="aov")


def test_singular_fit_warns_and_flags():
    # therapy subset: time x items variance is estimated at the boundary for the 4 goal items
    with pytest.warns(SingularFitWarning, match="Boundary \\(singular\\) fit of the nested"):
        res = multilevel_reliability(therapy_sub(), "patient_id", "month",
                                     ["wai_1", "wai_2", "-wai_3", "wai_4", "wai_5", "wai_6"])
    assert res.singular and res.nested_fit.singular
    assert "singular" in res.summary().as_text()


def test_result_is_immutable_and_tidy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _fit(shrout())
    with pytest.raises(AttributeError):
        res.RkF = 0.5
    assert list(res.components.columns) == ["component", "psych_label", "variance", "percent"]
    assert list(res.coefficients["coefficient"]) == ["RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn"]
    assert res.coefficients["value"].dtype == float
    assert re.search(r"RkF\s+=\s+0\.96", res.summary().as_text())


def test_nested_false():
    res = _fit(shrout(), nested=False)
    assert res.RkRn is None and res.Rcn is None and res.nested_components is None
    assert np.isnan(res.coefficients.set_index("coefficient").loc["RkRn", "value"])


def test_constant_responses():
    d = shrout()
    d[ITEMS] = 3
    with pytest.raises(ModelSpecificationError, match="no variance .* equal to 3.0"):
        _fit(d)


def test_item_without_responses_warns():
    d = shrout().astype(float)
    d["Item4"] = np.nan
    with pytest.warns(DataQualityWarning, match="Items \\['Item4'\\] have no responses.*k = 4"):
        res = _fit(d, ITEMS + ["Item4"])
    # psych: n.items = ncol(wide) = 4 is used in the formulas
    assert res.n_items == 4 and res.n_observations == 60


def test_all_values_missing():
    d = shrout().astype(float)
    d[ITEMS] = np.nan
    with pytest.raises(DataValidationError, match="All values of the item columns .*Item1"):
        _fit(d)


def test_reverse_keying_on_float_columns_leaves_data_untouched():
    d = shrout().astype(float)
    before = d.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _fit(d, ["Item1", "-Item2", "Item3"])
    pd.testing.assert_frame_equal(d, before)
    assert res.reversed_items == ("Item2",)
