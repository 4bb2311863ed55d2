"""progress(method="latent") against lavaan 0.6-14 (issue 18, item 4).

References: tests/data/r_scripts/multilevel/progress_latent.R ->
tests/data/r_results/multilevel/progress_latent.json, on the analysis data
tests/data/datasets/progress_latent_{example,skipped}.csv (written by
tests/progress_latent_data.py from examples/therapy_example.csv). Each case is
``sem(model, data, cluster = "id", fixed.x = FALSE[, missing = "ml"])`` with the model syntax
of ``latent_syntax`` verbatim; every row of ``parameterEstimates(fit)`` is compared, and the
log-likelihood.

Tolerances. lavaan's nlminb stops where this likelihood is flat (the outcome's variance is ~1000
times the predictors'): in every case our log-likelihood is HIGHER than lavaan's (by 1e-10 to
3.4e-7), and refitting in lavaan from its own solution, or with rel.tol 1e-12/1e-14, does not
reach ours (rel.tol 1e-12 ends lower and reports non-convergence). So estimates are compared
at rtol 1e-5 or, where lavaan's stop makes that unreachable, within 1e-3 standard errors
(largest seen: 6e-4 SE, 2.1e-4 relative on a near-zero parameter); SEs at rtol 1e-4, except
in the one case where lavaan's log-likelihood is more than 1e-7 below ours
(example_x1_zero_listwise: 1.4e-4), where rtol 2e-4.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.multilevel import progress
from psychometrics.multilevel.progress_latent import latent_syntax
from psychometrics.sem.twolevel import fit_twolevel

from progress_latent_data import DATASETS, derive

REF = json.loads((Path(__file__).resolve().parents[1] / "data" / "r_results" / "multilevel"
                  / "progress_latent.json").read_text())
SYNTAX = {"x1": latent_syntax(["x1"]), "x1_zero": latent_syntax(["x1"], zero=True),
          "joint": latent_syntax(["x1", "x2"])}
USED = {"x1": ["x1", "y", "y_next"], "x1_zero": ["x1", "y", "y_next"],
        "joint": ["x1", "x2", "y", "y_next"]}


def _data(name):
    return pd.read_csv(DATASETS / f"progress_latent_{name}.csv")


def _check(fit, ref, case):
    """Every lavaan parameterEstimates row against ours (no reference row may go unmatched)."""
    ours = fit.estimates.copy()
    ours["key"] = [f"{r.lhs} {r.op} {r.rhs} {int(r.level) if r.op != ':=' else 0}"
                   for r in ours.itertuples()]
    ours = ours.set_index("key")
    pe = pd.DataFrame(ref["parameterEstimates"])
    assert len(pe) == len(ours), case
    short = fit.fit_measures["logl"] - ref["logl"] > 1e-7  # lavaan stopped clearly early
    for r in pe.itertuples():
        lev = 0 if r.op == ":=" else int(r.level)
        key = f"{r.lhs} {r.op} {r.rhs} {lev}"
        assert key in ours.index, f"{case}: no row {key}"
        o = ours.loc[key]
        free = r.se is not None and np.isfinite(r.se) and r.se > 0
        tol = max(1e-5 * abs(r.est), 1e-3 * r.se if free else 1e-8)
        assert abs(o["est"] - r.est) <= tol, f"{case} est {key}: {o['est']} vs {r.est}"
        if free:
            assert_allclose(o["se"], r.se, rtol=2e-4 if short else 1e-4,
                            err_msg=f"{case} se {key}")
        else:  # fixed parameter: lavaan se 0
            assert not np.isfinite(o["se"]) or o["se"] == 0, f"{case} se {key}"
    # fitMeasures(fit, "logl"): ours never below lavaan's
    assert fit.fit_measures["logl"] >= ref["logl"], case
    assert_allclose(fit.fit_measures["logl"], ref["logl"], rtol=1e-10, err_msg=case)
    assert fit.fit_measures["npar"] == ref["npar"]
    assert fit.nobs == ref["nobs"] and fit.nclusters == ref["nclusters"]


@pytest.mark.parametrize("name,skipped", [("example", False), ("skipped", True)])
def test_analysis_data_are_the_derivation(name, skipped):
    # the CSVs lavaan read are what progress_latent_data.derive() computes
    d = derive(skipped)
    ref = _data(name)
    assert list(d.columns) == list(ref.columns)
    for c in ref.columns:
        assert_allclose(d[c].to_numpy(dtype=float), ref[c].to_numpy(dtype=float), rtol=1e-14,
                        equal_nan=True, err_msg=c)


@pytest.mark.parametrize("model", ["x1", "x1_zero", "joint"])
def test_r_scripts_use_latent_syntax_verbatim(model):
    for dname in ("example", "skipped"):
        for miss in ("listwise", "ml"):
            assert REF[f"{dname}_{model}_{miss}"]["model"] == SYNTAX[model]


@pytest.mark.parametrize("dname", ["example", "skipped"])
@pytest.mark.parametrize("model", ["x1", "x1_zero", "joint"])
def test_listwise_equals_lavaan(dname, model):
    # sem(m, data = d[complete.cases(d[, used]), ], cluster = "id", fixed.x = FALSE)
    d = _data(dname)
    d = d[["id"] + USED[model]].dropna()
    fit = fit_twolevel(SYNTAX[model], d, "id", fixed_x=False)
    assert fit.converged
    _check(fit, REF[f"{dname}_{model}_listwise"], f"{dname}_{model}_listwise")


@pytest.fixture(scope="module")
def example_latent():
    d = _data("example").rename(columns={"x1": "wai", "x2": "pear", "y": "oq"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return progress(d[["id", "month", "wai", "pear", "oq"]], "oq", ["wai", "pear"], "id",
                        "month", method="latent")


def test_progress_latent_fiml_equals_lavaan(example_latent):
    # sem(m_x1 / m_x1_zero / m_joint, data = d, cluster = "id", fixed.x = FALSE, missing = "ml")
    r = example_latent
    _check(r.models["wai"], REF["example_x1_ml"], "example_x1_ml")
    _check(r.models["baseline_wai"], REF["example_x1_zero_ml"], "example_x1_zero_ml")
    _check(r.models["joint"], REF["example_joint_ml"], "example_joint_ml")


def test_progress_latent_effects_are_the_lavaan_parameters(example_latent):
    r = example_latent
    pe = pd.DataFrame(REF["example_joint_ml"]["parameterEstimates"])
    lab = pe.set_index("label")
    e = r.effects[r.effects["model"] == "joint"].set_index(["predictor", "effect"])
    for j, x in enumerate(["wai", "pear"], start=1):
        for eff, name in (("within", f"bw{j}"), ("between", f"between{j}"),
                          ("contextual", f"contextual{j}")):
            ref = lab.loc[name]
            row = e.loc[(x, eff)]
            assert abs(row["estimate"] - ref["est"]) <= max(1e-5 * abs(ref["est"]),
                                                            1e-3 * ref["se"]), name
            assert_allclose(row["std_error"], ref["se"], rtol=1e-4, err_msg=name)
            assert_allclose(row["p_value"], ref["pvalue"], rtol=1e-3, atol=1e-12, err_msg=name)
            assert_allclose(row["ci_lower"], ref["ci.lower"], rtol=1e-4, atol=1e-3 * ref["se"],
                            err_msg=name)
            assert_allclose(row["ci_upper"], ref["ci.upper"], rtol=1e-4, atol=1e-3 * ref["se"],
                            err_msg=name)
    # the LRT against the same model with the slopes fixed to 0 (lavTestLRT(m_x1_zero, m_x1))
    c = r.comparison.set_index("model").loc["wai"]
    chisq = 2 * (REF["example_x1_ml"]["logl"] - REF["example_x1_zero_ml"]["logl"])
    assert_allclose(c["chisq"], chisq, rtol=1e-6, atol=1e-6)
    assert c["df"] == REF["example_x1_ml"]["npar"] - REF["example_x1_zero_ml"]["npar"] == 2


def test_result_shape_and_centring_table(example_latent):
    r = example_latent
    assert r.method == "latent" and r.observed.method == "observed"
    assert list(r.effects.columns) == list(r.observed.effects.columns)
    assert len(r.effects) == len(r.observed.effects) == 12
    assert r.effects["df"].isna().all()
    # every row of the input is in the FIML model (only the 150 last months lack a next outcome)
    assert r.n_obs == r.n_rows == 1722 and r.n_lost_end == 150
    cen = r.centring
    m = cen.merge(r.observed.effects, on=["model", "predictor", "effect"])
    assert_allclose(m["observed_estimate"], m["estimate"], rtol=0)
    m = cen.merge(r.effects, on=["model", "predictor", "effect"])
    assert_allclose(m["latent_estimate"], m["estimate"], rtol=0)
    assert_allclose(cen["difference"], cen["latent_estimate"] - cen["observed_estimate"])
    text = r.summary().as_text()
    assert "Observed versus latent centring" in text and "full-information ML" in text
    assert all("latent" in s for s in r.effects["sentence"] if "Contextual" not in s)
    # standardised within effect: b_w SD_W(x) / SD(y_next), model-implied
    fit = r.models["wai"]
    iw, ib = fit.implied_within["cov"], fit.implied_between["cov"]
    w = r.effects.set_index(["model", "effect"]).loc[("wai", "within")]
    assert_allclose(w["std_estimate"], w["estimate"] * np.sqrt(iw.loc["x1", "x1"])
                    / np.sqrt(iw.loc["y_next", "y_next"] + ib.loc["y_next", "y_next"]))


def test_bad_method_arguments():
    d = _data("example").head(60)
    with pytest.raises(ModelSpecificationError, match="'method' parameter of progress"):
        progress(d, "y", "x1", "id", "month", method="latnet")
    with pytest.raises(ModelSpecificationError, match="random_slopes=True and detrend=True"):
        progress(d, "y", "x1", "id", "month", method="latent", random_slopes=True)


def test_fiml_with_skipped_months_equals_lavaan():
    # sem(m_x1, data = d, cluster = "id", fixed.x = FALSE, missing = "ml") on the data with
    # skipped months (y_next missing before them) and unscorable WAI (x1 missing) in ~3% of rows
    d = _data("skipped")[["id"] + USED["x1"]]
    d = d[d.drop(columns="id").notna().any(axis=1)]
    fit = fit_twolevel(SYNTAX["x1"], d, "id", fixed_x=False, missing="ml")
    assert fit.converged
    _check(fit, REF["skipped_x1_ml"], "skipped_x1_ml")


def test_lavaan_fails_on_the_joint_model_with_holes_in_both_predictors():
    # lavaan 0.6-14 stops at iteration 0 (NaN in its two-level missing-data likelihood at the
    # start values, also with start = "simple"); no reference, so this case is documented
    # here and in docs/multilevel.md instead of compared.
    assert REF["skipped_joint_ml"]["converged"] is False
    assert "parameterEstimates" not in REF["skipped_joint_ml"]


def test_singular_two_level_fit_is_a_clear_error(monkeypatch):
    # seen in the centring study (100 patients x 3 months, seed 18017 of
    # benchmarks/study_progress_centring.py): numpy's "Singular matrix" inside fit_twolevel
    # becomes an IdentificationError naming the model, not a traceback
    import psychometrics.sem.twolevel as tl
    from psychometrics.exceptions import IdentificationError

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(tl, "fit_twolevel", singular)
    d = _data("example").head(80)
    with pytest.raises(IdentificationError, match="two-level model of 'x1' could not be"):
        progress(d, "y", "x1", "id", "month", method="latent")
