"""Wide data (issue 12, hole 6): the 'if item dropped' table and the smcs of every
submatrix come from closed forms, equal to psych's per-submatrix computation
(``psych::alpha`` calls ``alpha.1`` and ``smc`` on each R[-i, -i])."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ReliabilityWarning
from psychometrics.reliability import alpha
from psychometrics.reliability import _alpha as A
from psychometrics.numerics.matrix import EXACT_DROP_LIMIT, cov2cor, smc, smc_with_drops


def responses(n, p, seed):
    rng = np.random.default_rng(seed)
    return np.clip(np.round(3 + rng.normal(size=(n, 1)) + rng.normal(size=(n, p))), 1, 5)


def per_submatrix(c, r, n):
    """The loop psych runs: every statistic of each R[-i, -i] from scratch."""
    p = c.shape[0]
    rows, smcs = [], np.full((p, p), np.nan)
    for i in range(p):
        keep = np.r_[0:i, i + 1:p]
        smcs[i, keep] = smc(r[np.ix_(keep, keep)])
        s = A._alpha_core(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)], smcs[i, keep])
        rows.append([s["raw"], s["std"], s["g6"], s["av_r"], s["sn"], np.sqrt(s["q"] / n),
                     s["var_r"], s["med_r"]])
    return np.array(rows), smcs


# (cases, items): full rank, more items than cases (singular R), small scales
@pytest.mark.parametrize("n, p, seed", [(200, 33, 1), (50, 8, 2), (30, 60, 3), (25, 25, 4),
                                        (12, 4, 5), (40, 5, 6), (60, 120, 7)])
def test_closed_forms_equal_the_per_submatrix_loop(n, p, seed):
    x = responses(n, p, seed)
    c = np.cov(x, rowvar=False)
    r = cov2cor(c)
    want, want_smc = per_submatrix(c, r, n)
    got_smc = smc_with_drops(r)
    if got_smc is not None:
        assert_allclose(got_smc[1], want_smc, rtol=1e-10, atol=1e-12, equal_nan=True)
        assert_allclose(got_smc[0], smc(r), rtol=1e-10, atol=1e-12)
    got = A._drop_table(c, r, n, None if got_smc is None else got_smc[1])
    assert got.shape == want.shape
    assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_alpha_item_rest_r_equals_direct_formula():
    x = responses(80, 10, 8)
    res = alpha(pd.DataFrame(x, columns=[f"i{j}" for j in range(10)]))
    for j in range(10):
        rest = np.delete(x, j, axis=1).sum(axis=1)
        assert_allclose(res.item_stats["r_drop"].iloc[j], np.corrcoef(x[:, j], rest)[0, 1],
                        rtol=1e-12)


def test_many_items_few_cases_runs_and_says_when_it_approximates():
    p = EXACT_DROP_LIMIT + 50
    x = responses(p, p, 9)             # as many cases as items: R singular, rank p - 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = alpha(pd.DataFrame(x, columns=[f"i{j}" for j in range(p)]))
    assert res.alpha_drop.shape == (p, 8)
    assert np.isfinite(res.alpha_drop["raw_alpha"]).all()
    # the columns that need no pseudo-inverse are exact whatever the rank
    c = np.cov(x, rowvar=False)
    for i in (0, p // 2, p - 1):
        keep = np.r_[0:i, i + 1:p]
        sub = c[np.ix_(keep, keep)]
        raw = (1 - np.trace(sub) / sub.sum()) * (p - 1) / (p - 2)
        assert_allclose(res.alpha_drop["raw_alpha"].iloc[i], raw, rtol=1e-12)
    approximated = [w for w in caught if issubclass(w.category, ReliabilityWarning)
                    and "g6_smc" in str(w.message)]
    # here R's smallest non-zero eigenvalues lie at psych's Pinv tolerance: said once
    assert len(approximated) == 1
    # ... and said in the result itself, not only in a warning
    assert res.g6_drop_method == "approximate"
    assert "rank-" in res.g6_drop_note and res.g6_drop_note in res.summary().as_text()


def test_g6_drop_exact_decomposes_every_submatrix_as_psych(monkeypatch):
    # the approximation applies beyond EXACT_DROP_LIMIT items; lower the limit so that
    # the exact route (one pseudo-inverse per submatrix, as psych) runs in a second
    import psychometrics.numerics.matrix as S
    monkeypatch.setattr(S, "EXACT_DROP_LIMIT", 20)
    p = 40
    x = responses(p, p, 9)
    cols = [f"i{j}" for j in range(p)]
    with pytest.warns(ReliabilityWarning, match="rank-"):
        assert alpha(pd.DataFrame(x, columns=cols)).g6_drop_method == "approximate"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)   # nothing approximated
        res = alpha(pd.DataFrame(x, columns=cols), g6_drop="exact")
    assert res.g6_drop_method == "exact" and res.g6_drop_note == ""
    r = cov2cor(np.cov(x, rowvar=False))
    for i in range(p):
        keep = np.r_[0:i, i + 1:p]
        sub = r[np.ix_(keep, keep)]
        # psych::alpha: G6 of the reduced scale, smc() = 1 - 1/diag(Pinv(R_-i))
        g6 = 1 - (p - 1 - smc(sub).sum()) / sub.sum()
        assert_allclose(res.alpha_drop["g6_smc"].iloc[i], g6, rtol=1e-10)
    with pytest.raises(ValueError, match="'g6_drop' parameter of alpha"):
        alpha(pd.DataFrame(x, columns=cols), g6_drop="fast")


def test_exact_case_gives_no_warning():
    x = responses(40, 60, 10)          # singular, but with a clear rank gap
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)
        res = alpha(pd.DataFrame(x, columns=[f"i{j}" for j in range(60)]))
    assert res.alpha_drop.shape == (60, 8)
