"""Paths to the copied R reference data and results, importable from any test.

``tests/data/datasets`` holds the CSV exports of R datasets and
``tests/data/reference`` the JSON results of lavaan/psych/lme4/semTools
(copied from the project's shared reference; the R scripts that made them are in
``tests/data/reference/scripts``). Import as ``from refdata import dataset,
reference`` (pytest puts ``tests/`` on the path); a plain module rather than
``conftest`` so that the import does not depend on which conftest was loaded first.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
DATASETS = DATA / "datasets"
REFERENCE = DATA / "reference"


@lru_cache(maxsize=None)
def _reference(name: str) -> dict:
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def reference(name: str) -> dict:
    """The parsed JSON of ``tests/data/reference/<name>.json`` (cached)."""
    return _reference(name)


def dataset(name: str) -> pd.DataFrame:
    """A CSV dataset from ``tests/data/datasets`` (R's "NA" read as missing)."""
    return pd.read_csv(DATASETS / f"{name}.csv", na_values=["NA"])
