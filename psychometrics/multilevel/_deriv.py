"""Richardson-extrapolated central differences (as numDeriv does for lmerTest)."""
from __future__ import annotations

import numpy as np

__all__ = ["richardson_jacobian"]


def richardson_jacobian(f, x, rel_step: float = 1e-2, min_step: float = 1e-3, levels: int = 4):
    """Jacobian of a vector function ``f`` at ``x`` (shape (len(f(x)), len(x))).

    Central differences with steps ``h, h/2, h/4, ...`` combined by
    Richardson extrapolation (error orders 2, 4, 6, ...), the scheme of
    ``numDeriv::jacobian(method = "Richardson")``.
    """
    x = np.asarray(x, dtype=float)
    f0 = np.atleast_1d(np.asarray(f(x), dtype=float))
    J = np.empty((f0.size, x.size))
    for j in range(x.size):
        h = max(rel_step * abs(x[j]), min_step)
        ests = []
        for lev in range(levels):
            e = np.zeros_like(x)
            e[j] = h / 2 ** lev
            fp = np.atleast_1d(np.asarray(f(x + e), dtype=float))
            fm = np.atleast_1d(np.asarray(f(x - e), dtype=float))
            ests.append((fp - fm) / (2 * e[j]))
        # Richardson table
        for k in range(1, levels):
            fac = 4.0 ** k
            ests = [(fac * ests[i + 1] - ests[i]) / (fac - 1) for i in range(len(ests) - 1)]
        J[:, j] = ests[0]
    return J
