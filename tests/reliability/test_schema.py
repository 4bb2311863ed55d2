"""Output schemas: tidy frames, snake_case columns, numeric dtypes, no rounding."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import ReliabilityWarning
from psychometrics.reliability import (alpha, icc, instrument_reliability, ordinal_alpha,
                                       polychoric, split_half)
from tests.conftest import dataset

SNAKE = re.compile(r"^[a-z0-9_]+$")


def _frames():
    bfi = dataset("bfi")
    a_items = [f"A{i}" for i in range(1, 6)]
    a = alpha(bfi[a_items], reverse="A1", n_iter=20, seed=1)
    pc = polychoric(bfi[a_items])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        sh = split_half(bfi[a_items])
    ic = icc(bfi[a_items].dropna().iloc[:50])
    inst = instrument_reliability(dataset("therapy_sim"), "pear")
    return {
        "alpha.total": (a.total, {}), "alpha.alpha_drop": (a.alpha_drop, {}),
        "alpha.item_stats": (a.item_stats, {"key": "int", "n": "int"}),
        "alpha.response_freq": (a.response_freq, {}),
        "alpha.confidence_intervals": (a.confidence_intervals, {}),
        "polychoric.rho": (pc.rho, None), "polychoric.tau": (pc.tau, None),
        "polychoric.pairs": (pc.pairs, {"item1": "str", "item2": "str", "n": "int",
                                        "n_evaluations": "int", "corrected_cells": "int",
                                        "zero_probability_cells": "int"}),
        "split_half.table": (sh.table, {"n_splits": "int", "exhaustive": "bool"}),
        "icc.table": (ic.table, {"type": "str", "description": "str"}),
        "icc.anova": (ic.anova, {"df": "int"}),
        "instrument.table": (inst.table, {"scale": "str", "name": "str", "note": "str",
                                          "n_items": "int", "n_reversed": "int", "n_obs": "int",
                                          "n_complete": "int"}),
        "instrument.items": (inst.items, {"scale": "str", "item": "str", "key": "int", "n": "int"}),
    }


@pytest.mark.parametrize("name", list(_frames()))
def test_columns_and_dtypes(name):
    frame, special = _frames()[name]
    assert isinstance(frame, pd.DataFrame)
    if special is None:         # item-by-item matrices: item names as labels, all float
        assert all(pd.api.types.is_float_dtype(t) for t in frame.dtypes)
        return
    for col in frame.columns:
        assert SNAKE.match(str(col)) or str(col).isdigit(), f"{name}: column {col!r} not snake_case"
        kind = special.get(col, "float")
        dt = frame[col].dtype
        if kind == "float":
            assert pd.api.types.is_float_dtype(dt), f"{name}.{col} is {dt}, expected float"
        elif kind == "int":
            assert pd.api.types.is_integer_dtype(dt), f"{name}.{col} is {dt}, expected int"
        elif kind == "bool":
            assert pd.api.types.is_bool_dtype(dt), f"{name}.{col} is {dt}"
        else:
            assert pd.api.types.is_string_dtype(dt) or dt == object, f"{name}.{col} is {dt}"


def test_no_rounding():
    a = alpha(dataset("bfi")[[f"A{i}" for i in range(1, 6)]], reverse="A1")
    # full double precision survives (rounding to display digits happens in summary only)
    assert a.raw_alpha != round(a.raw_alpha, 6)
    assert "0.703" in a.summary().as_text()


def test_ordinal_alpha_carries_polychoric():
    res = ordinal_alpha(dataset("bfi")[[f"A{i}" for i in range(1, 6)]], reverse="A1")
    assert res.options["polychoric"].rho.shape == (5, 5)
