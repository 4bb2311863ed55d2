"""The simulated data have the structure of the generating model.

Statistical checks use one large simulation (5,000 patients, see conftest.py).
Every tolerance is Z standard errors, with the SE derived from the data or
from the model; the data are seeded, so these checks are deterministic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics import load_instrument
from psychometrics.simulate import SimulationParams, oq_expected_total, simulate

#: Width of the acceptance band in standard errors (two-sided p ~ 6e-5 per check).
Z = 4.0
BANKS = {"wai": "wai-sr", "pear": "pear", "oq": "oq-45.2"}


def item_cols(prefix, n):
    return [f"{prefix}_{j}" for j in range(1, n + 1)]


# ------------------------------------------------------------------ layout
def test_columns_and_order(small):
    expected = (["patient_id", "month"] + item_cols("wai", 12) + item_cols("pear", 10)
                + item_cols("oq", 45))
    assert list(small.data.columns) == expected
    d = small.data
    assert d["patient_id"].dtype == np.int64 and d["month"].dtype == np.int64
    assert (d.sort_values(["patient_id", "month"]).index == d.index).all()


@pytest.mark.parametrize("key", ["wai", "pear", "oq"])
def test_item_columns_are_the_bank_items(small, key):
    inst = load_instrument(BANKS[key])
    cols = [c for c in small.data.columns if c.startswith(key + "_")]
    assert tuple(cols) == inst.item_ids


@pytest.mark.parametrize("key", ["wai", "pear", "oq"])
def test_responses_within_bank_response_scale(large, small, key):
    rs = load_instrument(BANKS[key]).response_scale
    for res in (large, small):
        values = res.data[[c for c in res.data.columns if c.startswith(key + "_")]].to_numpy(float)
        values = values[~np.isnan(values)]
        assert values.min() >= rs.min and values.max() <= rs.max
        assert np.all(values == np.round(values))
    # every category is used in the large sample
    values = large.data[[c for c in large.data.columns if c.startswith(key + "_")]].to_numpy()
    assert set(np.unique(values)) == set(rs.points)


def test_no_missing_values_without_missing_rate(large):
    items = large.data.columns[2:]
    assert (large.data[items].dtypes == np.int64).all()
    assert not large.data.isna().to_numpy().any()


# -------------------------------------------------------------- sessions
def test_unbalanced_sessions_within_bounds(large):
    p, d = large.params, large.data
    n = large.truth.patients["n_months"]
    assert n.min() >= p.sessions_min and n.max() <= p.sessions_max
    assert set(n) == set(range(p.sessions_min, p.sessions_max + 1))  # all counts occur
    # without missed sessions, months are 1..n_i, consecutive
    counts = d.groupby("patient_id")["month"].agg(["count", "min", "max"])
    assert_allclose(counts["count"].to_numpy(), n.to_numpy(), rtol=0, atol=0)
    assert (counts["min"] == 1).all() and (counts["max"] == counts["count"]).all()
    # Uniform{4..20}: mean (4+20)/2, SE from the discrete uniform SD
    sd = np.sqrt(((p.sessions_max - p.sessions_min + 1) ** 2 - 1) / 12)
    assert abs(n.mean() - (p.sessions_min + p.sessions_max) / 2) < Z * sd / np.sqrt(len(n))


def test_fixed_sessions_give_balanced_data():
    res = simulate(n_patients=40, sessions_min=12, sessions_max=12, seed=3)
    assert (res.data.groupby("patient_id").size() == 12).all()


def test_missed_sessions_make_gaps_at_requested_rate(small):
    d, t, p = small.data, small.truth, small.params
    first = d.groupby("patient_id")["month"].min()
    assert (first == 1).all()  # month 1 is never missed
    assert (d.groupby("patient_id")["month"].max()
            <= t.patients.set_index("patient_id")["n_months"]).all()
    gaps = d.groupby("patient_id")["month"].diff().dropna()
    assert (gaps > 1).any()
    at_risk = t.sessions[t.sessions["month"] > 1]
    rate = 1 - at_risk["attended"].mean()
    se = np.sqrt(p.session_miss_rate * (1 - p.session_miss_rate) / len(at_risk))
    assert abs(rate - p.session_miss_rate) < Z * se
    assert_allclose(t.patients["n_sessions"].to_numpy(),
                    d.groupby("patient_id").size().to_numpy(), rtol=0, atol=0)


def test_missing_rate_close_to_requested():
    res = simulate(n_patients=1000, missing_rate=0.05, seed=8)
    items = res.data.columns[2:]
    blank = res.data[items].isna().to_numpy()
    se = np.sqrt(0.05 * 0.95 / blank.size)
    assert abs(blank.mean() - 0.05) < Z * se
    assert not res.data[["patient_id", "month"]].isna().to_numpy().any()
    # MCAR across instruments: each instrument's rate is also close
    for prefix in ("wai_", "pear_", "oq_"):
        block = res.data[[c for c in items if c.startswith(prefix)]].isna().to_numpy()
        assert abs(block.mean() - 0.05) < Z * np.sqrt(0.05 * 0.95 / block.size)


# ------------------------------------------------------------------ truth
def test_true_parameters_and_latent_values_returned(small):
    p = small.params
    assert p == SimulationParams(missing_rate=0.02, session_miss_rate=0.10)
    t = small.truth
    assert list(t.patients.columns) == ["patient_id", "n_months", "n_sessions",
                                        "latent_wai_between_b", "oq_random_intercept_u"]
    assert len(t.patients) == p.n_patients
    assert len(t.sessions) == t.patients["n_months"].sum()
    att = t.sessions[t.sessions["attended"]].reset_index(drop=True)
    np.testing.assert_array_equal(att[["patient_id", "month"]].to_numpy(),
                                  small.data[["patient_id", "month"]].to_numpy())
    # T_it = wai_mu + b_i + trend (t - 1) + w_it
    s = t.sessions.merge(t.patients, on="patient_id")
    assert_allclose(s["latent_wai_T"], p.wai_mu + s["latent_wai_between_b"]
                    + p.wai_trend * (s["month"] - 1) + s["latent_wai_within_w"],
                    rtol=1e-12, atol=1e-12)


def test_between_patient_sd_of_alliance(large):
    p, t = large.params, large.truth
    b = t.b
    # SD of b_i: SE of a sample SD from the sample fourth moment
    assert abs(b.std(ddof=1) - p.wai_between_sd) < Z * sd_se(b)
    # person mean of latent alliance (trend removed): var = sd_b^2 + E[Var(mean of w | n_i)]
    s = t.sessions
    detrended = s["latent_wai_T"] - p.wai_trend * (s["month"] - 1)
    pm = detrended.groupby(s["patient_id"]).mean().to_numpy()
    n = t.patients["n_months"].to_numpy()
    var_wbar = np.array([ar1_mean_var(k, p.wai_within_sd, p.wai_within_ar) for k in n])
    expected_sd = np.sqrt(p.wai_between_sd ** 2 + var_wbar.mean())
    assert abs(pm.std(ddof=1) - expected_sd) < Z * sd_se(pm)
    assert abs(pm.mean() - p.wai_mu) < Z * pm.std(ddof=1) / np.sqrt(len(pm))


def test_within_patient_ar1(large):
    p, s = large.params, large.truth.sessions
    w = s["latent_wai_within_w"].to_numpy()
    same = s["patient_id"].to_numpy()[1:] == s["patient_id"].to_numpy()[:-1]
    x, y = w[:-1][same], w[1:][same]
    phi = (x @ y) / (x @ x)  # AR(1) least squares through the origin (E w = 0)
    assert abs(phi - p.wai_within_ar) < Z * np.sqrt((1 - p.wai_within_ar ** 2) / len(x))
    # marginal SD: variance of an AR(1) sample variance ~ 2 s^4 / n (1 + phi^2) / (1 - phi^2)
    n = len(w)
    var = w @ w / n
    se_var = np.sqrt(2 * p.wai_within_sd ** 4 / n * (1 + p.wai_within_ar ** 2)
                     / (1 - p.wai_within_ar ** 2))
    assert abs(var - p.wai_within_sd ** 2) < Z * se_var


def test_observed_wai_total_tracks_latent_alliance(large):
    d, s = large.data, large.truth.sessions
    wai_total = d[item_cols("wai", 12)].sum(axis=1).to_numpy()
    r = np.corrcoef(wai_total, s["latent_wai_T"].to_numpy())[0, 1]
    assert r > 0.85  # 12 items, item error SD .55 -> about .93


def test_next_month_latent_oq_recovers_within_and_between_effects(large):
    """OLS of oq_{t+1} - u_i on (1, oq_t, w_t, b_i): the generating equation with iid errors."""
    p, s, pt = large.params, large.truth.sessions, large.truth.patients
    s = s.merge(pt, on="patient_id")
    nxt = s.groupby("patient_id")["latent_oq_total"].shift(-1)
    rows = nxt.notna().to_numpy()
    y = (nxt - s["oq_random_intercept_u"]).to_numpy()[rows]
    X = np.column_stack([np.ones(rows.sum()), s["latent_oq_total"].to_numpy()[rows],
                         s["latent_wai_within_w"].to_numpy()[rows],
                         s["latent_wai_between_b"].to_numpy()[rows]])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    sigma2 = resid @ resid / (len(y) - X.shape[1])
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    truth = np.array([p.oq_c0, p.oq_ar, p.gamma_within, p.gamma_between])
    assert np.all(np.abs(beta - truth) < Z * se), (beta, truth, se)
    # residual SD: SE of a normal sample SD is sigma / sqrt(2 df)
    assert abs(np.sqrt(sigma2) - p.oq_err_sd) < Z * p.oq_err_sd / np.sqrt(2 * (len(y) - 4))


def test_observed_oq_total_is_unbiased_for_latent(large):
    d, s = large.data, large.truth.sessions
    total = keyed_oq_total(d)
    expected = s["expected_oq_total"].to_numpy()
    diff = total - expected
    assert abs(diff.mean()) < Z * diff.std(ddof=1) / np.sqrt(len(diff))
    # the expected total is the clamped latent total except at a subscale's floor/ceiling
    latent = np.clip(s["latent_oq_total"].to_numpy(), 0, 180)
    assert np.mean(np.abs(expected - latent) > 1e-6) < 0.001
    # and the scored total measures distress: high correlation with the latent total
    assert np.corrcoef(total, latent)[0, 1] > 0.85


def test_oq_item_model_expected_total_matches_latent_values(large):
    s = large.truth.sessions
    theta = s[["oq_theta_sd", "oq_theta_ir", "oq_theta_sr"]].to_numpy()
    # grid inversion of the graded-response expected score: exact up to interpolation
    assert_allclose(oq_expected_total(theta, large.params), s["expected_oq_total"],
                    rtol=0, atol=1e-3)


def test_reverse_keyed_oq_items_are_generated_inverted(large):
    inst = load_instrument("oq-45.2")
    reverse = {i for sid in inst.scales["total"].components for i in inst.scales[sid].reverse}
    assert len(reverse) == 9
    latent = large.truth.sessions["latent_oq_total"].to_numpy()
    for item in inst.item_ids:
        r = np.corrcoef(large.data[item].to_numpy(), latent)[0, 1]
        if item in reverse:
            assert r < 0, item
        else:
            assert r > 0, item


@pytest.mark.parametrize("key,subscales", [("wai", None), ("pear", ("f1", "f2")),
                                           ("oq", None)])
def test_subscale_assignment_comes_from_the_bank(key, subscales):
    """With strong subscale-specific variation, items cluster by the bank's subscales."""
    inst = load_instrument(BANKS[key])
    subscales = subscales or inst.scales["total"].components
    strong = {"wai": dict(wai_between_sd=0.0, wai_within_sd=0.0, wai_trend=0.0,
                          wai_sub_person_sd=0.0, wai_sub_occ_sd=0.8, wai_item_err_sd=0.2),
              "pear": dict(pear_f1_on_wai=0.0, pear_f2_on_f1=0.0, pear_person_sd=0.0,
                           pear_occ_sd=1.0, pear_item_err_sd=0.2),
              "oq": dict(oq_start_sd=0.0, oq_u_sd=0.0, oq_err_sd=0.0, gamma_within=0.0,
                         gamma_between=0.0, oq_start_mu=60.0, oq_c0=24.0,
                         oq_sub_person_sd=0.0, oq_sub_occ_sd=0.6)}[key]
    res = simulate(n_patients=300, sessions_min=6, sessions_max=6, seed=5, **strong)
    x = res.data[list(inst.item_ids)].to_numpy(dtype=float).copy()
    rs = inst.response_scale
    for j, item in enumerate(inst.item_ids):  # score as the bank keys them
        if inst.is_reversed("total", item):
            x[:, j] = rs.min + rs.max - x[:, j]
    r = np.corrcoef(x, rowvar=False)
    group = np.empty(len(inst.item_ids), dtype=int)
    for g, sid in enumerate(subscales):
        for item in inst.scales[sid].items:
            group[inst.item_ids.index(item)] = g
    same = group[:, None] == group[None, :]
    off = ~np.eye(len(group), dtype=bool)
    # every within-subscale correlation of an item exceeds all its between-subscale ones
    for j in range(len(group)):
        assert r[j, same[j] & off[j]].min() > r[j, ~same[j]].max(), inst.item_ids[j]


