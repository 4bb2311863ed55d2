"""Analytic power of the within-patient effect in a two-level random-intercept model.

Used to check the simulation (``tests/power/test_closed_form.py``). The design
is :class:`~psychometrics.power.DesignParams` with ``lag=0``, ``x_ar=0``,
``x_trend=0``, no missing data, no therapist level, no measurement error,
analysed by ``y ~ x_within + x_between_c + (1 | id)``.
"""
from __future__ import annotations

import math


from .design import DesignParameterError, DesignParams
from .._lazy import lazy_module

integrate = lazy_module("scipy.integrate")
stats = lazy_module("scipy.stats")


__all__ = ["within_power_closed_form", "closed_form_for"]


def within_power_closed_form(n_patients: int, n_months: int, within: float, x_within_sd: float,
                             e_sd: float, alpha: float = 0.05) -> float:
    """Power of the two-sided t-test of the within-patient (level-1) effect.

    Parameters
    ----------
    n_patients, n_months : int
        ``N`` patients with ``n`` assessments each (balanced, complete).
    within : float
        True within-patient effect ``gamma_w``.
    x_within_sd : float
        SD of the predictor's within-patient part ``w`` (i.i.d. over months).
    e_sd : float
        SD of the occasion-level residual ``e`` of the outcome.
    alpha : float, default 0.05

    Returns
    -------
    float

    Notes
    -----
    Model: ``y_it = mu + u_i + gamma_w w_it + gamma_b b_i + e_it`` with
    ``w_it ~ N(0, s_w^2)`` i.i.d., analysed by REML with the person-mean-centred
    predictor ``x_within`` and the centred person mean ``x_between_c``.

    Derivation (cf. Raudenbush & Liu, 2000, Psychol Methods 5:199, and
    Snijders & Bosker, 2012, ch. 11). With balanced data, ``V^-1`` acts on the
    within-patient space as ``1 / sigma_e^2`` and ``x_within`` is orthogonal to
    every patient-constant column, so the GLS estimate of ``gamma_w`` is the
    within (fixed-effects) estimator ``sum x_w y / SS_w`` with
    ``SS_w = sum_it x_within^2``: given the predictor it is normal with mean
    ``gamma_w`` and variance ``sigma_e^2 / SS_w``. When the patient variance
    is estimated in the interior, REML's ``sigma_e^2`` is the within residual
    mean square on ``nu = N (n - 1) - 1`` df (which is also the Satterthwaite
    df of this coefficient), so ``t | SS_w`` is noncentral t with ``nu`` df and
    noncentrality ``delta = gamma_w sqrt(SS_w) / sigma_e``. Unconditionally
    ``SS_w ~ s_w^2 chi^2_{N (n-1)}``, and the power is

        E_{SS_w} [ P(|T_nu(delta)| > t_{nu, 1 - alpha/2}) ],

    computed by numerical integration over the chi-square density. (Raudenbush
    & Liu's formula plugs in ``E[SS_w] = N (n - 1) s_w^2``; the integral is
    exact for this design.)
    """
    for name, v in (("n_patients", n_patients), ("n_months", n_months)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 2:
            raise DesignParameterError(f"{name!r} must be an integer >= 2. Got {v!r} instead.")
    if not (x_within_sd > 0 and e_sd > 0):
        raise DesignParameterError(f"'x_within_sd' and 'e_sd' must be positive. "
                                   f"Got {x_within_sd!r} and {e_sd!r} instead.")
    if not 0 < alpha < 1:
        raise DesignParameterError(f"'alpha' must lie in (0, 1). Got {alpha!r} instead.")
    m = n_patients * (n_months - 1)
    nu = m - 1
    crit = stats.t.ppf(1 - alpha / 2, nu)
    scale = within * x_within_sd / e_sd

    def integrand(q: float) -> float:
        delta = scale * math.sqrt(q)
        # P(T < -c | delta) = P(T > c | -delta): both tails by sf (cdf of the far tail
        # returns NaN for large delta in scipy)
        p = stats.nct.sf(crit, nu, delta) + stats.nct.sf(crit, nu, -delta)
        return p * stats.chi2.pdf(q, m)

    lo, hi = stats.chi2.ppf([1e-12, 1 - 1e-12], m)
    val, _ = integrate.quad(integrand, lo, hi, limit=200, epsabs=1e-10)
    return float(val)


def closed_form_for(params: DesignParams, alpha: float = 0.05) -> float:
    """:func:`within_power_closed_form` for a design that has the closed form."""
    bad = {k: getattr(params, k) for k, ok in (
        ("lag", params.lag == 0), ("x_ar", params.x_ar == 0), ("x_trend", params.x_trend == 0),
        ("dropout", params.dropout == 0), ("missing_rate", params.missing_rate == 0),
        ("n_clusters", params.n_clusters == 0), ("x_error_sd", params.x_error_sd == 0),
        ("y_error_sd", params.y_error_sd == 0)) if not ok}
    if bad:
        raise DesignParameterError(
            f"The closed form needs lag=0, x_ar=0, x_trend=0 and no dropout, missing months, "
            f"therapist level or measurement error; this design has {bad}.")
    sw = params.x_sd * math.sqrt(1 - params.icc_x)
    se = params.y_resid_sd * math.sqrt(1 - params.icc)
    return within_power_closed_form(params.n_patients, params.n_months, params.within, sw, se,
                                    alpha)
