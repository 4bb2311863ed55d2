"""Item response functions of the graded response and generalized partial credit models.

Private module.  Every function works on one item and a vector of abilities ``theta``
(length Q) and returns arrays with categories on the first axis after the parameter axis:

* ``logprob(par, theta)`` -> (K, Q) log category probabilities;
* ``dlogprob(par, theta)`` -> (n_par, K, Q) derivatives of the log probabilities with
  respect to the item's parameters (slope first, then the K-1 intercepts);
* ``dtheta(par, theta)`` -> (K, Q) derivatives of the probabilities with respect to theta
  (for item information).

Parameters are in slope-intercept form:

graded (Samejima 1969, logistic)
    ``P(X >= k | theta) = 1 / (1 + exp(-(a theta + c_k)))``, ``k = 1..K-1``, with
    ``c_1 > c_2 > ... > c_{K-1}`` (as rpf.grm and mirt's ``graded``); ``b_k = -c_k / a``.
gpcm (Muraki 1992)
    ``P(X = k | theta) ∝ exp(k a theta + c_k)``, ``c_0 = 0`` (mirt's ``gpcm`` with its
    default scoring 0..K-1); ``b_k = -(c_k - c_{k-1}) / a``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

_SQRT2PI = np.sqrt(2 * np.pi)


def _npdf(x):
    return np.exp(-0.5 * x * x) / _SQRT2PI

MODELS = ("graded", "gpcm", "graded_probit")


# Batched forms: ``par`` is (B, K) (B items with the same K), results carry a leading B axis.
# --------------------------------------------------------------------------- graded
def _grm_cum(par, theta):
    return par[:, :1, None] * theta[None, None, :] + par[:, 1:, None]    # (B, K-1, Q)


def _pad(x, value):
    B, _, Q = x.shape
    return np.full((B, 1, Q), value)


def grm_prob_b(par, theta, cdf=expit):
    """(B, K, Q) category probabilities, each difference computed where it is accurate."""
    x = _grm_cum(par, theta)
    xu = np.concatenate([_pad(x, np.inf), x], axis=1)   # x_k   (x_0 = +inf)
    xl = np.concatenate([x, _pad(x, -np.inf)], axis=1)  # x_k+1 (x_K = -inf)
    upper_side = (xu + xl) > 0                          # both cumulatives near 1
    with np.errstate(invalid="ignore"):
        p = np.where(upper_side, cdf(-xl) - cdf(-xu), cdf(xu) - cdf(xl))
    return np.maximum(p, 1e-300)


def grm_dlogprob_b(par, theta, P=None, probit=False):
    x = _grm_cum(par, theta)
    B, K1, Q = x.shape
    W = _npdf(x) if probit else expit(x) * expit(-x)    # dP*/dx, (B, K-1, Q)
    if P is None:
        P = grm_prob_b(par, theta, ndtr if probit else expit)
    z = np.zeros((B, 1, Q))
    Wu = np.concatenate([z, W], axis=1)
    Wl = np.concatenate([W, z], axis=1)
    d = np.zeros((B, K1 + 1, K1 + 1, Q))
    d[:, 0] = theta * (Wu - Wl) / P
    for m in range(1, K1 + 1):                          # c_m moves P*_m
        d[:, m, m] = W[:, m - 1] / P[:, m]
        d[:, m, m - 1] = -W[:, m - 1] / P[:, m - 1]
    return d


def grm_dtheta_b(par, theta, probit=False):
    x = _grm_cum(par, theta)
    W = _npdf(x) if probit else expit(x) * expit(-x)
    z = np.zeros((x.shape[0], 1, x.shape[2]))
    return par[:, :1, None] * (np.concatenate([z, W], axis=1) - np.concatenate([W, z], axis=1))


# --------------------------------------------------------------------------- gpcm
def _gpcm_z(par, theta):
    B = par.shape[0]
    c = np.concatenate([np.zeros((B, 1)), par[:, 1:]], axis=1)
    k = np.arange(c.shape[1])
    return par[:, :1, None] * k[None, :, None] * theta[None, None, :] + c[:, :, None]


def gpcm_logprob_b(par, theta):
    z = _gpcm_z(par, theta)
    m = z.max(axis=1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))


def gpcm_prob_b(par, theta):
    return np.exp(gpcm_logprob_b(par, theta))


def gpcm_dlogprob_b(par, theta, P=None):
    if P is None:
        P = gpcm_prob_b(par, theta)
    B, K, Q = P.shape
    k = np.arange(K)[None, :, None]
    ek = (k * P).sum(axis=1, keepdims=True)
    d = np.zeros((B, K, K, Q))
    d[:, 0] = theta * (k - ek)
    for m in range(1, K):
        d[:, m] = -P[:, m][:, None, :]
        d[:, m, m] += 1.0
    return d


def gpcm_dtheta_b(par, theta):
    P = gpcm_prob_b(par, theta)
    k = np.arange(P.shape[1])[None, :, None]
    ek = (k * P).sum(axis=1, keepdims=True)
    return par[:, :1, None] * P * (k - ek)


# --------------------------------------------------------------------------- dispatch
_PROB_B = {"graded": grm_prob_b, "gpcm": gpcm_prob_b,
           "graded_probit": lambda par, th: grm_prob_b(par, th, ndtr)}
_DLOGP_B = {"graded": grm_dlogprob_b, "gpcm": gpcm_dlogprob_b,
            "graded_probit": lambda par, th, P=None: grm_dlogprob_b(par, th, P, probit=True)}
_DTHETA_B = {"graded": grm_dtheta_b, "gpcm": gpcm_dtheta_b,
             "graded_probit": lambda par, th: grm_dtheta_b(par, th, probit=True)}


def prob_b(model, par, theta):
    return _PROB_B[model](np.asarray(par, float), np.asarray(theta, float))


def logprob_b(model, par, theta):
    if model == "gpcm":
        return gpcm_logprob_b(np.asarray(par, float), np.asarray(theta, float))
    return np.log(prob_b(model, par, theta))


def dlogprob_b(model, par, theta, P=None):
    return _DLOGP_B[model](np.asarray(par, float), np.asarray(theta, float), P)


def prob(model, par, theta):
    """(K, Q) category probabilities of one item."""
    return prob_b(model, np.asarray(par, float)[None], theta)[0]


def logprob(model, par, theta):
    return logprob_b(model, np.asarray(par, float)[None], theta)[0]


def dlogprob(model, par, theta):
    """(n_par, K, Q) derivatives of the log probabilities of one item."""
    return dlogprob_b(model, np.asarray(par, float)[None], theta)[0]


def dtheta(model, par, theta):
    return _DTHETA_B[model](np.asarray(par, float)[None], np.asarray(theta, float))[0]


def grm_prob(par, theta):
    return prob("graded", par, theta)


def gpcm_prob(par, theta):
    return prob("gpcm", par, theta)


def item_information(model, par, theta):
    """Fisher information of one item at each theta: sum_k (dP_k/dtheta)^2 / P_k."""
    P = prob(model, par, theta)
    dP = dtheta(model, par, theta)
    return (dP * dP / P).sum(axis=0)


def to_irt(model, par):
    """Slope-intercept -> (a, b_1..b_{K-1}) and the Jacobian d(a,b)/d(a,c)."""
    par = np.asarray(par, float)
    a, c = par[0], par[1:]
    n = par.size
    J = np.zeros((n, n))
    J[0, 0] = 1.0
    if model in ("graded", "graded_probit"):
        b = -c / a
        J[1:, 0] = c / a ** 2
        J[1:, 1:] = -np.eye(n - 1) / a
    else:
        dc = np.diff(np.concatenate([[0.0], c]))
        b = -dc / a
        J[1:, 0] = dc / a ** 2
        D = np.eye(n - 1) - np.eye(n - 1, k=-1)
        J[1:, 1:] = -D / a
    return np.concatenate([[a], b]), J


def start_values(model, counts):
    """Starting (a, c) from one item's category counts (length K)."""
    counts = np.asarray(counts, float) + 0.5
    p = counts / counts.sum()
    if model in ("graded", "graded_probit"):
        cum = 1.0 - np.cumsum(p)[:-1]                    # P(X >= k), k = 1..K-1
        c = np.log(cum / (1.0 - cum)) * (1.7 if model == "graded" else 1.0)
        return np.concatenate([[1.0], c])
    c = np.log(p[1:] / p[0])
    return np.concatenate([[1.0], c])


