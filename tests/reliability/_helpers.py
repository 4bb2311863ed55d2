"""Shared helpers of the reliability tests: R-name mapping and element-wise checks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose

EXTRA = Path(__file__).parents[1] / "data" / "r_results" / "reliability" / "reliability_extra.json"

# psych's column names -> ours
TOTAL = {"raw_alpha": "raw_alpha", "std.alpha": "std_alpha", "G6(smc)": "g6_smc",
         "average_r": "average_r", "S/N": "signal_to_noise", "ase": "ase", "mean": "mean",
         "sd": "sd", "median_r": "median_r"}
DROP = {"raw_alpha": "raw_alpha", "std.alpha": "std_alpha", "G6(smc)": "g6_smc",
        "average_r": "average_r", "S/N": "signal_to_noise", "alpha se": "alpha_se",
        "var.r": "var_r", "med.r": "med_r"}
ITEM = {"n": "n", "raw.r": "raw_r", "std.r": "std_r", "r.cor": "r_cor", "r.drop": "r_drop",
        "mean": "mean", "sd": "sd", "r": "std_r"}

CLOSED = dict(rtol=1e-10, atol=0.0)      # closed-form quantities
ITERATIVE = dict(rtol=1e-6, atol=0.0)    # optimiser results


def extra() -> dict:
    with open(EXTRA, encoding="utf-8") as fh:
        return json.load(fh)


def item_name(row_label: str) -> str:
    """psych marks reversed items with a trailing '-' in row names."""
    return row_label[:-1] if row_label.endswith("-") else row_label


def check(actual, desired, what: str, **tol):
    """assert_allclose that treats R's NA (None) as NaN and names the value."""
    desired = np.nan if desired is None else desired
    if isinstance(desired, str) and desired in ("Inf", "-Inf"):   # R's infinities written as text
        desired = float(desired.lower())
    assert_allclose(actual, desired, err_msg=what, **tol)


def compare_rows(frame, ref_rows, mapping, what, **tol):
    """Every reference row and column must exist in ``frame`` and agree."""
    assert len(ref_rows) == len(frame), f"{what}: {len(frame)} rows, R has {len(ref_rows)}"
    for row in ref_rows:
        item = item_name(row["row"])
        assert item in frame.index, f"{what}: no row for {item}"
        for col, value in row.items():
            if col == "row":
                continue
            assert col in mapping, f"{what}: reference column {col!r} has no counterpart"
            check(frame.loc[item, mapping[col]], value, f"{what} {item} {col}", **tol)
