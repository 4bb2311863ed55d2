"""Recovery of the latent progress model on simulated data with known truth (issue 18, items 4
and 5). Slow: run with ``pytest -m slow``. The full centring study is
benchmarks/study_progress_centring.py (numbers in docs/multilevel.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import study_progress_centring as study  # noqa: E402

pytestmark = pytest.mark.slow


def test_latent_model_recovers_the_truth_in_long_series():
    # 300 patients x 60 stationary months (ICC of alliance .45): the two-level SEM is
    # consistent as the series grow (its short-series bias is the docs' table); 4 seeded
    # replications, tolerances about 2.5 Monte Carlo SEs of the mean
    ests = {k: [] for k in study.EFFECTS}
    for seed in range(4):
        d, truth = study.dataset(300, 60, 0.45, 7100 + seed)
        res = study.fit_latent(d)
        assert res["converged"]
        for k in study.EFFECTS:
            ests[k].append(res[k][0])
    assert abs(np.mean(ests["within"]) - truth["within"]) < 0.3
    assert abs(np.mean(ests["between"]) - truth["between"]) < 0.8
    assert abs(np.mean(ests["contextual"]) - truth["contextual"]) < 0.8


def test_centring_study_table():
    # the study's own machinery on 2 replications of one small cell: every effect of both
    # methods has a bias and a coverage, nothing failed
    raw = study.run(2, [(100, 3, 0.3)])
    assert not (raw["effect"] == "error").any()
    tab = study.table(raw)
    assert len(tab) == 6 and set(tab["method"]) == {"observed", "latent"}
    assert (tab["reps"] == 2).all() and tab["bias"].notna().all()
    assert tab["coverage"].between(0, 1).all()
