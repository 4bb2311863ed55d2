"""Extraction by weighted and generalised least squares against psych 2.2.9.

References: tests/data/r_results/efa/efa_wls_gls.json, written by
tests/data/r_scripts/efa/efa_wls_gls.R (``psych::fa(x, nfactors, fm = "wls" | "gls",
rotate = ...)`` on lavaan's HolzingerSwineford1939 x1-x9 with 3 factors and on the 25 bfi
items, complete cases, with 5 factors; plus psych:::fac's own ``optim`` call rerun verbatim).

Tolerance: ``check_fa`` of test_efa_fa_reference (rtol 1e-6, atol 1e-9, the issue's rtol,
every stored number, no re-alignment of order or sign). psych stops its L-BFGS-B run far
from the minimum of the wls/gls criterion (see test_psych_point_is_not_the_minimum), so a
converged optimiser would miss by ~1e-1; we take psych's steps, and the loadings and
optimiser solution agree to ~1e-13, which ``test_same_optimiser_path`` checks at rtol 1e-9.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from refdata import dataset
from psychometrics.efa import fa
from psychometrics.efa.extraction import extract
from psychometrics.exceptions import ConvergenceWarning, HeywoodCaseWarning
from test_efa_fa_reference import assert_vector, check_fa

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "efa" /
                  "efa_wls_gls.json").read_text(encoding="utf-8"))


def bfi_complete() -> pd.DataFrame:
    # X <- na.omit(bfi[, 1:25])
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


def hs9() -> pd.DataFrame:
    # H <- HolzingerSwineford1939[, paste0("x", 1:9)]
    return dataset("HolzingerSwineford1939")[[f"x{i}" for i in range(1, 10)]]


def _args(key):
    X = bfi_complete()
    if key == "matrix_gls_promax":
        R = np.corrcoef(X.to_numpy(dtype=float), rowvar=False)
        return pd.DataFrame(R, columns=X.columns), dict(n_factors=5, method="gls",
                                                        rotation="promax", n_obs=len(X))
    data, fm, rot = key.split("_")
    if data == "bfi5":
        return X.iloc[:, :5], dict(n_factors=1, method=fm)
    if data == "hs":
        return hs9(), dict(n_factors=3, method=fm, rotation=rot)
    return X, dict(n_factors=5, method=fm, rotation=rot)


def _fit(key):
    data, kw = _args(key)
    with warnings.catch_warnings():
        # psych's wls/gls point is not the criterion's minimum: warned, tested below
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fa(data, **kw)


FA_KEYS = list(REF["fa"])


def test_reference_covers_the_asked_cases():
    # both data sets x both methods x rotations none/varimax/oblimin, version recorded
    assert REF["versions"]["psych"] == "2.2.9"
    for data in ("hs", "bfi"):
        for fm in ("wls", "gls"):
            for rot in ("none", "varimax", "oblimin"):
                assert f"{data}_{fm}_{rot}" in FA_KEYS


@pytest.mark.parametrize("key", FA_KEYS)
def test_fa_equals_psych(key):
    # ref["call"], e.g. psych::fa(H, nfactors = 3, fm = 'wls', rotate = 'oblimin')
    ref = dict(REF["fa"][key])
    res = _fit(key)
    # f$communalities = 1 - optim's uniquenesses (psych's optimiser solution)
    communalities = ref.pop("communalities")
    data, kw = _args(key)
    ex = extract(res.correlation.to_numpy(), kw["n_factors"], kw["method"],
                 check_optimum=False)
    assert_vector(pd.Series(1 - ex.psi, index=res.items), communalities, "communalities")
    # every other stored number: loadings, communality, uniquenesses, Phi, rot.mat,
    # Vaccounted, values, e.values, objective, STATISTIC, dof, PVAL, null.chisq, null.dof,
    # RMSEA (+ CI), TLI, BIC, rms, crms, fit, fit.off, n.obs, fm
    check_fa(res, ref)
    assert res.loadings.columns[0][:3] == kw["method"].upper()


@pytest.mark.parametrize("key", ["hs_wls_oblimin", "bfi_gls_oblimin", "bfi5_wls_1factor"])
def test_same_optimiser_path(key):
    # tighter than check_fa: psych's steps are taken, not just its optimum approached
    ref = REF["fa"][key]
    res = _fit(key)
    L = np.array([[ref["loadings"][i][f] for f in res.factor_names] for i in res.items])
    assert_allclose(res.loadings.to_numpy(), L, rtol=1e-9, atol=1e-11)
    assert_allclose(res.fit_stats.chisq, ref["STATISTIC"], rtol=1e-9)


def _psych_criterion(S, psi, nf, fm):
    """psych:::fac's fit.residuals, transcribed independently of the package."""
    Sm = S.copy()
    np.fill_diagonal(Sm, 1 - psi)
    w, v = np.linalg.eigh(Sm)
    w, v = w[::-1], v[:, ::-1]
    w = np.where(w < np.finfo(float).eps, 100 * np.finfo(float).eps, w)
    L = v[:, :nf] * np.sqrt(w[:nf])
    E = Sm - L @ L.T
    S_inv = np.linalg.inv(S)
    if fm == "wls":
        sd_inv = np.diag(1 / np.diag(S_inv))
        return float(np.sum(sd_inv @ E ** 2 @ sd_inv))
    return float(np.sum((S_inv @ E) ** 2))


