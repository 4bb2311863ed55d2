"""Fit measures of an ML fit, with lavaan 0.6-14's formulas and snake_case keys.

Each family is a small function of sufficient quantities (chi-squares,
degrees of freedom, N, moments), as lavaan's ``lav_fit_*.R`` files:

* chi-square: ``chisq = 2 N fmin``; baseline = independence model
  (variances, and means when there is a mean structure; fixed.x block kept).
* incremental: CFI, TLI (NNFI), RNI, NFI, PNFI, RFI, IFI.
* RMSEA ``sqrt(max((X2/N)/df - 1/N, 0)) * sqrt(G)``, its 90% CI by root
  finding on the noncentral chi-square (R ``uniroot`` tolerance), close-fit tests.
* residual based: RMR, SRMR (Bentler), CRMR (Bollen), SRMR (Mplus), each
  with and without means, averaged over groups with weights n_g / N.
* information criteria: logl, unrestricted logl, AIC, BIC, SABIC (BIC2).
* others: GFI, AGFI, PGFI (LISREL), Hoelter CN, McDonald MFI, ECVI.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FitInputs", "compute_fit_measures", "rmsea_ci"]

_R_UNIROOT_TOL = np.finfo(float).eps ** 0.25


class FitInputs:
    """Plain container of what the fit measures need (no model objects)."""

    def __init__(self, *, fmin, npar, nobs, sample_cov, sample_mean, implied_cov, implied_mean,
                 meanstructure, baseline_chisq, baseline_df, df, x_index=(), logl=None,
                 patterns=None, pairwise=None):
        self.fmin = fmin
        self.npar = npar
        self.nobs = list(nobs)
        self.S = list(sample_cov)
        self.m = list(sample_mean)
        self.Sigma = list(implied_cov)
        self.mu = list(implied_mean)
        self.meanstructure = meanstructure
        self.baseline_chisq = baseline_chisq
        self.baseline_df = baseline_df
        self.df = df
        self.x_index = np.asarray(x_index, dtype=int)
        self.logl = logl   # (logl, unrestricted logl) when not computable from moments (FIML)
        self.patterns = patterns   # FIML: per group, the missingness patterns
        self.pairwise = pairwise   # FIML: per group, lavaan's pairwise sample moments


def _uniroot(f, lo, hi, tol=_R_UNIROOT_TOL, maxit=1000):
    """R's ``uniroot`` (Brent's zeroin, ``R_zeroin2``) with its default tolerance.

    lavaan finds the RMSEA confidence limits with ``uniroot``; its tolerance
    (``.Machine$double.eps^0.25``) leaves the limits accurate to ~1e-5 only, so the
    same iterations are reproduced here instead of a tighter root.
    """
    eps = np.finfo(float).eps
    a, b = lo, hi
    fa, fb = f(a), f(b)
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _pnchisq(x, df, ncp):
    """P(X <= x) for a (noncentral) chi-square, R ``pchisq(x, df, ncp)``."""
    from scipy import special  # lazy: keeps `import psychometrics.sem` light
    if ncp <= 0:
        return float(special.chdtr(df, x))
    return float(special.chndtr(x, df, ncp))


def rmsea_ci(X2, df, N, G=1, level=0.90, c_hat=1.0):
    """90% confidence interval of the RMSEA (lavaan ``lav_fit_rmsea_ci``)."""
    upper_perc = 1 - (1 - level) / 2
    lower_perc = (1 - level) / 2

    def lower_lambda(lam):
        return _pnchisq(X2, df, lam) - upper_perc

    def upper_lambda(lam):
        return _pnchisq(X2, df, lam) - lower_perc

    if df < 1 or lower_lambda(0) < 0:
        lo = 0.0
    else:
        lam = _uniroot(lower_lambda, 0, X2)
        lo = np.sqrt(c_hat * lam / (N * df)) * np.sqrt(G)
    n_rmsea = max(N, X2 * 4)
    if df < 1 or upper_lambda(n_rmsea) > 0 or upper_lambda(0) < 0:
        hi = 0.0
    else:
        lam = _uniroot(upper_lambda, 0, n_rmsea)
        hi = np.sqrt(c_hat * lam / (N * df)) * np.sqrt(G)
    return lo, hi


def _loglik(S, m, Sigma, mu, n, meanstructure):
    p = S.shape[0]
    sign, logdet = np.linalg.slogdet(Sigma)
    Si = np.linalg.inv(Sigma)
    q = np.sum(S * Si)
    if meanstructure:
        d = m - mu
        q += d @ Si @ d
    return -n / 2 * (p * np.log(2 * np.pi) + logdet + q)


def _residual_rms(S, m, Sigma, mu, meanstructure):
    """rmr, srmr (Bentler), crmr (Bollen): (total, no-mean) for one group."""
    p = S.shape[0]
    il = np.tril_indices(p)
    vs, ve = np.diag(S), np.diag(Sigma)

    def scale(mat, d1, d2=None):
        d2 = d1 if d2 is None else d2
        sc = 1 / np.sqrt(np.outer(d1, d2))
        out = mat * sc
        near = np.abs(mat) < 1e-5
        out[near] = mat[near]
        return out

    res = {}
    raw_cov = (S - Sigma)[il]
    raw_mean = m - mu
    # Bentler: both scaled by the observed variances
    b_cov = (scale(S, vs) - scale(Sigma, vs))[il]

    def scale_mean(x, d):
        out = x / np.sqrt(d)
        near = np.abs(x) < 1e-5
        out[near] = x[near]
        return out

    b_mean = scale_mean(m, vs) - scale_mean(mu, vs)
    # Bollen: each matrix its own correlation; means scaled by observed variances
    c_full = scale(S, vs) - scale(Sigma, ve)
    c_cov = c_full[np.tril_indices(p, -1)]
    for key, cov, mean, pstar_cov in (("rmr", raw_cov, raw_mean, len(raw_cov)),
                                      ("srmr", b_cov, b_mean, len(b_cov)),
                                      ("crmr", c_cov, b_mean, len(c_cov))):
        nomean = np.sqrt(np.sum(cov ** 2) / pstar_cov)
        if meanstructure:
            total = np.sqrt((np.sum(cov ** 2) + np.sum(mean ** 2)) / (pstar_cov + p))
        else:
            total = nomean
        res[key] = (total, nomean)
    # Mplus
    rc = S / np.sqrt(np.outer(vs, vs)) - Sigma / np.sqrt(np.outer(ve, ve))
    off = np.sum(rc[np.tril_indices(p, -1)] ** 2)
    dg = np.sum(((vs - ve) / vs) ** 2)
    e = p * (p + 1) / 2
    nomean = np.sqrt((off + dg) / e)
    if meanstructure:
        rm = m / np.sqrt(vs) - mu / np.sqrt(ve)
        total = np.sqrt((off + np.sum(rm ** 2) + dg) / (e + p))
    else:
        total = nomean
    res["srmr_mplus"] = (total, nomean)
    return res


def _gfi_group(S, m, Sigma, mu, meanstructure, x_index=(), patterns=None):
    """LISREL GFI with the (structured) h1 expected information as weight.

    With fixed.x the moments of the covariates get zero weight (lavaan ``x.idx``).
    """
    x = np.asarray(x_index, dtype=int)
    Si = np.linalg.inv(Sigma)
    Sigma_full = Sigma       # the weights use the implied moments before x is zeroed
    if len(x):
        S = S.copy()
        Sigma = Sigma.copy()
        S[np.ix_(x, x)] = 0.0
        Sigma[np.ix_(x, x)] = 0.0
        m = m.copy()
        mu = mu.copy()
        m[x] = 0.0
        mu[x] = 0.0
    p = S.shape[0]
    il = np.tril_indices(p)
    # vech weight: 0.5 D' (Si x Si) D  applied to vech differences
    diff_c = S - Sigma
    # quadratic form e' W e with e = vech(E): equals 0.5 tr(Si E Si E) for symmetric E

    if patterns is None:
        blocks = [(np.arange(p), 1.0, Si)]
    else:
        # FIML: the h1 expected information is the pattern-weighted one (lavaan
        # lav_mvnorm_missing_information_expected at the implied moments)
        ntot = sum(pt.n for pt in patterns)
        blocks = [(pt.obs, pt.n / ntot, np.linalg.inv(Sigma_full[np.ix_(pt.obs, pt.obs)]))
                  for pt in patterns]

    def q(E, d=None):
        val = 0.0
        for o, wgt, Sio in blocks:
            Eo = E[np.ix_(o, o)]
            v = 0.5 * np.sum((Sio @ Eo) * (Sio @ Eo).T)
            if d is not None:
                v += d[o] @ Sio @ d[o]
            val += wgt * v
        return val
    if meanstructure:
        t1 = q(diff_c, m - mu)
        t2 = q(S, m)
    else:
        t1 = q(diff_c)
        t2 = q(S)
    return 1 - t1 / t2


def compute_fit_measures(fi: FitInputs) -> dict:
    """All fit measures as a dict with snake_case keys (lavaan names with '.' -> '_')."""
    from scipy import special  # lazy: keeps `import psychometrics.sem` light
    N = float(sum(fi.nobs))
    G = len(fi.nobs)
    npar = fi.npar
    X2 = 2 * N * fi.fmin
    df = fi.df
    out: dict[str, float] = {}
    out["npar"] = float(npar)
    out["fmin"] = fi.fmin
    out["chisq"] = X2
    out["df"] = float(df)
    out["pvalue"] = float(special.chdtrc(df, X2)) if df > 0 else np.nan
    Xb, dfb = fi.baseline_chisq, fi.baseline_df
    out["baseline_chisq"] = Xb
    out["baseline_df"] = float(dfb)
    out["baseline_pvalue"] = float(special.chdtrc(dfb, Xb)) if dfb > 0 else np.nan
    # incremental (lavaan lav_fit_cfi.R, with its edge cases)
    out["cfi"] = _cfi(X2, df, Xb, dfb)
    out["tli"] = _tli(X2, df, Xb, dfb)
    out["nnfi"] = out["tli"]
    out["rfi"] = _rfi(X2, df, Xb, dfb)
    out["nfi"] = _nfi(X2, df, Xb, dfb)
    out["pnfi"] = (df / dfb) * (Xb - X2) / Xb if (dfb > 0 and Xb > 0) else np.nan
    out["ifi"] = _ifi(X2, df, Xb, dfb)
    out["rni"] = _rni(X2, df, Xb, dfb)
    # likelihood
    logl = sum(_loglik(S, m, Sig, mu, n, fi.meanstructure)
               for S, m, Sig, mu, n in zip(fi.S, fi.m, fi.Sigma, fi.mu, fi.nobs))
    ulogl = sum(-n / 2 * (S.shape[0] * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + S.shape[0])
                for S, n in zip(fi.S, fi.nobs))
    if fi.logl is not None:
        logl, ulogl = fi.logl
    if len(fi.x_index):
        # fixed.x: the likelihood is conditional on the covariates (lavaan subtracts
        # the saturated log-likelihood of the x block)
        x = fi.x_index
        nx = len(x)
        lx = sum(-n / 2 * (nx * np.log(2 * np.pi) + np.linalg.slogdet(S[np.ix_(x, x)])[1] + nx)
                 for S, n in zip(fi.S, fi.nobs))
        logl -= lx
        ulogl -= lx
    out["logl"] = logl
    out["unrestricted_logl"] = ulogl
    out["aic"] = -2 * logl + 2 * npar
    out["bic"] = -2 * logl + npar * np.log(N)
    out["ntotal"] = N
    out["bic2"] = -2 * logl + npar * np.log((N + 2) / 24)
    out["sabic"] = out["bic2"]
    # rmsea
    out["rmsea"] = float(np.sqrt(max((X2 / N) / df - 1 / N, 0)) * np.sqrt(G)) if df > 0 else 0.0
    lo, hi = rmsea_ci(X2, df, N, G)
    out["rmsea_ci_lower"] = lo
    out["rmsea_ci_upper"] = hi
    out["rmsea_ci_level"] = 0.90
    out["rmsea_pvalue"] = 1.0 - _pnchisq(X2, df, N * df * 0.05 ** 2 / G) if df > 0 else np.nan
    out["rmsea_close_h0"] = 0.05
    out["rmsea_notclose_pvalue"] = _pnchisq(X2, df, N * df * 0.08 ** 2 / G) \
        if df > 0 else np.nan
    out["rmsea_notclose_h0"] = 0.08
    # residuals
    w = np.array(fi.nobs) / N
    acc: dict[str, list] = {}
    for S, m, Sig, mu, wg in zip(fi.S, fi.m, fi.Sigma, fi.mu, w):
        r = _residual_rms(S, m, Sig, mu, fi.meanstructure)
        for k, (tot, nom) in r.items():
            a = acc.setdefault(k, [0.0, 0.0])
            a[0] += wg * tot
            a[1] += wg * nom
    out["rmr"], out["rmr_nomean"] = acc["rmr"]
    out["srmr"] = acc["srmr"][0]
    out["srmr_bentler"], out["srmr_bentler_nomean"] = acc["srmr"]
    out["crmr"], out["crmr_nomean"] = acc["crmr"]
    out["srmr_mplus"], out["srmr_mplus_nomean"] = acc["srmr_mplus"]
    # Hoelter
    if df > 0:
        out["cn_05"] = special.chdtri(df, 0.05) / (X2 / N) + 1
        out["cn_01"] = special.chdtri(df, 0.01) / (X2 / N) + 1
    else:
        out["cn_05"] = out["cn_01"] = np.nan
    # GFI family
    if fi.patterns is None:
        gfis = np.array([_gfi_group(S, m, Sig, mu, fi.meanstructure, fi.x_index)
                         for S, m, Sig, mu in zip(fi.S, fi.m, fi.Sigma, fi.mu)])
    else:
        # FIML (lavaan): observed moments = pairwise covariances * (n-1)/n and
        # available-case means; weight = pattern-based expected information at the model
        gfis = np.array([_gfi_group(pw[0], pw[1], Sig, mu, fi.meanstructure, fi.x_index, pg)
                         for pw, Sig, mu, pg in zip(fi.pairwise, fi.Sigma, fi.mu, fi.patterns)])
    gfi = float(np.sum(w * gfis)) if G > 1 else float(gfis[0])
    nel = sum(S.shape[0] * (S.shape[0] + 1) / 2 + (S.shape[0] if fi.meanstructure else 0)
              for S in fi.S)
    out["gfi"] = gfi
    out["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi

    out["mfi"] = float(np.exp(-0.5 * (X2 - df) / N))
    out["ecvi"] = X2 / N + 2 * npar / N
    return out


# ----------------------------------------------------------------------------- robust (MLR)
def _cfi(X2, df, Xb, dfb, c=1.0, cb=1.0):
    if df > 0 and c != 1 and cb != 1:
        t1 = max(X2 - c * df, 0.0)
        t2 = max(X2 - c * df, Xb - cb * dfb, 0.0)
    else:
        t1 = max(X2 - df, 0.0)
        t2 = max(X2 - df, Xb - dfb, 0.0)
    if np.isclose(t1, 0) and np.isclose(t2, 0):
        return 1.0
    return 1 - t1 / t2


def _tli(X2, df, Xb, dfb, c=1.0, cb=1.0):
    if df > 0 and c != 1 and cb != 1:
        t1 = (X2 - c * df) * dfb
        t2 = (Xb - cb * dfb) * df
    else:
        t1 = (X2 - df) * dfb
        t2 = (Xb - dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1 - t1 / t2
    return 1.0


def _rni(X2, df, Xb, dfb, c=1.0, cb=1.0):
    if df > 0 and c != 1 and cb != 1:
        t1, t2 = X2 - c * df, Xb - cb * dfb
    else:
        t1, t2 = X2 - df, Xb - dfb
    return np.nan if np.isclose(t2, 0) else 1 - t1 / t2


def _rfi(X2, df, Xb, dfb):
    if df > dfb:
        return np.nan
    if df > 0 and dfb > 0:
        t1, t2 = Xb / dfb - X2 / df, Xb / dfb
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def _nfi(X2, df, Xb, dfb):
    if df > dfb or np.isclose(Xb, 0):
        return np.nan
    return (Xb - X2) / Xb if df > 0 else 1.0


def _ifi(X2, df, Xb, dfb):
    t1, t2 = Xb - X2, Xb - df
    if t2 < 0:
        return 1.0
    return np.nan if np.isclose(t2, 0) else t1 / t2


def robust_fit_measures(fm: dict, rob, c_null: float, nx_free: int, G: int) -> dict:
    """Scaled (Yuan-Bentler, Mplus variant) and robust fit measures (lavaan names, snake_case).

    Notes
    -----
    ``*_scaled`` use the scaled chi-squares of model and baseline in the usual
    formulas; ``cfi_robust``/``tli_robust``/``rni_robust`` are Brosseau-Liard &
    Savalei's (``X2 - c df`` against ``X2_null - c_null df_null``); ``rmsea_scaled``
    uses the naive ``X2`` with ``df = tr(U Gamma)``; ``rmsea_robust`` is
    ``sqrt(max((X2/N)/df - c/N, 0)) sqrt(G)`` with its CI from the scaled statistic
    (lavaan ``lav_fit_rmsea_lavobject``).
    """
    from scipy import special  # lazy: keeps `import psychometrics.sem` light
    X2, df = fm["chisq"], fm["df"]
    Xb, dfb = fm["baseline_chisq"], fm["baseline_df"]
    N = fm["ntotal"]
    c = rob.trace_ugamma / df if df > 0 else np.nan
    # df = 0 (e.g. a saturated model with an active inequality constraint): lavaan keeps
    # the unscaled statistic, no p-value or scaling factor, NA robust CFI/TLI, RMSEA 0
    Xs = X2 / c if df > 0 else X2
    Xbs = Xb / c_null
    out = {}
    out["chisq_scaled"] = Xs
    out["df_scaled"] = df
    out["pvalue_scaled"] = float(special.chdtrc(df, Xs)) if df > 0 else np.nan
    out["chisq_scaling_factor"] = c
    out["baseline_chisq_scaled"] = Xbs
    out["baseline_df_scaled"] = dfb
    out["baseline_pvalue_scaled"] = float(special.chdtrc(dfb, Xbs))
    out["baseline_chisq_scaling_factor"] = c_null
    out["cfi_scaled"] = _cfi(Xs, df, Xbs, dfb)
    out["tli_scaled"] = _tli(Xs, df, Xbs, dfb)
    out["cfi_robust"] = _cfi(X2, df, Xb, dfb, c, c_null)
    out["tli_robust"] = _tli(X2, df, Xb, dfb, c, c_null)
    out["nnfi_scaled"] = out["tli_scaled"]
    out["rfi_scaled"] = _rfi(Xs, df, Xbs, dfb)
    out["nfi_scaled"] = _nfi(Xs, df, Xbs, dfb)
    out["pnfi_scaled"] = (df / dfb) * (Xbs - Xs) / Xbs
    out["ifi_scaled"] = _ifi(Xs, df, Xbs, dfb)
    out["rni_scaled"] = _rni(Xs, df, Xbs, dfb)
    out["nnfi_robust"] = out["tli_robust"]
    out["rni_robust"] = _rni(X2, df, Xb, dfb, c, c_null)
    out["scaling_factor_h1"] = float(np.sum(rob.trace_h1) / np.sum(rob.h1_ndat))
    out["scaling_factor_h0"] = float(np.sum(rob.trace_h0) / nx_free)
    if df == 0:
        return _robust_df0(out)
    # rmsea: scaled (naive) and robust
    df2 = rob.trace_ugamma
    out["rmsea_scaled"] = float(np.sqrt(max((X2 / N) / df2 - 1 / N, 0)) * np.sqrt(G))
    lo, hi = rmsea_ci(X2, df2, N, G)
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = lo, hi
    out["rmsea_pvalue_scaled"] = 1.0 - _pnchisq(X2, df2, N * df2 * 0.05 ** 2 / G)
    out["rmsea_notclose_pvalue_scaled"] = _pnchisq(X2, df2, N * df2 * 0.08 ** 2 / G)
    out["rmsea_robust"] = float(np.sqrt(max((X2 / N) / df - c / N, 0)) * np.sqrt(G))
    lo, hi = rmsea_ci(Xs, df, N, G, c_hat=c)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = lo, hi
    out["rmsea_pvalue_robust"] = 1.0 - _pnchisq(Xs, df, (N * df * (1 / c) * 0.05 ** 2) / G)
    out["rmsea_notclose_pvalue_robust"] = _pnchisq(Xs, df, (N * df * (1 / c) * 0.08 ** 2) / G)
    return out


def _robust_df0(out: dict) -> dict:
    for k in ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust", "rmsea_scaled",
              "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled",
              "rmsea_notclose_pvalue_scaled", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
              "rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust"):
        out[k] = np.nan
    out["rmsea_robust"] = 0.0
    return out


def robust_indices(X2, df, Xb, dfb, c, cb, N, G) -> dict:
    """Robust CFI/TLI/RNI/RMSEA (Brosseau-Liard & Savalei; lavaan ``*.robust``) from a
    statistic ``X2`` with scaling ``c`` and a baseline ``Xb`` with scaling ``cb``."""
    out = {}
    out["cfi_robust"] = _cfi(X2, df, Xb, dfb, c, cb)
    out["tli_robust"] = _tli(X2, df, Xb, dfb, c, cb)
    out["nnfi_robust"] = out["tli_robust"]
    out["rni_robust"] = _rni(X2, df, Xb, dfb, c, cb)
    Xs = X2 / c
    out["rmsea_robust"] = float(np.sqrt(max((X2 / N) / df - c / N, 0)) * np.sqrt(G))
    lo, hi = rmsea_ci(Xs, df, N, G, c_hat=c)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = lo, hi
    out["rmsea_pvalue_robust"] = 1.0 - _pnchisq(Xs, df, (N * df * (1 / c) * 0.05 ** 2) / G)
    out["rmsea_notclose_pvalue_robust"] = _pnchisq(Xs, df, (N * df * (1 / c) * 0.08 ** 2) / G)
    return out