def valid(model, par):
    """Graded intercepts must decrease strictly (else probabilities are negative)."""
    if model in ("graded", "graded_probit"):
        return bool(np.all(np.diff(par[1:]) < 0)) and np.all(np.isfinite(par))
    return bool(np.all(np.isfinite(par)))


def valid_b(model, par):
    """Per-item validity of a (B, K) batch."""
    ok = np.isfinite(par).all(axis=1)
    if model in ("graded", "graded_probit"):
        ok &= (np.diff(par[:, 1:], axis=1) < 0).all(axis=1)
    return ok


# --------------------------------------------------------------------------- linear predictor
# Multidimensional items (bifactor): the trait enters through one linear predictor per item
# and grid point, ``eta = a . theta``.  ``c`` is (B, K-1) intercepts, ``eta`` (B, Q).
def logprob_eta(model, c, eta):
    """(B, K, Q) log category probabilities given the linear predictors."""
    c = np.asarray(c, float)
    if model == "gpcm":
        B, K1 = c.shape
        k = np.arange(K1 + 1)[None, :, None]
        z = k * eta[:, None, :] + np.concatenate([np.zeros((B, 1)), c], axis=1)[:, :, None]
        m = z.max(axis=1, keepdims=True)
        return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
    x = eta[:, None, :] + c[:, :, None]
    cdf = ndtr if model == "graded_probit" else expit
    xu = np.concatenate([_pad(x, np.inf), x], axis=1)
    xl = np.concatenate([x, _pad(x, -np.inf)], axis=1)
    upper_side = (xu + xl) > 0
    with np.errstate(invalid="ignore"):
        p = np.where(upper_side, cdf(-xl) - cdf(-xu), cdf(xu) - cdf(xl))
    return np.log(np.maximum(p, 1e-300))


