"""Property-based tests (hypothesis) of the item-data object (issue 12): any table of cells
gives an ItemData or the package's own error, every invalid cell is listed once with its
1-based data row, nothing is lost (kept + dropped = input rows), and scoring the object
equals scoring the table."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psychometrics.exceptions import DataValidationError, PsychometricsError
from psychometrics.io import item_data
from psychometrics.scoring import score

FUZZ = settings(max_examples=60, deadline=2000,
                suppress_health_check=[HealthCheck.too_slow])
PEAR = [f"pear_{i}" for i in range(1, 11)]

cells = st.one_of(st.integers(1, 6), st.integers(-3, 12), st.floats(allow_nan=True),
                  st.none(), st.sampled_from(["", " ", "3", "often", "2,5", "4.0"]))


def _valid(v) -> bool:
    """Whether a cell is an answer on PEAR's 1..6 scale (blanks are not invalid)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        x = float(v)
    except ValueError:
        return False
    return x.is_integer() and 1 <= x <= 6


@FUZZ
@given(rows=st.lists(st.lists(cells, min_size=10, max_size=10), min_size=1, max_size=12),
       ids=st.lists(st.one_of(st.integers(1, 4), st.none()), min_size=12, max_size=12),
       drop_empty=st.booleans())
def test_item_data_lists_every_bad_cell_and_loses_no_row(rows, ids, drop_empty):
    df = pd.DataFrame(rows, columns=PEAR, dtype=object)
    df.insert(0, "pid", ids[:len(df)])
    bad = sorted((r + 1, PEAR[j]) for r, row in enumerate(rows) for j, v in enumerate(row)
                 if not _valid(v))
    try:
        with pytest_warns_quietly():
            d = item_data(df, "pear", id="pid", invalid="missing", missing_keys="drop",
                          drop_empty=drop_empty)
    except DataValidationError as exc:
        # only when every row is left out (all ids blank, or nothing answered)
        assert "every one of the" in exc.summary
        return
    except PsychometricsError:
        raise AssertionError("an error other than the data validation error")
    got = sorted(zip(d.issues["data_row"].astype(int), d.issues["column"]))
    assert got == bad
    assert len(d) + len(d.dropped) == d.n_input == len(df)
    assert set(d.dropped["data_row"]).isdisjoint(d.data_rows)
    vals = d.responses.to_numpy()
    ok = np.isnan(vals) | ((vals >= 1) & (vals <= 6) & (vals == np.round(vals)))
    assert ok.all()
    # scoring the object equals scoring the (cleaned) table row for row
    with pytest_warns_quietly():     # an item without answers is warned about, not here
        res = score(d, "pear")
        ref = score(d.to_frame(), "pear", id="pid")
    pd.testing.assert_frame_equal(res.scores[["f1", "f2", "total"]],
                                  ref.scores[["f1", "f2", "total"]])


class pytest_warns_quietly:
    def __enter__(self):
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
