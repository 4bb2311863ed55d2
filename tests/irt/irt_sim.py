"""Simulating graded-response data with known parameters (shared by the IRT tests)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from psychometrics.irt import _items


def simulate_grm(n, a, b, *, seed=0, model="graded", items=None, start=1, theta=None):
    """Responses ``start..start+K-1`` for items with slopes ``a`` and IRT thresholds ``b``
    (rows of b: items)."""
    rng = np.random.default_rng(seed)
    th = rng.normal(size=n) if theta is None else np.asarray(theta, float)
    cols = {}
    items = items or [f"i{j + 1}" for j in range(len(a))]
    for j, it in enumerate(items):
        bj = np.asarray(b[j], float)
        if model == "graded":
            par = np.concatenate([[a[j]], -a[j] * bj])
        else:
            par = np.concatenate([[a[j]], -a[j] * np.cumsum(bj)])
        P = _items.prob(model, par, th)
        u = rng.random(th.size)
        cols[it] = start + (np.cumsum(P, axis=0) < u).sum(axis=0)
    return pd.DataFrame(cols).astype(float), th
