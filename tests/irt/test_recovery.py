"""Parameter recovery on simulated data (slow: run with ``pytest -m slow``)."""
from __future__ import annotations

import numpy as np
import pytest

from psychometrics.irt import fit_irt, score_persons

from irt_sim import simulate_grm

A = np.array([0.7, 1.0, 1.3, 1.6, 2.0, 2.4, 1.1, 1.8])
B = np.array([np.linspace(-1.8, 1.5, 4) + s for s in (-0.6, -0.3, 0, 0.3, 0.6, 0, 0.2, -0.2)])


def _true(model):
    if model == "graded":
        return np.concatenate([np.r_[a, -a * b] for a, b in zip(A, B)])
    # GPCM steps b_k: c_k = -a * cumsum(b)
    return np.concatenate([np.r_[a, -a * np.cumsum(b)] for a, b in zip(A, B)])


@pytest.mark.slow
@pytest.mark.parametrize("model", ["graded", "gpcm"])
def test_recovery_bias_and_coverage(model):
    truth = _true(model)
    reps, n = 40, 1000
    z, est = [], []
    for r in range(reps):
        data, _ = simulate_grm(n, A, B, seed=100 + r, model=model)
        data.iloc[np.random.default_rng(r).random(data.shape) < 0.1] = np.nan  # 10% MCAR
        res = fit_irt(data, model=model)
        assert res.converged
        est.append(res.params)
        z.append((res.params - truth) / res.se)
    est, z = np.array(est), np.array(z)
    # bias small against the sampling SD for every parameter (40 replications)
    bias = est.mean(axis=0) - truth
    assert np.all(np.abs(bias) < 0.5 * est.std(axis=0) + 0.02)
    # the observed-information SEs match the empirical spread and 95% intervals cover
    cover = (np.abs(z) < 1.96).mean()
    assert 0.90 < cover < 0.99
    assert 0.8 < z.std() < 1.2


@pytest.mark.slow
def test_eap_recovers_theta():
    data, theta = simulate_grm(3000, A, B, seed=7)
    res = fit_irt(data)
    sc = score_persons(res).frame
    assert np.corrcoef(sc["est"], theta)[0, 1] > 0.9
    # posterior SDs describe the error: mean squared error close to mean posterior variance
    mse = np.mean((sc["est"] - theta) ** 2)
    assert 0.8 < mse / np.mean(sc["se"] ** 2) < 1.25
