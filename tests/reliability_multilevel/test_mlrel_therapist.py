"""multilevel_reliability(..., cluster="therapist"): patients nested in therapists (issue 23).

No psych equivalent; the variance components are lme4's. Data and reference:
tests/data/r_scripts/mlrel/therapist_reference.R (simulates 8 therapists x 5 patients x 6 months
x 6 items, 4% missing, writes tests/data/r_results/mlrel/therapist_sim.csv) ->
tests/data/r_results/mlrel/therapist_reference.json (lme4 1.1-31).
"""
from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import DATASETS, MLREL, WAI, shrout
from psychometrics.exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from psychometrics.numerics.reml import random_intercepts_core
from psychometrics.reliability import multilevel_reliability
from psychometrics.reliability._crossed import CLUSTER_THETA_NAMES, CrossedClusterREML, _Long

REF = json.loads((MLREL / "therapist_reference.json").read_text())
ITEMS = [f"item_{j}" for j in range(1, 7)]
# lme4's group names -> ours
CROSSED = {"therapist": "cluster", "therapist:items": "cluster:items", "id": "id", "time": "time",
           "items": "items", "id:time": "id:time", "id:items": "id:items",
           "items:time": "time:items", "Residual": "residual"}
NESTED = {"therapist": "cluster", "id": "id", "id:time": "time_in_id", "Residual": "residual"}


def data() -> pd.DataFrame:
    return pd.read_csv(MLREL / "therapist_sim.csv", na_values=["NA"])


@lru_cache(maxsize=None)
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)     # the 4% missing values
        return multilevel_reliability(data(), "patient_id", "month", ITEMS, cluster="therapist")


def test_crossed_components_equal_lme4():
    # lmer(values ~ 1 + (1|therapist) + (1|therapist:items) + (1|id) + (1|time) + (1|items)
    #      + (1|id:time) + (1|id:items) + (1|items:time), d, REML = TRUE)
    res = fitted()
    ours = res.components.set_index("component")["variance"]
    assert set(ours.index) == set(CROSSED.values()) | {"total"}
    for grp, value in REF["vcov"].items():
        # as.data.frame(VarCorr(m))$vcov
        assert_allclose(ours[CROSSED[grp]], value, rtol=1e-4, err_msg=grp)
    # REMLcrit(m): ours never worse (beyond rounding)
    assert res.crossed_fit.reml_criterion <= REF["REMLcrit"] + 1e-10 * abs(REF["REMLcrit"])
    assert_allclose(res.crossed_fit.reml_criterion, REF["REMLcrit"], rtol=1e-9)
    # fixef(m)
    assert_allclose(res.crossed_fit.intercept, REF["fixef"], rtol=1e-6)
    assert res.converged and not res.singular
    assert res.n_clusters == 8 and res.cluster == "therapist" and res.n_persons == 40


def test_nested_components_equal_lme4():
    # lmer(values ~ 1 + (1|therapist) + (1|id) + (1|id:time), d, REML = TRUE)
    R = REF["nested"]
    res = fitted()
    ours = res.nested_components.set_index("component")["variance"]
    for grp, value in R["vcov"].items():
        # as.data.frame(VarCorr(mn))$vcov
        assert_allclose(ours[NESTED[grp]], value, rtol=1e-4, err_msg=grp)
    # REMLcrit(mn)
    assert res.nested_fit.reml_criterion <= R["REMLcrit"] + 1e-10 * abs(R["REMLcrit"])


def test_coefficients_from_lme4_components():
    # the documented formulas evaluated with lme4's components (t = 6 months, k = 6 items,
    # m = 40 / 8 = 5 patients per therapist)
    v = {CROSSED[g]: x for g, x in REF["vcov"].items()}
    n = {NESTED[g]: x for g, x in REF["nested"]["vcov"].items()}
    t, k, m = 6.0, 6.0, 5.0
    true_c = v["cluster"] + v["cluster:items"] / k
    true_p = v["id"] + v["id:items"] / k
    true = true_c + true_p
    d1 = true + v["time"] + v["id:time"] + v["residual"] / k
    expected = {
        "RkF": true / (true + v["residual"] / (t * k)),
        "R1R": true / d1,
        "RkR": true / (true + v["time"] / t + v["id:time"] / t + v["residual"] / (t * k)),
        "Rc": v["id:time"] / (v["id:time"] + v["residual"] / k),
        "RkRn": (n["cluster"] + n["id"]) / (n["cluster"] + n["id"] + n["time_in_id"] / t
                                            + n["residual"] / (t * k)),
        "Rcn": n["time_in_id"] / (n["time_in_id"] + n["residual"] / k),
        "icc_cluster": true_c / d1,
        "icc_patient": true_p / d1,
        "RkF_cluster": true_c / (true_c + true_p / m + v["residual"] / (m * t * k)),
        "RkRn_cluster": n["cluster"] / (n["cluster"] + n["id"] / m + n["time_in_id"] / (m * t)
                                        + n["residual"] / (m * t * k)),
    }
    res = fitted()
    table = res.coefficients.set_index("coefficient")["value"]
    assert list(table.index) == list(expected)
    for name, value in expected.items():
        assert_allclose(table[name], value, rtol=1e-4, err_msg=name)
        assert_allclose(getattr(res, name), table[name], rtol=0)
    assert_allclose(res.icc_cluster + res.icc_patient, res.R1R, rtol=1e-12)


