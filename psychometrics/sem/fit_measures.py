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

This module is the one place of ``psychometrics.sem`` where index formulas live: the ML,
MLR/MLM/MLMV, FIML, ordinal (DWLS/WLSMV/ULS/ULSMV, single- and multi-group) and two-level fits all
call the small pure functions below (``cfi``, ``tli``, ``rmsea``, ``rmsea_ci``,
``rmsea_pvalues``, ``information_criteria``, ...) with their own chi-squares, degrees of
freedom and N (e.g. N - 1 or N - G for the WLS family, as lavaan). Each function follows
the lavaan 0.6-14 function of the same name (``lav_fit_cfi``, ``lav_fit_rmsea``, ...),
edge cases included. ``tests/sem/test_fit_index_single_source.py`` fails when an index
formula appears in another module of ``sem``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FitInputs", "compute_fit_measures", "robust_fit_measures", "robust_indices",
           "cfi", "tli", "rni", "nfi", "rfi", "ifi", "pnfi", "incremental_indices",
           "rmsea", "rmsea_ci", "rmsea_pvalues", "rmsea_measures", "robust_rmsea_measures",
           "rmsea_diff", "information_criteria", "agfi", "pgfi", "gfi", "mfi", "ecvi",
           "hoelter_cn", "wrmr", "wls_residual_rms", "srmr_cor", "srmr_twolevel"]

from ..numerics.brent import uniroot as _uniroot  # R's uniroot (zeroin), shared with efa


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


# ----------------------------------------------------------------------------- RMSEA family
def rmsea(X2, df, N, G=1, c_hat=1.0):
    """RMSEA ``sqrt(max((X2/N)/df - c_hat/N, 0)) * sqrt(G)``, 0 when ``df = 0``
    (lavaan ``lav_fit_rmsea``).

    ``N`` is the number of observations the estimator uses (N for ML, N - 1 or N - G for
    the WLS family); ``c_hat`` is the scaling factor of the robust RMSEA.
    """
    if df > 0:
        return float(np.sqrt(max((X2 / N) / df - c_hat / N, 0)) * np.sqrt(G))
    return 0.0


def rmsea_pvalues(X2, df, N, G=1, c_hat=1.0, h0_close=0.05, h0_notclose=0.08):
    """Tests of close fit (H0: RMSEA <= 0.05) and of not-close fit (H0: RMSEA >= 0.08),
    ``(p_close, p_notclose)``, NaN when ``df = 0`` (lavaan ``lav_fit_rmsea_closefit`` and
    ``lav_fit_rmsea_notclosefit``; noncentrality ``N df / c_hat h0^2 / G``)."""
    if not df > 0:
        return np.nan, np.nan
    close = 1.0 - _pnchisq(X2, df, N * df / c_hat * h0_close ** 2 / G)
    notclose = _pnchisq(X2, df, N * df / c_hat * h0_notclose ** 2 / G)
    return close, notclose


def rmsea_measures(X2, df, N, G=1, sfx="") -> dict:
    """``rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_pvalue, rmsea_notclose_pvalue`` (keys
    with suffix ``sfx``) of a statistic ``X2`` on ``df`` degrees of freedom."""
    lo, hi = rmsea_ci(X2, df, N, G)
    close, notclose = rmsea_pvalues(X2, df, N, G)
    return {"rmsea" + sfx: rmsea(X2, df, N, G), "rmsea_ci_lower" + sfx: float(lo),
            "rmsea_ci_upper" + sfx: float(hi), "rmsea_pvalue" + sfx: close,
            "rmsea_notclose_pvalue" + sfx: notclose}


def robust_rmsea_measures(X2, df, c, N, G=1) -> dict:
    """Robust RMSEA (Brosseau-Liard, Savalei & Li; lavaan ``rmsea.robust``) of a naive
    statistic ``X2`` with scaling factor ``c``: point estimate with ``c_hat = c``, interval
    and close-fit tests from the scaled statistic ``X2 / c``."""
    Xs = X2 / c
    lo, hi = rmsea_ci(Xs, df, N, G, c_hat=c)
    close, notclose = rmsea_pvalues(Xs, df, N, G, c_hat=c)
    return {"rmsea_robust": rmsea(X2, df, N, G, c_hat=c), "rmsea_ci_lower_robust": lo,
            "rmsea_ci_upper_robust": hi, "rmsea_pvalue_robust": close,
            "rmsea_notclose_pvalue_robust": notclose}


