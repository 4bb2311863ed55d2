"""M2 (Maydeu-Olivares & Joe 2006).  No R reference is available (mirt is not installed
here; OpenMx/rpf have no M2), so the pieces are checked against brute force: on three
3-category items every response pattern is enumerated, the moment covariance Xi is the
exact multinomial covariance of the moment indicators, Delta is compared with finite
differences, and M2 is recomputed from its definition with an explicit weight matrix."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.irt import _engine, _items, fit_irt, m2
from psychometrics.irt.fit import _m2_parts

from irt_sim import simulate_grm

A = [0.9, 1.4, 2.0, 1.1]
B = [np.array([-0.8, 0.7]) + s for s in (-0.3, 0.0, 0.4, 0.1)]


@pytest.fixture(scope="module")
def small():
    data, _ = simulate_grm(600, A, B, seed=11)
    return fit_irt(data)


def _moments(J, K):
    mom = [((j, a),) for j in range(J) for a in range(1, K)]
    mom += [((j, a), (l, b)) for j in range(J) for l in range(j + 1, J)
            for a in range(1, K) for b in range(1, K)]
    return mom


def test_xi_and_pi_by_enumeration(small):
    p, pi, Xi, Delta, n, n_par, df, M = _m2_parts(small)
    th = small.quadrature()
    w = np.exp(_engine.log_weights(th))
    P = [_items.prob("graded", small.item_params(j), th) for j in range(4)]
    pats = list(itertools.product(range(3), repeat=4))
    ppat = np.array([(np.prod([P[j][x[j]] for j in range(4)], axis=0)) @ w for x in pats])
    mom = _moments(4, 3)
    ind = np.array([[all(x[j] == a for j, a in m) for m in mom] for x in pats], float)
    assert_allclose(pi, ppat @ ind, rtol=1e-10)
    exact = (ind * ppat[:, None]).T @ ind - np.outer(ppat @ ind, ppat @ ind)
    assert_allclose(Xi, exact, rtol=1e-9, atol=1e-14)
    # observed proportions
    codes = small.responses.codes
    for r, m in enumerate(mom):
        assert_allclose(p[r], np.mean(np.all([codes[:, j] == a for j, a in m], axis=0)))


def test_delta_by_finite_differences(small):
    _, _, _, Delta, *_ = _m2_parts(small)
    h = 1e-6
    for k in range(small.n_par):
        up = dataclasses.replace(small, params=small.params + h * np.eye(small.n_par)[k])
        dn = dataclasses.replace(small, params=small.params - h * np.eye(small.n_par)[k])
        num = (_m2_parts(up)[1] - _m2_parts(dn)[1]) / (2 * h)
        assert_allclose(Delta[:, k], num, rtol=1e-5, atol=1e-9)


def test_m2_definition(small):
    p, pi, Xi, Delta, n, n_par, df, M = _m2_parts(small)
    # C2 = Xi^-1 - Xi^-1 D (D' Xi^-1 D)^-1 D' Xi^-1 (Maydeu-Olivares & Joe 2006, eq. 9)
    Xinv = np.linalg.inv(Xi)
    C2 = Xinv - Xinv @ Delta @ np.linalg.inv(Delta.T @ Xinv @ Delta) @ Delta.T @ Xinv
    res = m2(small)
    assert_allclose(res.chisq, n * (p - pi) @ C2 @ (p - pi), rtol=1e-7)
    assert res.df == M - n_par == 32 - 12
    assert res.rmsea_ci_lower <= res.rmsea <= res.rmsea_ci_upper or res.rmsea == 0


def test_m2_too_few_moments():
    # three binary items: 3 + 3 moments for 6 parameters
    data, _ = simulate_grm(500, A[:3], [np.array([0.0])] * 3, seed=2)
    with pytest.raises(ModelSpecificationError, match="more moments than parameters"):
        m2(fit_irt(data))


@pytest.mark.slow
def test_m2_null_distribution():
    a = [0.7, 1.0, 1.3, 1.6, 2.0, 2.4]
    b = [np.linspace(-1.5, 1.5, 3) + s for s in (-0.5, -0.2, 0, 0.2, 0.5, 0)]
    stat = [m2(fit_irt(simulate_grm(1000, a, b, seed=r)[0])) for r in range(40)]
    df = stat[0].df
    x = np.array([s.chisq for s in stat])
    assert abs(x.mean() - df) < 3 * np.sqrt(2 * df / len(x))
    assert 0.6 < x.var() / (2 * df) < 1.6