def test_patient_coefficients_close_to_the_model_without_therapists():
    # the therapist components are part of the patient's stable score: the patient
    # coefficients estimate what the two-level analysis estimates (not equal: other model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        two = multilevel_reliability(data(), "patient_id", "month", ITEMS)
    three = fitted()
    for name in ("RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn"):
        assert abs(getattr(three, name) - getattr(two, name)) < 0.02, name
    assert two.cluster is None and two.icc_cluster is None
    assert "icc_cluster" not in set(two.coefficients["coefficient"])


def test_long_input_gives_the_same_fit():
    from psychometrics.reliability import multilevel_reliability_long
    long = data().melt(id_vars=["therapist", "patient_id", "month"], value_vars=ITEMS,
                       var_name="item", value_name="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = multilevel_reliability_long(long, "patient_id", "month", "item", "y",
                                          cluster="therapist")
    wide = fitted()
    assert_allclose(res.crossed_fit.reml_criterion, wide.crossed_fit.reml_criterion, rtol=1e-12)
    assert_allclose(res.coefficients["value"], wide.coefficients["value"], rtol=1e-6)


def test_summary_names_the_cluster():
    text = fitted().summary().as_text()
    assert "Clusters (therapist): 8" in text
    assert "therapist x items" in text and "icc_cluster" in text


# ------------------------------------------------------------------------ bad input
def _small():
    d = shrout().copy()
    d["therapist"] = np.where(d["Person"] <= 2, "A", "B")
    return d


def _fit_small(d, **kw):
    return multilevel_reliability(d, "Person", "Time", ["Item1", "Item2", "Item3"], **kw)


def test_patient_id_under_two_therapists_is_an_error_naming_it():
    d = _small()
    d.loc[(d["Person"] == 3) & (d["Time"] == 1), "therapist"] = "A"
    with pytest.raises(DataValidationError, match=re.escape("3 (under 'A', 'B')")) as err:
        _fit_small(d, cluster="therapist")
    assert "nested" in str(err.value)
    assert "data['Person'] = data['therapist'].astype(str)" in err.value.hint


def test_therapist_with_a_single_patient_warns():
    d = _small()
    d["therapist"] = np.where(d["Person"] == 1, "A", "B")
    with pytest.warns(DataQualityWarning, match=r"1 therapist\(s\) have a single patient \('A'\)"):
        res = _fit_small(d, cluster="therapist")
    assert res.n_clusters == 2


def test_missing_therapist_is_an_error_naming_the_row():
    d = _small().astype({"therapist": object})
    d.loc[4, "therapist"] = None
    with pytest.raises(DataValidationError, match="cluster column 'therapist' has 1 missing") as err:
        _fit_small(d, cluster="therapist")
    assert [i.row for i in err.value.issues] == [5]


def test_one_patient_per_therapist_everywhere_is_an_error():
    d = _small()
    d["therapist"] = d["Person"].map(lambda p: f"T{p}")
    with pytest.raises(ModelSpecificationError, match="Every therapist has a single patient"):
        _fit_small(d, cluster="therapist")


def test_one_therapist_is_an_error():
    d = _small().assign(therapist="A")
    with pytest.raises(ModelSpecificationError, match="1 distinct value; at least 2 clusters"):
        _fit_small(d, cluster="therapist")


def test_unknown_cluster_column_and_aov():
    with pytest.raises(DataValidationError, match="'cluster' argument .*'nope'"):
        _fit_small(_small(), cluster="nope")
    with pytest.raises(ModelSpecificationError, match="'cluster' argument needs method='lmer'"):
        _fit_small(_small(), cluster="therapist", method="aov")
    with pytest.raises(ModelSpecificationError, match="cluster' column 'Item1'"):
        _fit_small(_small(), cluster="Item1")


# ------------------------------------------------------------------------ evaluators
def _general_core(long, cl):
    """The shared REML core's general evaluator of the same model; theta permutation."""
    J, T = long.J, long.T
    codes = {"cluster": cl, "cluster:items": cl * J + long.iid, "id": long.pid,
             "time": long.tid, "items": long.iid, "id:time": long.pid * T + long.tid,
             "id:items": long.pid * J + long.iid, "time:items": long.tid * J + long.iid}
    core = random_intercepts_core(long.y, np.ones((long.y.size, 1)),
                                  [codes[k] for k in CLUSTER_THETA_NAMES])
    return core


