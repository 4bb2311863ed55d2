"""Fixtures of the psychometrics.sem tests (helpers live in sem_helpers.py)."""
from __future__ import annotations

import pytest

from sem_helpers import load_csv


@pytest.fixture(scope="session")
def hs():
    return load_csv("HolzingerSwineford1939")


@pytest.fixture(scope="session")
def pd_data():
    return load_csv("PoliticalDemocracy")