OPTIM = {"hs_wls": (hs9, 3), "hs_gls": (hs9, 3), "bfi_wls": (bfi_complete, 5),
         "bfi_gls": (bfi_complete, 5),
         "bfi5_wls": (lambda: bfi_complete().iloc[:, :5], 1),
         "bfi5_gls": (lambda: bfi_complete().iloc[:, :5], 1)}


@pytest.mark.parametrize("key", list(REF["optim"]))
def test_optimiser_solution_and_criterion(key):
    # REF["optim"][key]["call"]: psych:::fac's optim(...) rerun verbatim on S = cor(data)
    ref = REF["optim"][key]
    make, nf = OPTIM[key]
    fm = key.split("_")[1]
    X = make()
    S = np.corrcoef(X.to_numpy(dtype=float), rowvar=False)
    ex = extract(S, nf, fm, check_optimum=False)
    assert_vector(pd.Series(ex.psi, index=X.columns), ref["par"], "optim $par")  # $par
    # $value, the wls/gls criterion at psych's solution
    assert_allclose(_psych_criterion(S, ex.psi, nf, fm), ref["value"], rtol=1e-9)
    # R's optim reports convergence 0; ours is the same point (scipy may say ABNORMAL)
    assert ref["convergence"] == 0 and ex.converged


@pytest.mark.parametrize("key", ["hs_gls", "bfi_wls"])
def test_psych_point_is_not_the_minimum(key):
    # psych gives optim the gradient of the ML discrepancy (FAgr.minres2) with the wls/gls
    # criterion: its line search stops well above the criterion's minimum. We return psych's
    # point (it equals R) with converged=False and say so in the message (fa() warns).
    from scipy.optimize import minimize
    ref = REF["optim"][key]
    make, nf = OPTIM[key]
    fm = key.split("_")[1]
    S = np.corrcoef(make().to_numpy(dtype=float), rowvar=False)
    ex = extract(S, nf, fm)
    assert not ex.converged and "is not a minimum of that criterion" in ex.message
    assert_vector(pd.Series(ex.psi, index=list(ref["par"])), ref["par"], "psych's point kept")
    # independently of the package: minimise psych's criterion from R's $par
    par = np.array(list(ref["par"].values()))
    best = minimize(lambda x: _psych_criterion(S, x, nf, fm), par, method="L-BFGS-B",
                    bounds=[(0.005, 1)] * len(par))
    assert best.fun < ref["value"] * (1 - 1e-3)
    # the message reports that minimum (to its 6 printed digits)
    stated = float(ex.message.split("minimum reached from it is ")[1].split(". ")[0])
    assert_allclose(stated, best.fun, rtol=1e-4)


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_exact_gradient_used_by_the_check(fm):
    # the restart check minimises the criterion with its exact gradient (Daleckii-Krein
    # derivative of the eigen truncation); compare with central differences
    from psychometrics.efa.extraction import _weighted_ls
    S = np.corrcoef(bfi_complete().to_numpy(dtype=float), rowvar=False)
    _, _, fun_grad, _ = _weighted_ls(S, 5, fm)
    x = np.random.default_rng(1).uniform(0.2, 0.8, S.shape[0])
    f, g = fun_grad(x)
    assert_allclose(f, _psych_criterion(S, x, 5, fm), rtol=1e-12)
    h = 1e-6
    num = np.array([(fun_grad(x + h * e)[0] - fun_grad(x - h * e)[0]) / (2 * h)
                    for e in np.eye(len(x))])
    assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_public_fa_warns_and_flags():
    with pytest.warns(ConvergenceWarning, match="wls extraction did not converge"):
        res = fa(hs9(), n_factors=3, method="wls")
    assert not res.converged and "FAgr.minres2" in res.optimizer_message
    assert res.method == "wls" and "weighted least squares" in res.summary().as_text()


