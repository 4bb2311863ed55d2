"""Fixtures of the simulator tests: one large simulation shared by the structure checks."""
from __future__ import annotations

import pytest

from psychometrics.simulate import SimulationParams, simulate

#: Patients of the large simulation used for the structural (statistical) checks.
N_LARGE = 5000
SEED_LARGE = 20240602


@pytest.fixture(scope="session")
def large():
    """5,000 patients, default parameters (4-20 months), no missing data."""
    return simulate(SimulationParams(n_patients=N_LARGE), seed=SEED_LARGE)


@pytest.fixture(scope="session")
def small():
    """The default design (150 patients) with 2% blanks and 10% missed sessions."""
    return simulate(SimulationParams(missing_rate=0.02, session_miss_rate=0.10), seed=11)
