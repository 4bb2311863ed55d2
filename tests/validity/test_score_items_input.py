"""score_items: an all-missing item and an item listed twice in one scale are refused."""
import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import DataValidationError
from psychometrics.validity import score_items


def _data():
    rng = np.random.default_rng(3)
    common = rng.normal(size=(30, 1))
    x = np.clip(np.round(3 + common + 0.7 * rng.normal(size=(30, 4))), 1, 5)
    return pd.DataFrame(x, columns=["A1", "A2", "A3", "A4"])


def test_all_missing_item_refused_without_numpy_warning():
    d = _data().assign(A3=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(DataValidationError, match="'A3' have no observed response"):
            score_items({"s": ["A1", "A2", "A3"]}, d)


@pytest.mark.parametrize("lst", [["A1", "A2", "A1"], ["A1", "A2", "-A1"]])
def test_item_twice_in_a_scale_refused(lst):
    with pytest.raises(DataValidationError, match=r"keys\['s'\] lists item\(s\) 'A1' more than once"):
        score_items({"s": lst, "t": ["A3", "A4"]}, _data())


def test_item_in_two_scales_still_allowed():
    r = score_items({"s": ["A1", "A2"], "t": ["A2", "A3", "A4"]}, _data())
    d = _data()
    np.testing.assert_allclose(r.scores["t"], d[["A2", "A3", "A4"]].mean(axis=1))


def test_negative_alpha_warns_by_name_not_numpy():
    from psychometrics.exceptions import ReliabilityWarning
    d = _data()
    d["B1"], d["B2"] = d["A1"], 6 - d["A2"]          # opposed items: alpha < 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ReliabilityWarning, match="'neg' have negative alpha"):
            r = score_items({"pos": ["A1", "A2", "A3"], "neg": ["B1", "B2"]}, d)
    assert np.isnan(r.corrected.loc["pos", "neg"])
