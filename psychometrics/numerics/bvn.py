"""Vectorised bivariate normal probabilities (Drezner-Wesolowsky / Genz).

A numpy transcription of Alan Genz's ``MVBVU`` and ``MVBVN`` (TVPACK,
``mvtdstpack.f``), the routines that ``mnormt::biv.nt.prob`` calls and hence
the ones that ``psych::polychoric`` uses (through ``mnormt::sadmvn``) for every
cell probability. Accuracy is about 1e-15 absolute, and because the arithmetic
follows the Fortran statement by statement the values agree with R's to the
last few bits, which keeps R's ``optimize`` path reproducible.

scipy's ``multivariate_normal.cdf`` is a quasi-Monte-Carlo integrator (slow
and only ~1e-6 accurate); this module evaluates thousands of rectangles per
call with a handful of array operations.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr

__all__ = ["bvn_upper", "bvn_rectangle", "RectanglePlan"]

_TWOPI = 6.283185307179586

# Gauss-Legendre points and weights (half rules) for N = 6, 12, 20.
_W = (
    np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
    np.array([0.4717533638651177e-01, 0.1069393259953183, 0.1600783285433464,
              0.2031674267230659, 0.2334925365383547, 0.2491470458134029]),
    np.array([0.1761400713915212e-01, 0.4060142980038694e-01, 0.6267204833410906e-01,
              0.8327674157670475e-01, 0.1019301198172404, 0.1181945319615184,
              0.1316886384491766, 0.1420961093183821, 0.1491729864726037,
              0.1527533871307259]),
)
_X = (
    np.array([-0.9324695142031522, -0.6612093864662647, -0.2386191860831970]),
    np.array([-0.9815606342467191, -0.9041172563704750, -0.7699026741943050,
              -0.5873179542866171, -0.3678314989981802, -0.1252334085114692]),
    np.array([-0.9931285991850949, -0.9639719272779138, -0.9122344282513259,
              -0.8391169718222188, -0.7463319064601508, -0.6360536807265150,
              -0.5108670019508271, -0.3737060887154196, -0.2277858511416451,
              -0.7652652113349733e-01]),
)


def _small_r(h, k, r, ng):
    """|r| < 0.925 branch of MVBVU for one Gauss rule (arrays of equal shape)."""
    w, x = _W[ng], _X[ng]
    hk = h * k
    hs = (h * h + k * k) / 2
    asr = np.arcsin(r)
    # sum over the rule, in the Fortran order (i = 1..LG, two terms each)
    sn1 = np.sin(asr[:, None] * (x + 1) / 2)
    t1 = w * np.exp((sn1 * hk[:, None] - hs[:, None]) / (1 - sn1 * sn1))
    sn2 = np.sin(asr[:, None] * (-x + 1) / 2)
    t2 = w * np.exp((sn2 * hk[:, None] - hs[:, None]) / (1 - sn2 * sn2))
    terms = np.empty((h.shape[0], 2 * x.shape[0]))
    terms[:, 0::2] = t1
    terms[:, 1::2] = t2
    bvn = np.zeros(h.shape[0])
    for j in range(terms.shape[1]):  # sequential, as the Fortran loop
        bvn = bvn + terms[:, j]
    return bvn * asr / (2 * _TWOPI) + ndtr(-h) * ndtr(-k)


def _large_r(h, k, r):
    """|r| >= 0.925 branch of MVBVU (20-point rule)."""
    w, x = _W[2], _X[2]
    k = np.where(r < 0, -k, k)
    hk = h * k
    bvn = np.zeros(h.shape[0])
    lt1 = np.abs(r) < 1
    if np.any(lt1):
        hh, kk, rr, hkk = h[lt1], k[lt1], r[lt1], hk[lt1]
        as_ = (1 - rr) * (1 + rr)
        a = np.sqrt(as_)
        bs = (hh - kk) ** 2
        c = (4 - hkk) / 8
        d = (12 - hkk) / 16
        v = a * np.exp(-(bs / as_ + hkk) / 2) * (
            1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5)
        b = np.sqrt(bs)
        corr = np.exp(-hkk / 2) * np.sqrt(_TWOPI) * ndtr(-b / a) * b * (
            1 - c * bs * (1 - d * bs / 5) / 3)
        v = np.where(hkk > -160, v - corr, v)
        a = a / 2
        for i in range(x.shape[0]):
            xs = (a * (x[i] + 1)) ** 2
            rs = np.sqrt(1 - xs)
            v = v + a * w[i] * (np.exp(-bs / (2 * xs) - hkk / (1 + rs)) / rs
                                - np.exp(-(bs / xs + hkk) / 2) * (1 + c * xs * (1 + d * xs)))
            xs = as_ * (-x[i] + 1) ** 2 / 4
            rs = np.sqrt(1 - xs)
            v = v + a * w[i] * np.exp(-(bs / xs + hkk) / 2) * (
                np.exp(-hkk * (1 - rs) / (2 * (1 + rs))) / rs - (1 + c * xs * (1 + d * xs)))
        bvn[lt1] = -v / _TWOPI
    pos = r > 0
    neg = r < 0
    bvn = np.where(pos, bvn + ndtr(-np.maximum(h, k)), bvn)
    bvn = np.where(neg, -bvn + np.maximum(0.0, ndtr(-h) - ndtr(-k)), bvn)
    return bvn


def bvn_upper(h, k, r):
    """P(X > h, Y > k) for standard bivariate normals with correlation r.

    Parameters
    ----------
    h, k, r : array_like
        Broadcastable arrays of finite limits and correlations in [-1, 1].

    Returns
    -------
    numpy.ndarray
        Upper-orthant probabilities (Genz's ``MVBVU``/``BVND``).
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float),
                                  np.asarray(r, float))
    shape = h.shape
    h, k, r = h.ravel(), k.ravel(), r.ravel()
    out = np.empty(h.shape[0])
    ar = np.abs(r)
    groups = (ar < 0.3, (ar >= 0.3) & (ar < 0.75), (ar >= 0.75) & (ar < 0.925))
    for ng, m in enumerate(groups):
        if np.any(m):
            out[m] = _small_r(h[m], k[m], r[m], ng)
    m = ar >= 0.925
    if np.any(m):
        out[m] = _large_r(h[m], k[m], r[m])
    return out.reshape(shape)


