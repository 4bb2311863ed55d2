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
from scipy.special import expit

MODELS = ("graded", "gpcm")


# --------------------------------------------------------------------------- graded
def _grm_cum(par, theta):
    a, c = par[0], par[1:]
    x = a * theta[None, :] + c[:, None]                  # (K-1, Q)
    return x


def grm_prob(par, theta):
    """(K, Q) category probabilities, each difference computed where it is accurate."""
    x = _grm_cum(par, theta)
    Q = theta.size
    inf = np.full((1, Q), np.inf)
    xu = np.vstack([inf, x])                             # x_k,   k = 0..K-1 (x_0 = +inf)
    xl = np.vstack([x, -inf])                            # x_k+1
    upper_side = (xu + xl) > 0                           # both cumulatives near 1
    with np.errstate(invalid="ignore"):
        p_hi = expit(-xl) - expit(-xu)                   # (1 - P*_{k+1}) - (1 - P*_k)
        p_lo = expit(xu) - expit(xl)
    p = np.where(upper_side, p_hi, p_lo)
    return np.maximum(p, 1e-300)


def grm_logprob(par, theta):
    return np.log(grm_prob(par, theta))


def grm_dlogprob(par, theta):
    x = _grm_cum(par, theta)
    K1, Q = x.shape
    W = expit(x) * expit(-x)                             # dP*/dx, (K-1, Q)
    P = grm_prob(par, theta)                             # (K, Q)
    z = np.zeros((1, Q))
    Wu = np.vstack([z, W])                               # W_k   (W_0 = 0)
    Wl = np.vstack([W, z])                               # W_k+1 (W_K = 0)
    d = np.zeros((K1 + 1, K1 + 1, Q))
    d[0] = theta[None, :] * (Wu - Wl) / P
    for m in range(1, K1 + 1):                          # c_m moves P*_m
        d[m, m] = W[m - 1] / P[m]
        d[m, m - 1] = -W[m - 1] / P[m - 1]
    return d


def grm_dtheta(par, theta):
    x = _grm_cum(par, theta)
    W = expit(x) * expit(-x)
    z = np.zeros((1, theta.size))
    return par[0] * (np.vstack([z, W]) - np.vstack([W, z]))


# --------------------------------------------------------------------------- gpcm
def _gpcm_z(par, theta):
    a, c = par[0], np.concatenate([[0.0], par[1:]])
    k = np.arange(c.size)
    return a * k[:, None] * theta[None, :] + c[:, None]


def gpcm_logprob(par, theta):
    z = _gpcm_z(par, theta)
    m = z.max(axis=0)
    return z - (m + np.log(np.exp(z - m).sum(axis=0)))


def gpcm_prob(par, theta):
    return np.exp(gpcm_logprob(par, theta))


def gpcm_dlogprob(par, theta):
    P = gpcm_prob(par, theta)
    K, Q = P.shape
    k = np.arange(K)[:, None]
    ek = (k * P).sum(axis=0)
    d = np.zeros((K, K, Q))
    d[0] = theta[None, :] * (k - ek[None, :])
    for m in range(1, K):
        d[m] = -P[m][None, :]
        d[m, m] += 1.0
    return d


def gpcm_dtheta(par, theta):
    P = gpcm_prob(par, theta)
    k = np.arange(P.shape[0])[:, None]
    ek = (k * P).sum(axis=0)
    return par[0] * P * (k - ek[None, :])


# --------------------------------------------------------------------------- dispatch
_LOGP = {"graded": grm_logprob, "gpcm": gpcm_logprob}
_PROB = {"graded": grm_prob, "gpcm": gpcm_prob}
_DLOGP = {"graded": grm_dlogprob, "gpcm": gpcm_dlogprob}
_DTHETA = {"graded": grm_dtheta, "gpcm": gpcm_dtheta}


def logprob(model, par, theta):
    return _LOGP[model](np.asarray(par, float), np.asarray(theta, float))


def prob(model, par, theta):
    return _PROB[model](np.asarray(par, float), np.asarray(theta, float))


def dlogprob(model, par, theta):
    return _DLOGP[model](np.asarray(par, float), np.asarray(theta, float))


def dtheta(model, par, theta):
    return _DTHETA[model](np.asarray(par, float), np.asarray(theta, float))


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
    if model == "graded":
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
    if model == "graded":
        cum = 1.0 - np.cumsum(p)[:-1]                    # P(X >= k), k = 1..K-1
        c = np.log(cum / (1.0 - cum)) * 1.7
        return np.concatenate([[1.0], c])
    c = np.log(p[1:] / p[0])
    return np.concatenate([[1.0], c])


def valid(model, par):
    """Graded intercepts must decrease strictly (else probabilities are negative)."""
    if model == "graded":
        return bool(np.all(np.diff(par[1:]) < 0)) and np.all(np.isfinite(par))
    return bool(np.all(np.isfinite(par)))
