"""Parameter recovery with the project's simulator (slow: ``pytest -m slow tests/multilevel``).

A. Latent level, exact model: with ``oq_ar = 0`` the simulator's OQ recursion is exactly the
   random-intercept model ``oq_next = c0 + u_i + gamma_w w_it + gamma_b b_i + e``. Over 200
   seeded replications of 150 patients, mixed() must recover gamma_w = -8, gamma_b = -1 and the
   variance components (4^2, 7^2) without bias, and its 95% Satterthwaite intervals must cover
   the truth about 95% of the time.
B. Observed level (WAI item means, scored OQ-45 totals), the study's analysis (progress()):
   item error attenuates the within effect. (1) In one large sample (20,000 patients) the
   within estimate equals -8 x lambda_w, lambda_w being the regression of the true within
   alliance on the observed within part, and the between estimate equals the GLS-weighted
   regression of each patient's mean true signal on the observed patient mean: the bias is
   what measurement error (and the patient mean of the within fluctuation) explains.
   (2) Over 100 replications of 150 patients progress() is unbiased for that large-sample value
   and its 95% intervals cover it about 95% of the time, for the within and between effects.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrics.simulate as sim
from psychometrics.instruments import load_instrument
from psychometrics.multilevel import lead, mixed, progress

pytestmark = pytest.mark.slow

OQ_REVERSED = list(load_instrument("oq-45.2").item_table().query("reverse")["item_id"])
WAI_ITEMS = [f"wai_{i}" for i in range(1, 13)]
OQ_ITEMS = [f"oq_{i}" for i in range(1, 46)]


def _observed(res) -> pd.DataFrame:
    d = res.data.copy()
    d["wai"] = d[WAI_ITEMS].mean(axis=1)
    oq = d[OQ_ITEMS].astype(float)
    oq[OQ_REVERSED] = 4 - oq[OQ_REVERSED]
    d["oq_total"] = oq.sum(axis=1)
    s = res.truth.sessions[["patient_id", "month", "latent_wai_within_w", "latent_oq_total"]]
    d = d.merge(s, on=["patient_id", "month"])
    d = d.merge(res.truth.patients[["patient_id", "latent_wai_between_b"]], on="patient_id")
    return d[["patient_id", "month", "wai", "oq_total", "latent_wai_within_w", "latent_oq_total",
              "latent_wai_between_b"]]


def _check_mean(est, truth, extra_se=0.0, k=3.5):
    est = np.asarray(est)
    mcse = est.std(ddof=1) / np.sqrt(len(est))
    se = np.sqrt(mcse ** 2 + extra_se ** 2)
    assert abs(est.mean() - truth) < k * se, (est.mean(), truth, se)


def _check_coverage(lo, hi, truth, low=0.91, high=0.985):
    cover = np.mean((np.asarray(lo) <= truth) & (truth <= np.asarray(hi)))
    assert low <= cover <= high, cover


def test_latent_model_recovers_truth_and_covers():
    n_rep = 200
    est = {"w": [], "b": [], "lo_w": [], "hi_w": [], "lo_b": [], "hi_b": [], "tau2": [], "s2": []}
    for res in sim.replicate(n_rep, seed=20240601, n_patients=150, oq_ar=0.0):
        d = _observed(res)
        d = lead(d, "patient_id", "month", "latent_oq_total").data
        fit = mixed("latent_oq_total_lead ~ latent_wai_within_w + latent_wai_between_b"
                    " + (1 | patient_id)", d)
        fe = fit.fixed_effects.set_index("term")
        est["w"].append(fe.loc["latent_wai_within_w", "est"])
        est["b"].append(fe.loc["latent_wai_between_b", "est"])
        est["lo_w"].append(fe.loc["latent_wai_within_w", "ci_lower"])
        est["hi_w"].append(fe.loc["latent_wai_within_w", "ci_upper"])
        est["lo_b"].append(fe.loc["latent_wai_between_b", "ci_lower"])
        est["hi_b"].append(fe.loc["latent_wai_between_b", "ci_upper"])
        est["tau2"].append(fit.random_effects["variance"].iloc[0])
        est["s2"].append(fit.sigma ** 2)
    p = sim.SimulationParams()
    _check_mean(est["w"], p.gamma_within)
    _check_mean(est["b"], p.gamma_between)
    _check_mean(est["tau2"], p.oq_u_sd ** 2)
    _check_mean(est["s2"], p.oq_err_sd ** 2)
    _check_coverage(est["lo_w"], est["hi_w"], p.gamma_within)
    _check_coverage(est["lo_b"], est["hi_b"], p.gamma_between)


def test_observed_within_effect_attenuated_only_by_measurement_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        big = _observed(sim.simulate(seed=777, n_patients=20000, oq_ar=0.0))
    pr = progress(big, "oq_total", "wai", "patient_id", "month", control_prior_outcome=False)
    eff = pr.effects.set_index("effect")
    dm = pr.data[pr.data["oq_total_lead"].notna()]
    xw = dm["wai_within"].to_numpy()
    lam = float(xw @ dm["latent_wai_within_w"].to_numpy() / (xw @ xw))
    expected = sim.SimulationParams().gamma_within * lam
    got, se = eff.loc["within", "est"], eff.loc["within", "se"]
    assert 0.5 < lam < 0.95                     # item error does attenuate
    assert abs(got - expected) < max(4 * se, 0.02 * abs(expected)), (got, expected, se)
    # between: the observed patient mean carries b_i, the patient's mean of the AR(1)
    # fluctuation w (which acts with -8) and item/subscale error. Expected coefficient = the
    # GLS-weighted (1 / (tau^2 + sigma^2 / n_i)) regression of each patient's mean true signal
    # (-8 w_it - b_i over the model rows) on the observed patient mean.
    fit = pr.models["wai"]
    tau2, s2 = fit.random_effects["variance"].iloc[0], fit.sigma ** 2
    sig = (-8.0 * dm["latent_wai_within_w"] - dm["latent_wai_between_b"]).groupby(dm["patient_id"])
    g = dm.groupby("patient_id")
    xb, sb, n = g["wai_between_c"].first(), sig.mean(), g.size()
    w = 1.0 / (tau2 + s2 / n)
    xc = xb - np.average(xb, weights=w)
    expected_b = float(np.sum(w * xc * sb) / np.sum(w * xc ** 2))
    got_b, se_b = eff.loc["between", "est"], eff.loc["between", "se"]
    assert expected_b < sim.SimulationParams().gamma_between - 0.3   # visibly biased away from -1
    assert abs(got_b - expected_b) < max(3 * se_b, 0.03 * abs(expected_b)), (got_b, expected_b, se_b)

    # small samples: unbiased for the large-sample value, intervals cover it
    targets = {e: (eff.loc[e, "est"], eff.loc[e, "se"]) for e in ("within", "between")}
    rows = {e: [] for e in targets}
    for res in sim.replicate(100, seed=99, n_patients=150, oq_ar=0.0):
        d = _observed(res)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = progress(d, "oq_total", "wai", "patient_id", "month",
                         control_prior_outcome=False).effects.set_index("effect")
        for e in targets:
            rows[e].append((r.loc[e, "est"], r.loc[e, "ci_lower"], r.loc[e, "ci_upper"]))
    for e, (target, target_se) in targets.items():
        a = np.array(rows[e])
        _check_mean(a[:, 0], target, extra_se=target_se)
        _check_coverage(a[:, 1], a[:, 2], target, low=0.88, high=0.99)