def bvn_rectangle(lower1, upper1, lower2, upper2, r):
    """P(lower1 < X < upper1, lower2 < Y < upper2), limits may be infinite.

    Follows ``MVBVN``: the case of each limit (finite or infinite) decides
    which combination of upper-orthant probabilities is used, exactly as in
    the Fortran. A rectangle with ``lower == upper`` in either coordinate has
    probability 0 (as ``mnormt::sadmvn`` returns).
    """
    l1, u1, l2, u2, r = np.broadcast_arrays(*(np.asarray(a, float) for a in
                                              (lower1, upper1, lower2, upper2, r)))
    shape = l1.shape
    l1, u1, l2, u2, r = (a.ravel() for a in (l1, u1, l2, u2, r))
    plan = RectanglePlan(l1, u1, l2, u2)
    return plan.evaluate(r).reshape(shape)


class RectanglePlan:
    """Rectangles whose limits are fixed while the correlation varies.

    The decomposition of each rectangle into signed upper-orthant terms (which
    depends only on which limits are infinite) is done once; ``evaluate(r)``
    then costs one vectorised ``bvn_upper`` call. Used by the polychoric
    optimiser, which re-evaluates the same cells at many correlations.
    """

    def __init__(self, l1, u1, l2, u2):
        l1, u1, l2, u2 = (np.asarray(a, float).ravel() for a in (l1, u1, l2, u2))
        self.n = l1.shape[0]
        h, k, rsign, coef, idx = _rectangle_terms(l1, u1, l2, u2, np.ones(self.n))
        self.full = _full_plane(l1, u1, l2, u2)
        self.zero = (l1 == u1) | (l2 == u2)
        # empty rectangles (e.g. both limits -inf when a category is unused) and
        # the whole plane are set directly; their terms would involve infinities
        keep = ~(self.zero | self.full)[idx]
        self.h, self.k, self.rsign, self.coef, self.idx = (
            h[keep], k[keep], rsign[keep], coef[keep], idx[keep])

    def evaluate(self, r) -> np.ndarray:
        """Probabilities of all rectangles at correlation(s) ``r`` (scalar or one per rectangle)."""
        r = np.broadcast_to(np.asarray(r, float), (self.n,))
        vals = bvn_upper(self.h, self.k, self.rsign * r[self.idx]) * self.coef
        out = np.bincount(self.idx, weights=vals, minlength=self.n)
        out[self.full] = 1.0
        out[self.zero] = 0.0
        return out