def dlogprob_eta(model, c, eta, P=None):
    """Derivatives of the log category probabilities: ``d_eta`` (B, K, Q) with respect to
    the linear predictor and ``d_c`` (B, K-1, K, Q) with respect to the intercepts."""
    c = np.asarray(c, float)
    if P is None:
        P = np.exp(logprob_eta(model, c, eta))
    B, K, Q = P.shape
    if model == "gpcm":
        k = np.arange(K)[None, :, None]
        d_eta = k - (k * P).sum(axis=1, keepdims=True)
        d_c = np.empty((B, K - 1, K, Q))
        for m in range(1, K):
            d_c[:, m - 1] = -P[:, m][:, None, :]
            d_c[:, m - 1, m] += 1.0
        return d_eta, d_c
    x = eta[:, None, :] + c[:, :, None]
    W = _npdf(x) if model == "graded_probit" else expit(x) * expit(-x)
    z = np.zeros((B, 1, Q))
    d_eta = (np.concatenate([z, W], axis=1) - np.concatenate([W, z], axis=1)) / P
    d_c = np.zeros((B, K - 1, K, Q))
    for m in range(1, K):
        d_c[:, m - 1, m] = W[:, m - 1] / P[:, m]
        d_c[:, m - 1, m - 1] = -W[:, m - 1] / P[:, m - 1]
    return d_eta, d_c
