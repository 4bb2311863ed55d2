"""Helpers for the multilevel reliability tests: R results and the data they were made from."""
from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from psychometrics.reliability._crossed import THETA_NAMES, _Long
from psychometrics.reliability.multilevel import multilevel_reliability

HERE = Path(__file__).parent
MLREL = HERE.parent / "data" / "r_results" / "mlrel"
DATASETS = HERE.parent / "data" / "datasets"
REFERENCE = HERE.parent / "data" / "reference"

WAI = [f"wai_{i}" for i in range(1, 13)]
REVERSED_ITEMS = ["wai_1", "wai_2", "-wai_3", "wai_4", "wai_5", "wai_6"]
COEFS = ("RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn")
# lme4 names of the theta vector -> ours
LME4_THETA = {"id": "id.(Intercept)", "time": "time.(Intercept)", "items": "items.(Intercept)",
              "id:time": "id:time.(Intercept)", "id:items": "id:items.(Intercept)",
              "time:items": "items:time.(Intercept)"}
LME4_VCOV = {"id": "id", "time": "time", "items": "items", "id:time": "id:time",
             "id:items": "id:items", "time:items": "items:time", "residual": "Residual"}


@lru_cache(maxsize=None)
def mlrel_reference() -> dict:
    with open(MLREL / "mlrel_reference.json", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def case7() -> dict:
    with open(REFERENCE / "case7_within_between.json", encoding="utf-8") as fh:
        return json.load(fh)["multilevel_reliability"]


@lru_cache(maxsize=None)
def therapy() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "therapy_sim.csv", na_values=["NA"])


def shrout() -> pd.DataFrame:
    return pd.DataFrame(mlrel_reference()["shrout"]["data"])


def therapy_sub_missing() -> pd.DataFrame:
    return pd.read_csv(MLREL / "therapy_sub_missing.csv", na_values=["NA"])


def therapy_sub() -> pd.DataFrame:
    d = therapy()
    return d.loc[d["patient_id"] <= 40, ["patient_id", "month"] + WAI[:6]].reset_index(drop=True)


# the data sets of the extra reference: key -> (data, id, time, items)
def extra_case(key):
    if key == "shrout":
        return shrout(), "Person", "Time", ["Item1", "Item2", "Item3"]
    if key == "therapy_wai12":
        return therapy(), "patient_id", "month", WAI
    if key == "therapy_sub_missing":
        return therapy_sub_missing(), "patient_id", "month", WAI[:6]
    if key == "therapy_sub_reversed":
        return therapy_sub(), "patient_id", "month", REVERSED_ITEMS
    if key == "shrout_duplicate":
        extra = pd.DataFrame({"Person": [1], "Time": [1], "Item1": [4], "Item2": [2], "Item3": [5]})
        return (pd.concat([shrout(), extra], ignore_index=True), "Person", "Time",
                ["Item1", "Item2", "Item3"])
    if key == "therapy_sub_gaps":
        d = therapy()
        keep = (d["patient_id"] <= 40) & ((d["patient_id"] + d["month"]) % 5 != 0)
        return (d.loc[keep, ["patient_id", "month"] + WAI[6:]].reset_index(drop=True),
                "patient_id", "month", WAI[6:])
    raise KeyError(key)


@lru_cache(maxsize=None)
def fitted(key: str, method: str = "lmer"):
    data, id_, time_, items = extra_case(key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return multilevel_reliability(data, id_, time_, items, method=method)


def long_data(key: str) -> _Long:
    """Coded long data (psych's mr$long minus NAs) for the criterion tests."""
    data, id_, time_, items = extra_case(key)
    names = [i.lstrip("-") for i in items]
    X = data[names].to_numpy(float)
    rev = [i.startswith("-") for i in items]
    if any(rev):
        lo, hi = np.nanmin(X), np.nanmax(X)
        for c, r in enumerate(rev):
            if r:
                X[:, c] = hi - X[:, c] + lo
    pid, pu = pd.factorize(data[id_], sort=True)
    tid, tu = pd.factorize(data[time_], sort=True)
    r, c = np.nonzero(~np.isnan(X))
    return _Long(pid[r], tid[r], c, X[r, c], len(pu), len(tu), len(names))


def lme4_theta(fits: dict) -> np.ndarray:
    th = fits["crossed_lmer"]["theta"]
    return np.array([th[LME4_THETA[k]] for k in THETA_NAMES])


def psych_components(ref_block: dict) -> dict:
    return {row["row"]: row for row in ref_block["components"]}