def _cluster_of_patient(long, cl):
    cop = np.zeros(long.P, dtype=np.int64)
    cop[long.pid] = cl
    return cop


def _random_design(seed, P=14, T=5, J=4, C=3, pmiss=0.1, dup=False):
    """Patients with random session sets (unbalanced), missing cells and, with ``dup``,
    repeated (session, item) cells; patient p in cluster p % C."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(P):
        for t in np.sort(rng.choice(T, size=rng.integers(1, T + 1), replace=False)):
            for j in range(J):
                if rng.random() < pmiss:
                    continue
                rows.append((p, t, j))
                if dup and rng.random() < 0.05:
                    rows.append((p, t, j))
    a = np.array(rows)
    cop = np.arange(P) % C
    y = (rng.normal(size=C)[cop[a[:, 0]]] + rng.normal(size=(C, J))[cop[a[:, 0]], a[:, 2]]
         + rng.normal(size=P)[a[:, 0]] + rng.normal(size=T)[a[:, 1]]
         + rng.normal(size=(P, T))[a[:, 0], a[:, 1]] + rng.normal(size=len(a)) + 3)
    return _Long(a[:, 0], a[:, 1], a[:, 2], y, P, T, J), cop[a[:, 0]]


def _reference_long():
    """The reference data as multilevel_reliability codes them."""
    d = data()
    ids = pd.factorize(d["patient_id"], sort=True)[0]
    months = pd.factorize(d["month"], sort=True)[0]
    ther = pd.factorize(d["therapist"], sort=True)[0]
    y = d[ITEMS].to_numpy()
    r, j = np.nonzero(~np.isnan(y))
    long = _Long(ids[r], months[r], j, y[r, j], ids.max() + 1, months.max() + 1, len(ITEMS))
    return long, ther[r]


CASES = [("reference", {})] + [(f"random{seed}", kw) for seed in range(3) for kw in (
    {}, {"pmiss": 0.0}, {"pmiss": 0.3}, {"dup": True}, {"C": 5, "P": 20, "T": 7, "J": 3})]


@pytest.mark.parametrize("case,kw", CASES)
@pytest.mark.parametrize("force_general", [False, True])
def test_closed_form_cluster_evaluator_equals_the_general_evaluator(case, kw, force_general):
    # criterion and analytic gradient of CrossedClusterREML (every patient route: complete
    # grid, missing cells, Woodbury) against the shared REML core's general evaluator, at
    # random theta
    if case == "reference":
        long, cl = _reference_long()
        seed = 0
    else:
        seed = int(case[6:])
        long, cl = _random_design(seed, **kw)
    core = _general_core(long, cl)
    ours = CrossedClusterREML(long, _cluster_of_patient(long, cl), force_general=force_general)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        theta = rng.uniform(0.05, 1.5, 8)
        ref = core.evaluate(theta, True, grad=True)
        got = ours.evaluate(theta, True, grad=True)
        assert_allclose(got["dev"], ref["dev"], rtol=1e-10)
        assert_allclose(got["grad"], ref["grad"], rtol=1e-10,
                        atol=1e-10 * np.abs(ref["grad"]).max())
    # near and at the boundary (explicit d log|M| branch): the criterion
    theta = np.array([0.0, 1e-4, 0.5, 0.0, 0.3, 2e-3, 0.7, 0.0])
    assert_allclose(ours.evaluate(theta, True)["dev"], core.evaluate(theta, True)["dev"],
                    rtol=1e-10)


def test_explicit_boundary_gradient_branch_equals_the_cheap_one():
    long, cl = _random_design(1, dup=True, pmiss=0.3)
    ours = CrossedClusterREML(long, _cluster_of_patient(long, cl))
    theta = np.random.default_rng(3).uniform(0.05, 1.5, 8)
    g_cheap = ours.evaluate(theta, True, grad=True)["grad"]
    try:
        ours.EXPLICIT_BELOW = np.inf          # every global and cluster ratio: explicit form
        g_explicit = ours.evaluate(theta, True, grad=True)["grad"]
    finally:
        del ours.EXPLICIT_BELOW
    assert_allclose(g_explicit, g_cheap, rtol=1e-9, atol=1e-10 * np.abs(g_cheap).max())


def test_large_therapist_design_fits_by_the_closed_form_evaluator():
    # 100 patients x 12 items x 20 sessions in 10 therapists: with the general evaluator the
    # terms outside the largest have 1,500+ levels (sparse LU, differenced gradient: hours;
    # it used to be refused). The closed-form evaluator fits it in seconds; the general
    # evaluator, evaluated once at our optimum, gives the same criterion, and no nearby
    # feasible point is lower by it.
    rng = np.random.default_rng(5)
    d = pd.DataFrame(rng.normal(size=(2000, 12)), columns=[f"i{j}" for j in range(12)])
    d["id"] = np.repeat(np.arange(100), 20)
    d["time"] = np.tile(np.arange(20), 100)
    d["ther"] = [f"T{p % 10}" for p in d["id"]]
    d.iloc[rng.integers(0, 2000, 60), rng.integers(0, 12, 60)] = np.nan    # missing cells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                   # singular fit: pure noise data
        res = multilevel_reliability(d, "id", "time", [f"i{j}" for j in range(12)],
                                     cluster="ther")
    fit = res.crossed_fit
    assert fit.converged and fit.path.startswith("cluster: ")
    ids = d["id"].to_numpy()
    y = d[[f"i{j}" for j in range(12)]].to_numpy()
    r, j = np.nonzero(~np.isnan(y))
    long = _Long(ids[r], d["time"].to_numpy()[r], j, y[r, j], 100, 20, 12)
    cl = ids[r] % 10
    core = _general_core(long, cl)
    dev = core.evaluate(fit.theta, True)["dev"]
    assert_allclose(fit.reml_criterion, dev, rtol=1e-10)
    for k in range(8):
        for step in (-1e-3, 1e-3):
            theta = fit.theta.copy()
            theta[k] = max(theta[k] + step, 0.0)
            assert core.evaluate(theta, True)["dev"] >= dev - 1e-8 * abs(dev)


def test_realistic_design_equals_lme4():
    # therapy_sim (150 patients x 12 WAI items x 20 months) with an artificial therapist
    # column: the i-th patient id (sorted, from 0) -> therapist T<i % 15>. Before the
    # closed-form evaluator this took hours (and was refused); lme4 takes 23 s.
    # Reference: tests/data/r_scripts/mlrel/therapist_therapy_sim.R ->
    # tests/data/r_results/mlrel/therapist_therapy_sim.json
    R = json.loads((MLREL / "therapist_therapy_sim.json").read_text())
    d = pd.read_csv(DATASETS / "therapy_sim.csv")
    d["ther"] = [f"T{i % 15}" for i in pd.factorize(d["patient_id"], sort=True)[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # singular: ther:items and items:time are 0
        res = multilevel_reliability(d, "patient_id", "month", WAI, cluster="ther",
                                     nested=False)
    fit = res.crossed_fit
    assert fit.converged and fit.path == "cluster: complete-grid"
    assert res.n_observations == R["n_obs"]
    ours = res.components.set_index("component")["variance"]
    names = {**CROSSED, "ther": "cluster", "ther:items": "cluster:items"}
    assert len(R["vcov"]) == 9
    for grp, value in R["vcov"].items():
        # as.data.frame(VarCorr(m))$vcov; lme4 stops short of the optimum (as without
        # therapists: an absolute tolerance of 5e-5 x total variance)
        assert_allclose(ours[names[grp]], value, rtol=0, atol=5e-5 * ours["total"], err_msg=grp)
    # REMLcrit(m): ours not above lme4's, and equal to rtol 1e-9 (ours is 9e-7 lower)
    assert fit.reml_criterion <= R["REMLcrit"] + 1e-10 * abs(R["REMLcrit"])
    assert_allclose(fit.reml_criterion, R["REMLcrit"], rtol=1e-9)
    assert_allclose(fit.sigma, R["sigma"], rtol=1e-5)
    assert_allclose(fit.intercept, R["fixef"], rtol=1e-5)


def test_nested_therapist_model_with_many_patients_takes_the_sparse_path_and_fits():
    # 1,600 patients in 80 therapists: more than 1,500 random effects outside the largest term,
    # so the general evaluator factors A by sparse LU; the nested effects form a tree, so that
    # path stays fast and must not be refused; converged means the shared core's optimality
    # check passed, and the simulated variances are recovered roughly
    from psychometrics.reliability._crossed import fit_nested_cluster
    rng = np.random.default_rng(11)
    P, T, J, C = 1600, 4, 3, 80
    pid = np.repeat(np.arange(P), T * J)
    tid = np.tile(np.repeat(np.arange(T), J), P)
    iid = np.tile(np.arange(J), P * T)
    cl = pid % C
    y = (rng.normal(size=C)[cl] + 2 * rng.normal(size=P)[pid] + rng.normal(size=P * T)[pid * T + tid]
         + rng.normal(size=pid.size))
    fit = fit_nested_cluster(_Long(pid, tid, iid, y, P, T, J), cl)
    assert fit.converged
    assert fit.variances["id"] > 1.0 and fit.variances["cluster"] > 0.1