LOCAL = pd.read_csv(Path(__file__).parents[1] / "data" / "datasets" /
                    "efa_wls_local_optimum_cor.csv")


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_restart_replaces_a_clearly_worse_point(fm):
    # the restart policy of minres/ml (issue 19): on this simulated matrix (8 variables,
    # n = 300, 3 factors) psych's wls/gls points are far above a minimum that other starts
    # reach; R finds the same minimum with psych's own criterion and finite differences:
    # REF["restarts"]["local_<fm>"]["call"]
    ref = REF["restarts"][f"local_{fm}"]
    r = LOCAL.to_numpy()
    with pytest.warns(ConvergenceWarning, match="a restart found"):
        ex = extract(r, 3, fm)
    assert ex.converged
    # R's optim (factr = 10, finite differences) $par and $value: the same minimum
    assert_vector(pd.Series(ex.psi, index=LOCAL.columns), ref["par"], "restart $par",
                  rtol=1e-4, atol=1e-5)
    assert_allclose(_psych_criterion(r, ex.psi, 3, fm), ref["value"], rtol=1e-7)
    # psych's own point (fa(RL, 3, n.obs = 300, fm = fm)$communalities = 1 - optim's $par)
    # is far worse on psych's criterion
    psych_psi = 1 - np.array(list(REF["local_psych"][fm]["communalities"].values()))
    assert _psych_criterion(r, psych_psi, 3, fm) > 1.5 * ref["value"]
    with pytest.warns(ConvergenceWarning, match="restart"), \
            pytest.warns(HeywoodCaseWarning, match="v8"):
        res = fa(LOCAL, n_factors=3, method=fm, rotation="none", n_obs=300)
    assert res.converged


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_known_limit_psych_point_with_active_bounds(fm):
    # Known limit, documented in docs/efa.md: once psych's run pushes uniquenesses onto the
    # bound 0.005, R's L-BFGS-B and scipy's take different steps (R's lbfgsb.c is the 1990s
    # Netlib code, scipy's is version 3.0 of 2011 with the Morales-Nocedal correction of the
    # subspace step under active bounds), and with psych's mismatched gradient their
    # stopping points differ. On HS and bfi no bound is touched and the points
    # agree to 1e-13 (tests above). Here both stop with v8 at the bound, within 0.05 of each
    # other (communalities), both far above the minimum the restart returns.
    ex = extract(LOCAL.to_numpy(), 3, fm, check_optimum=False)
    psych_psi = 1 - np.array(list(REF["local_psych"][fm]["communalities"].values()))
    assert np.max(np.abs(ex.psi - psych_psi)) < 0.05
    assert ex.psi[7] == pytest.approx(0.005) and psych_psi[7] == pytest.approx(0.005)
    f_min = REF["restarts"][f"local_{fm}"]["value"]
    r = LOCAL.to_numpy()
    assert _psych_criterion(r, ex.psi, 3, fm) > 1.5 * f_min


def _random_design(rng):
    p = int(rng.integers(6, 13))
    k = int(rng.integers(1, 4))
    while p * (p - 1) / 2 - p * k + k * (k - 1) / 2 < 1:
        k -= 1
    L = rng.uniform(-0.2, 0.9, (p, k)) * (rng.uniform(size=(p, k)) < 0.6)
    S = L @ L.T + np.diag(np.clip(1 - (L ** 2).sum(1), 0.05, None))
    d = 1 / np.sqrt(np.diag(S))
    X = rng.multivariate_normal(np.zeros(p), S * np.outer(d, d), int(rng.integers(100, 1000)))
    return np.corrcoef(X, rowvar=False), k


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_audit_converged_means_a_minimum(fm):
    # audit (docs/optimality.md): on random designs, converged=True only where the returned
    # uniquenesses minimise psych's criterion (a tight run from them gains < 1e-3 relative),
    # and converged=False says how far psych's point is from the minimum
    from scipy.optimize import minimize
    rng = np.random.default_rng(2026)
    for _ in range(10):
        r, k = _random_design(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ex = extract(r, k, fm)
        f = _psych_criterion(r, ex.psi, k, fm)
        best = minimize(lambda x: _psych_criterion(r, x, k, fm), ex.psi, method="L-BFGS-B",
                        bounds=[(0.005, 1)] * len(ex.psi))
        if ex.converged:
            assert best.fun > f - max(1e-6, 1e-3 * f), (f, best.fun)
        else:
            assert "not a minimum" in ex.message
            assert best.fun < f


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_omega_with_wls_gls(fm, monkeypatch):
    # psych::omega(X, nfactors = 3, fm = fm, plot = FALSE): omega_h, omega.tot, alpha, G6,
    # omega.lim, ECV, omega.group, schmid$sl, stats (check_omega of test_efa_omega)
    # Tolerance rtol 2e-5, atol 1e-6: psych's general-factor step fa(phi, fm = fm) on the 3 x 3 factor
    # correlations runs into the bound 1; from that step on R's L-BFGS-B and scipy's differ
    # (docs/efa.md, known limit) and both stop at optim's tolerance near the exact solution,
    # 1e-6 apart. Everything before that step (phi, the oblique loadings) agrees to 1e-13.
    import test_efa_omega
    from psychometrics.efa import omega
    monkeypatch.setattr(test_efa_omega, "TOL", dict(rtol=2e-5, atol=1e-6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = omega(bfi_complete(), n_factors=3, method=fm)
    test_efa_omega.check_omega(res, REF["omega"][f"omega_{fm}"])


@pytest.mark.parametrize("fm", ["wls", "gls"])
def test_parallel_analysis_observed_values(fm):
    # set.seed(2); psych::fa.parallel(X, fm = fm, nfactors = 2, fa = "fa", n.iter = 2)$fa.values
    from psychometrics.efa import parallel_analysis
    ref = REF["parallel"][fm]["fa.values"]
    res = parallel_analysis(bfi_complete(), method=fm, extract_factors=2, fa="fa", n_iter=2,
                            seed=2)
    assert_allclose(res.observed_fa, ref, rtol=1e-10, atol=1e-12)
