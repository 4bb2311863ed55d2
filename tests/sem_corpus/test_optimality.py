"""The optimality checks behind ``converged=True`` (issue 19, docs/optimality.md).

Each test starts an optimiser at a point the old code accepted as converged although it
is not an optimum (a saddle point with a zero gradient; a failed line search) and checks
that the point is now rejected or left.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import optimize as sopt

from corpus import make_data, make_designs
import psychometrics.sem as sem
from psychometrics.exceptions import ConvergenceWarning
from psychometrics.sem import estimate as est_mod
from psychometrics.sem import ordinal as ord_mod
from psychometrics.sem import twolevel_model as tl_mod

DESIGNS = {d["id"]: d for d in make_designs()}
MODEL = "f =~ y1 + y2 + y3 + y4"


def _saddle_ml(prob):
    """All loadings 0 (std_lv), residual variances = sample variances: dF/dtheta = 0
    exactly (dSigma/dlambda = 0 at lambda = 0 and diag(W) = 0), but fmin is not minimal."""
    theta = est_mod.start_values(prob)
    c = prob.cols
    for r in range(len(c["op"])):
        k = prob.par[r]
        if k < 0:
            continue
        if c["op"][r] == "=~":
            theta[k] = 0.0
        elif c["op"][r] == "~~" and c["lhs"][r] == c["rhs"][r]:
            theta[k] = prob.ss.cov[0][list(prob.ss.ov).index(c["lhs"][r])] \
                [list(prob.ss.ov).index(c["lhs"][r])]
    return theta


def test_ml_saddle_point_is_not_converged():
    df = make_data(DESIGNS["cfa1_03"])
    res = sem.fit(MODEL, df, std_lv=True)
    prob = res._problem
    x0 = _saddle_ml(prob)
    f0, g0, _ = est_mod.evaluate(prob, x0, info=False)
    assert np.max(np.abs(g0)) < 1e-12            # a stationary point ...
    old = est_mod.optimize(prob, x0)             # ... which the first-order test accepts
    assert old.converged and old.iterations == 0 and old.fmin > res.fit_measures["fmin"] + 0.1
    ok, lo, hi, v = est_mod.second_order_check(prob, x0)
    assert not ok and lo < 0                     # the Hessian has a negative eigenvalue
    new = est_mod.optimize_checked(prob, theta0=x0)
    assert new.converged and "saddle" in new.message
    assert_allclose(new.fmin, res.fit_measures["fmin"], rtol=1e-10)


def test_ml_restart_finds_lavaans_optimum():
    # sem_01 (n = 40): from the default start values the scoring/BFGS run drifts along a
    # ridge (a loading -> -5e4, psi -> 0) and stops at max_iter 0.11 logL units below
    # lavaan's optimum; the restart from lavaan's simple start values reaches it
    d = DESIGNS["sem_01"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sem.fit(d["model"], make_data(d))
    first = est_mod.optimize(res._problem, est_mod.start_values(res._problem))
    assert not first.converged
    assert res.converged and "restart" in res.optimizer_message
    # lavaan 0.6-14: fitMeasures(sem(model, data = dat), "logl") (sem_corpus.json)
    assert res.fit_measures["logl"] >= -352.965147044978 - 1e-6
    assert first.fmin > res.fit_measures["fmin"] + 1e-3


def test_twolevel_saddle_point_is_left():
    d = DESIGNS["twolevel_11"]
    ys = " + ".join(f"y{k + 1}" for k in range(d["sizes"][0]))
    model = f"level: 1\nfw =~ {ys}\nlevel: 2\nfb =~ {ys}"
    res = sem.fit_twolevel(model, make_data(d), cluster="cluster", std_lv=True)
    mdl = res._model
    names = tl_mod._param_names(mdl)
    load = np.array(["=~" in n for n in names])
    # optimum over everything but the loadings, with all loadings 0: a stationary point
    x = res._theta.copy()
    x[load] = 0.0

    def fg(z):
        y = x.copy()
        y[~load] = z
        f, g = mdl.fg(y)
        return (f, g[~load]) if np.isfinite(f) else (1e300, np.zeros(int((~load).sum())))

    r = sopt.minimize(fg, x[~load], jac=True, method="BFGS", options=dict(gtol=1e-10))
    x[~load] = r.x
    f0, g0 = mdl.fg(x)
    assert np.max(np.abs(g0)) / mdl.cs.nobs < 1e-6   # passes the first-order test
    ok, lo = tl_mod._second_order_ok(tl_mod._hessian(mdl, x))
    assert not ok and lo < 0
    theta, F, g, H, iters, converged, msg = tl_mod._optimize(mdl, x, 1000)
    assert converged and "second-order check passed" in msg
    assert F < f0 - 1.0
    assert_allclose(F, mdl.f(res._theta), rtol=1e-9)


def _ordinal_data():
    rng = np.random.default_rng(7)
    n = 400
    f = rng.standard_normal(n)
    y = 0.7 * f[:, None] + rng.standard_normal((n, 4)) * np.sqrt(1 - 0.49)
    cuts = np.array([-1.0, 0.0, 0.8])
    return pd.DataFrame(np.searchsorted(cuts, y) + 1, columns=["y1", "y2", "y3", "y4"])


def test_dwls_failed_line_search_is_not_converged(monkeypatch):
    data = _ordinal_data()
    good = sem.fit(MODEL, data, ordered=True)
    assert good.converged
    # a Jacobian of the wrong sign makes every Gauss-Newton step go uphill: the line
    # search fails at the start values. The old test (step length a * step < 1e-11
    # after halving) called that converged
    jac = ord_mod._Model.jacobian
    monkeypatch.setattr(ord_mod._Model, "jacobian", lambda self, t, h=1e-6: -jac(self, t, h))
    with pytest.warns(ConvergenceWarning, match="DWLS did not converge"):
        bad = sem.fit(MODEL, data, ordered=True)
    assert not bad.converged