def rmsea_diff(dX2, ddf, N, G=1):
    """RMSEA of a chi-square difference test (lavaan ``lavTestLRT``):
    ``sqrt(max(0, (dX2 - ddf) / (N ddf))) * sqrt(G)``."""
    return float(np.sqrt(max(0.0, (dX2 - ddf) / (N * ddf))) * np.sqrt(G))


# ----------------------------------------------------------------------------- others
def information_criteria(logl, npar, N) -> dict:
    """``aic``, ``bic`` and ``bic2`` (sample-size adjusted BIC, SABIC) of a log-likelihood
    (lavaan ``lav_fit_aic``, ``lav_fit_bic``, ``lav_fit_sabic``)."""
    return {"aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(N),
            "bic2": -2 * logl + npar * np.log((N + 2) / 24)}


def gfi(t1, t2):
    """GFI of one group from the weighted residual and total sums of squares
    ``t1 = e' W e``, ``t2 = s' W s`` (lavaan ``lav_fit_gfi``)."""
    return 1 - t1 / t2


def agfi(gfi_value, nel, df):
    """Adjusted GFI (lavaan ``lav_fit_agfi``); ``nel`` = number of sample statistics."""
    return 1 - (nel / df) * (1 - gfi_value) if df > 0 else 1.0


def pgfi(gfi_value, nel, df):
    """Parsimony GFI (lavaan ``lav_fit_pgfi``)."""
    return (df / nel) * gfi_value


def mfi(X2, df, N):
    """McDonald's fit index ``exp(-(X2 - df) / (2 N))`` (lavaan ``lav_fit_mfi``)."""
    return float(np.exp(-0.5 * (X2 - df) / N))


def ecvi(X2, npar, N):
    """Expected cross-validation index (lavaan ``lav_fit_ecvi``)."""
    return X2 / N + 2 * npar / N


def hoelter_cn(X2, df, N, alpha):
    """Hoelter's critical N ``qchisq(1 - alpha, df) / (X2 / N) + 1`` (lavaan
    ``lav_fit_cn``); the callers decide where it is undefined."""
    from scipy import special  # lazy: keeps `import psychometrics.sem` light
    return special.chdtri(df, alpha) / (X2 / N) + 1


def wrmr(X2, nel):
    """Weighted root mean square residual ``sqrt(X2 / nel)`` (lavaan ``lav_fit_wrmr``)."""
    return float(np.sqrt(X2 / nel))


def wls_residual_rms(e_cor, e_th, p) -> dict:
    """RMR family of a categorical fit from its residual correlations ``e_cor`` (the
    off-diagonal ones; the diagonal residuals are 0) and threshold residuals ``e_th``
    (the 'mean' part), ``p`` variables: ``srmr`` (without thresholds), ``srmr_mean``
    (with them) and Bollen's ``crmr``, ``crmr_nomean`` (lavaan, categorical data)."""
    ss_cor = float(np.sum(e_cor ** 2))
    ss_th = float(np.sum(e_th ** 2))
    nth = len(e_th)
    return {"srmr": np.sqrt(ss_cor / (p * (p + 1) / 2)),
            "srmr_mean": np.sqrt((ss_cor + ss_th) / (p * (p + 1) / 2 + nth)),
            "crmr": np.sqrt((ss_cor + ss_th) / (p * (p - 1) / 2 + nth)),
            "crmr_nomean": np.sqrt(ss_cor / (p * (p - 1) / 2))}


def _cor(S):
    d = np.sqrt(np.diag(S))
    with np.errstate(invalid="ignore", divide="ignore"):
        return S / d[:, None] / d[None, :]


def srmr_cor(S, Sigma):
    """SRMR as the root mean square of vech(cor(S) - cor(Sigma)), diagonal included
    (lavaan ``lav_fit_srmr_twolevel``, one level)."""
    R = _cor(S) - _cor(Sigma)
    iu = np.tril_indices(S.shape[0])
    return float(np.sqrt(np.mean(R[iu] ** 2)))


