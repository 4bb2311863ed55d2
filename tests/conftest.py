"""Shared test fixtures; the data helpers themselves live in ``refdata.py``."""
from __future__ import annotations

import pytest

from refdata import DATA, DATASETS, REFERENCE, dataset, reference  # noqa: F401


@pytest.fixture
def ref():
    return reference


@pytest.fixture
def data():
    return dataset