def _full_plane(l1, u1, l2, u2):
    return (np.isneginf(l1) & np.isposinf(u1)) & (np.isneginf(l2) & np.isposinf(u2))


def _infin(lo, up):
    """Genz's INFIN code: 0 (-inf, up], 1 [lo, inf), 2 [lo, up], -1 both infinite."""
    code = np.full(lo.shape, 2, dtype=int)
    code[np.isneginf(lo) & ~np.isposinf(up)] = 0
    code[~np.isneginf(lo) & np.isposinf(up)] = 1
    code[np.isneginf(lo) & np.isposinf(up)] = -1
    return code


def _rectangle_terms(l1, u1, l2, u2, r):
    """Expand rectangles into signed upper-orthant terms (MVBVN's cases).

    Returns flat arrays (h, k, r, coefficient, rectangle index) ordered so that
    ``np.bincount`` adds the terms in the Fortran order.
    """
    i1, i2 = _infin(l1, u1), _infin(l2, u2)
    # A coordinate with both limits infinite reduces to a univariate
    # probability; express it as an orthant with the other limit at -inf by
    # using Phi directly (handled through a pseudo-term with r = 0 and h = -40).
    n = l1.shape[0]
    hs, ks, rs, cs, ix = [], [], [], [], []

    def add(mask, h, k, rr, c):
        idx = np.nonzero(mask)[0]
        hs.append(h[idx]); ks.append(k[idx]); rs.append(rr[idx])
        cs.append(np.full(idx.shape[0], c, float)); ix.append(idx)

    cases = [
        ((2, 2), [(l1, l2, r, 1), (u1, l2, r, -1), (l1, u2, r, -1), (u1, u2, r, 1)]),
        ((2, 1), [(l1, l2, r, 1), (u1, l2, r, -1)]),
        ((1, 2), [(l1, l2, r, 1), (l1, u2, r, -1)]),
        ((2, 0), [(-u1, -u2, r, 1), (-l1, -u2, r, -1)]),
        ((0, 2), [(-u1, -u2, r, 1), (-u1, -l2, r, -1)]),
        ((1, 0), [(l1, -u2, -r, 1)]),
        ((0, 1), [(-u1, l2, -r, 1)]),
        ((1, 1), [(l1, l2, r, 1)]),
        ((0, 0), [(-u1, -u2, r, 1)]),
    ]
    order = []
    for (c1, c2), terms in cases:
        mask = (i1 == c1) & (i2 == c2)
        if not np.any(mask):
            continue
        for h, k, rr, c in terms:
            add(mask, h, k, rr, c)
    # one coordinate unrestricted: univariate normal probability
    for mask, lo, up in (((i1 == -1) & (i2 != -1), l2, u2), ((i2 == -1) & (i1 != -1), l1, u1)):
        if np.any(mask):
            idx = np.nonzero(mask)[0]
            # Phi(up) - Phi(lo) written as orthants with an independent, far-away
            # second coordinate would lose bits; use pseudo terms h=lo,k=-inf
            # replaced by r=0 and k very negative (P(Y > -40) == 1 in double).
            lo_ = np.where(np.isneginf(lo[idx]), -40.0, lo[idx])
            up_ = np.where(np.isposinf(up[idx]), 40.0, up[idx])
            hs += [lo_, up_]; ks += [np.full(idx.shape, -40.0)] * 2
            rs += [np.zeros(idx.shape)] * 2; cs += [np.ones(idx.shape), -np.ones(idx.shape)]
            ix += [idx, idx]
    if not hs:
        e = np.empty(0)
        return e, e, e, e, np.empty(0, dtype=int)
    # stable sort by rectangle index keeps each rectangle's terms in order
    h = np.concatenate(hs); k = np.concatenate(ks); rr = np.concatenate(rs)
    c = np.concatenate(cs); idx = np.concatenate(ix)
    perm = np.argsort(idx, kind="stable")
    return h[perm], k[perm], rr[perm], c[perm], idx[perm]
