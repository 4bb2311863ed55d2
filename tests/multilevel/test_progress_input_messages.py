"""progress(): clear messages for a predictor or outcome with no observed values."""
import numpy as np
import pandas as pd
import pytest

from psychometrics import multilevel
from psychometrics.exceptions import DataValidationError


def _panel():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"id": np.repeat([1, 2, 3, 4], 4), "t": np.tile([1, 2, 3, 4], 4),
                         "y": rng.normal(size=16), "x": np.nan, "z": rng.normal(size=16)})


@pytest.mark.parametrize("preds", [["x"], ["z", "x"]])
def test_all_missing_predictor_is_named(preds):
    with pytest.raises(DataValidationError, match=r"\['x'\] have no observed value") as ei:
        multilevel.progress(_panel(), outcome="y", predictors=preds, id="id", time="t")
    assert "within-patient variance" not in str(ei.value)


def test_all_missing_outcome_is_named():
    d = _panel().assign(x=1.0, y=np.nan)
    with pytest.raises(DataValidationError, match=r"\['y'\] have no observed value"):
        multilevel.progress(d, outcome="y", predictors=["z"], id="id", time="t")


def test_empty_frame_says_empty():
    with pytest.raises(DataValidationError, match="is empty"):
        multilevel.progress(_panel().iloc[:0], outcome="y", predictors=["z"], id="id", time="t")


def test_three_level_all_missing_predictor_is_named():
    d = pd.concat([_panel().assign(th=k, id=_panel()["id"] + 10 * k) for k in range(3)],
                  ignore_index=True)
    with pytest.raises(DataValidationError, match=r"\['x'\] have no observed value"):
        multilevel.progress(d, outcome="y", predictors=["z", "x"], id="id", time="t",
                            cluster="th")