def srmr_twolevel(S_within, Sigma_within, S_between, Sigma_between) -> dict:
    """Two-level SRMR (lavaan ``lav_fit_srmr_twolevel``): ``srmr_within``, ``srmr_between``
    (each :func:`srmr_cor` of the h1 against the implied moments of its level) and
    ``srmr = srmr_within + srmr_between``. As lavaan, the implied between matrix is first
    made positive semi-definite (negative eigenvalues set to 0)."""
    w, V = np.linalg.eigh(Sigma_between)
    if w.min() < 0:
        Sigma_between = (V * np.maximum(w, 0.0)) @ V.T
    out = {"srmr_within": srmr_cor(S_within, Sigma_within),
           "srmr_between": srmr_cor(S_between, Sigma_between)}
    out["srmr"] = out["srmr_within"] + out["srmr_between"]
    return out


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
    return gfi(t1, t2)


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
    out.update(incremental_indices(X2, df, Xb, dfb))
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
    ic = information_criteria(logl, npar, N)
    out["aic"] = ic["aic"]
    out["bic"] = ic["bic"]
    out["ntotal"] = N
    out["bic2"] = ic["bic2"]
    out["sabic"] = out["bic2"]
    # rmsea
    r = rmsea_measures(X2, df, N, G)
    out["rmsea"] = r["rmsea"]
    out["rmsea_ci_lower"] = r["rmsea_ci_lower"]
    out["rmsea_ci_upper"] = r["rmsea_ci_upper"]
    out["rmsea_ci_level"] = 0.90
    out["rmsea_pvalue"] = r["rmsea_pvalue"]
    out["rmsea_close_h0"] = 0.05
    out["rmsea_notclose_pvalue"] = r["rmsea_notclose_pvalue"]
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
        out["cn_05"] = hoelter_cn(X2, df, N, 0.05)
        out["cn_01"] = hoelter_cn(X2, df, N, 0.01)
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
    g = float(np.sum(w * gfis)) if G > 1 else float(gfis[0])
    nel = sum(S.shape[0] * (S.shape[0] + 1) / 2 + (S.shape[0] if fi.meanstructure else 0)
              for S in fi.S)
    out["gfi"] = g
    out["agfi"] = agfi(g, nel, df)
    out["pgfi"] = pgfi(g, nel, df)

    out["mfi"] = mfi(X2, df, N)
    out["ecvi"] = ecvi(X2, npar, N)
    return out


# ----------------------------------------------------------------------------- incremental
def cfi(X2, df, Xb, dfb, c=1.0, cb=1.0):
    """Comparative fit index of a statistic ``X2`` (df ``df``) against a baseline ``Xb``
    (df ``dfb``); with scaling factors ``c``, ``cb`` the robust CFI of Brosseau-Liard &
    Savalei (``X2 - c df`` against ``Xb - cb dfb``). lavaan ``lav_fit_cfi``."""
    if df > 0 and c != 1 and cb != 1:
        t1 = max(X2 - c * df, 0.0)
        t2 = max(X2 - c * df, Xb - cb * dfb, 0.0)
    else:
        t1 = max(X2 - df, 0.0)
        t2 = max(X2 - df, Xb - dfb, 0.0)
    if np.isclose(t1, 0) and np.isclose(t2, 0):
        return 1.0
    return 1 - t1 / t2


