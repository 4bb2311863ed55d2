"""The vectorised bivariate normal (Genz / Drezner-Wesolowsky) against exact identities."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import ndtr
from scipy.stats import norm

from psychometrics.numerics.brent import brent_fmin
from psychometrics.numerics.bvn import bvn_rectangle, bvn_upper


def _quad_upper(h, k, r):
    # P(X > h, Y > k) = int_h^inf phi(x) * P(Y > k | x) dx, adaptive quadrature
    f = lambda x: norm.pdf(x) * ndtr(-(k - r * x) / np.sqrt(1 - r * r))
    return integrate.quad(f, h, np.inf, epsabs=1e-15, epsrel=1e-13)[0]


@pytest.mark.parametrize("r", [-0.99, -0.93, -0.8, -0.5, -0.1, 0.0, 0.2, 0.5, 0.74, 0.76, 0.9, 0.95, 0.999])
def test_upper_orthant_matches_quadrature(r):
    rng = np.random.default_rng(abs(int(r * 1000)))
    h, k = rng.normal(size=(2, 8))
    got = bvn_upper(h, k, np.full(8, r))
    want = [_quad_upper(a, b, r) for a, b in zip(h, k)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14)


def test_independence_and_symmetry():
    h = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(bvn_upper(h, 0.3, 0.0), ndtr(-h) * ndtr(-0.3), rtol=1e-14)
    np.testing.assert_allclose(bvn_upper(h, 0.3, 0.6), bvn_upper(0.3, h, 0.6), rtol=1e-13)


def test_rectangles_sum_to_one():
    cuts = np.array([-np.inf, -1.0, 0.2, 1.5, np.inf])
    lo1, lo2 = np.meshgrid(cuts[:-1], cuts[:-1], indexing="ij")
    up1, up2 = np.meshgrid(cuts[1:], cuts[1:], indexing="ij")
    p = bvn_rectangle(lo1, up1, lo2, up2, 0.45)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-14)
    np.testing.assert_allclose(p.sum(axis=1), np.diff(ndtr(cuts)), rtol=1e-13)


def test_brent_matches_scalar_reference():
    # f has its minimum at 0.3; R: optimize(function(x) (x - 0.3)^2 + 1, c(-1, 1))$minimum
    x, fx, n = brent_fmin(lambda v, idx: (v - np.array([0.3, -0.7])[idx]) ** 2 + 1,
                          np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(x, [0.3, -0.7], atol=1e-4)
    assert (n > 2).all()