def test_pear_factors_follow_alliance(large):
    d, s = large.data, large.truth.sessions
    f1 = d[item_cols("pear", 6)].mean(axis=1).to_numpy()
    r = np.corrcoef(f1, s["latent_wai_T"].to_numpy())[0, 1]
    assert r > 0  # F1 = .60 z(T) + ...


# ---------------------------------------------------------------- helpers
def keyed_oq_total(d: pd.DataFrame) -> np.ndarray:
    inst = load_instrument("oq-45.2")
    rs = inst.response_scale
    x = d[list(inst.item_ids)].to_numpy(dtype=float).copy()
    for j, item in enumerate(inst.item_ids):
        if inst.is_reversed("total", item):
            x[:, j] = rs.min + rs.max - x[:, j]
    return x.sum(axis=1)


def sd_se(x: np.ndarray) -> float:
    """SE of the sample SD: sqrt((m4 - s^4) / n) / (2 s) (delta method, any distribution)."""
    x = np.asarray(x, dtype=float)
    s2 = x.var(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    return float(np.sqrt((m4 - s2 ** 2) / len(x)) / (2 * np.sqrt(s2)))


def ar1_mean_var(n: int, sd: float, phi: float) -> float:
    """Var of the mean of n consecutive values of a stationary AR(1)."""
    lags = np.arange(n)
    weights = np.where(lags == 0, n, 2 * (n - lags))
    return float(sd ** 2 * np.sum(weights * phi ** lags) / n ** 2)