def tli(X2, df, Xb, dfb, c=1.0, cb=1.0):
    """Tucker-Lewis index (NNFI), robust with ``c``, ``cb`` (lavaan ``lav_fit_tli``)."""
    if df > 0 and c != 1 and cb != 1:
        t1 = (X2 - c * df) * dfb
        t2 = (Xb - cb * dfb) * df
    else:
        t1 = (X2 - df) * dfb
        t2 = (Xb - dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1 - t1 / t2
    return 1.0


def rni(X2, df, Xb, dfb, c=1.0, cb=1.0):
    """Relative noncentrality index, not capped (lavaan ``lav_fit_rni``)."""
    if df > 0 and c != 1 and cb != 1:
        t1, t2 = X2 - c * df, Xb - cb * dfb
    else:
        t1, t2 = X2 - df, Xb - dfb
    return np.nan if np.isclose(t2, 0) else 1 - t1 / t2


def rfi(X2, df, Xb, dfb):
    """Bollen's relative fit index (lavaan ``lav_fit_rfi``)."""
    if df > dfb:
        return np.nan
    if df > 0 and dfb > 0:
        t1, t2 = Xb / dfb - X2 / df, Xb / dfb
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def nfi(X2, df, Xb, dfb):
    """Bentler-Bonett normed fit index (lavaan ``lav_fit_nfi``)."""
    if df > dfb or np.isclose(Xb, 0):
        return np.nan
    return (Xb - X2) / Xb if df > 0 else 1.0


def ifi(X2, df, Xb, dfb):
    """Bollen's incremental fit index (lavaan ``lav_fit_ifi``)."""
    t1, t2 = Xb - X2, Xb - df
    if t2 < 0:
        return 1.0
    return np.nan if np.isclose(t2, 0) else t1 / t2


def pnfi(X2, df, Xb, dfb):
    """Parsimony normed fit index ``(df / dfb) NFI`` (lavaan ``lav_fit_pnfi``)."""
    if dfb > 0 and Xb > 0:
        return (df / dfb) * ((Xb - X2) / Xb)
    return np.nan


def incremental_indices(X2, df, Xb, dfb, sfx="") -> dict:
    """``cfi, tli, nnfi, rfi, nfi, pnfi, ifi, rni`` (keys with suffix ``sfx``) of a statistic
    against its baseline."""
    t = tli(X2, df, Xb, dfb)
    return {"cfi" + sfx: cfi(X2, df, Xb, dfb), "tli" + sfx: t, "nnfi" + sfx: t,
            "rfi" + sfx: rfi(X2, df, Xb, dfb), "nfi" + sfx: nfi(X2, df, Xb, dfb),
            "pnfi" + sfx: pnfi(X2, df, Xb, dfb), "ifi" + sfx: ifi(X2, df, Xb, dfb),
            "rni" + sfx: rni(X2, df, Xb, dfb)}


# ----------------------------------------------------------------------------- robust (MLR)


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
    out["cfi_scaled"] = cfi(Xs, df, Xbs, dfb)
    out["tli_scaled"] = tli(Xs, df, Xbs, dfb)
    out["cfi_robust"] = cfi(X2, df, Xb, dfb, c, c_null)
    out["tli_robust"] = tli(X2, df, Xb, dfb, c, c_null)
    out["nnfi_scaled"] = out["tli_scaled"]
    out["rfi_scaled"] = rfi(Xs, df, Xbs, dfb)
    out["nfi_scaled"] = nfi(Xs, df, Xbs, dfb)
    out["pnfi_scaled"] = pnfi(Xs, df, Xbs, dfb)
    out["ifi_scaled"] = ifi(Xs, df, Xbs, dfb)
    out["rni_scaled"] = rni(Xs, df, Xbs, dfb)
    out["nnfi_robust"] = out["tli_robust"]
    out["rni_robust"] = rni(X2, df, Xb, dfb, c, c_null)
    out["scaling_factor_h1"] = float(np.sum(rob.trace_h1) / np.sum(rob.h1_ndat))
    out["scaling_factor_h0"] = float(np.sum(rob.trace_h0) / nx_free)
    if df == 0:
        return _robust_df0(out)
    # rmsea: scaled (naive) and robust
    df2 = rob.trace_ugamma
    r = rmsea_measures(X2, df2, N, G)
    out["rmsea_scaled"] = r["rmsea"]
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = r["rmsea_ci_lower"], \
        r["rmsea_ci_upper"]
    out["rmsea_pvalue_scaled"] = r["rmsea_pvalue"]
    out["rmsea_notclose_pvalue_scaled"] = r["rmsea_notclose_pvalue"]
    out.update(robust_rmsea_measures(X2, df, c, N, G))
    return out


def _robust_df0(out: dict) -> dict:
    for k in ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust", "rmsea_scaled",
              "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled",
              "rmsea_notclose_pvalue_scaled", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
              "rmsea_pvalue_robust", "rmsea_notclose_pvalue_robust"):
        out[k] = np.nan
    out["rmsea_robust"] = 0.0
    return out


def robust_indices(X2, df, Xb, dfb, c, cb, N, G, df_rmsea=None) -> dict:
    """Robust CFI/TLI/RNI/RMSEA (Brosseau-Liard & Savalei; lavaan ``*.robust``) from a
    statistic ``X2`` with scaling ``c`` and a baseline ``Xb`` with scaling ``cb``.

    ``df_rmsea`` (default ``df``): the df of the RMSEA when it differs from the df of the
    incremental indices (lavaan's categorical catML refit with fixed thresholds).
    """
    out = {}
    out["cfi_robust"] = cfi(X2, df, Xb, dfb, c, cb)
    out["tli_robust"] = tli(X2, df, Xb, dfb, c, cb)
    out["nnfi_robust"] = out["tli_robust"]
    out["rni_robust"] = rni(X2, df, Xb, dfb, c, cb)
    out.update(robust_rmsea_measures(X2, df if df_rmsea is None else df_rmsea, c, N, G))
    return out
