"""Expected-recovery curves against lme4 (tests/data/r_scripts/tracking/expected_recovery.R)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from sqlalchemy import func, select

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.tracking.expected import fit_expected, load_model
from psychometrics.tracking.ingestion import ingest
from psychometrics.tracking.schema import assessments, models, patients

ROOT = Path(__file__).resolve().parents[1] / "data"
R = json.loads((ROOT / "r_results" / "tracking" / "expected_recovery.json").read_text())


@pytest.fixture(scope="module")
def fitted(loaded_store):
    return load_model(loaded_store)


def test_store_holds_the_scores_the_oracle_read(loaded_store):
    ref = pd.read_csv(ROOT / "tracking" / "expected_input.csv")
    with loaded_store.connect() as conn:
        got = pd.DataFrame(conn.execute(
            select(patients.c.code, assessments.c.session, assessments.c.score)
            .join(patients, patients.c.id == assessments.c.patient_id)
            .where(assessments.c.instrument == "oq-45.2")).all(), columns=["id", "session", "s"])
    m = ref.merge(got, on=["id", "session"], how="left")
    assert len(m) == len(ref) == len(got)
    assert_allclose(m["s"].to_numpy(float), m["score"].to_numpy(float), rtol=0, atol=1e-12)


def test_bands_match_lme4(fitted):
    B = fitted.bands
    # quantile(intake, type = 7) band edges
    assert_allclose(B["intake_upper"].to_numpy()[:-1], R["edges"], rtol=1e-12, atol=0)
    assert len(B) == len(R["bands"])
    for rb in R["bands"]:
        row = B[B["band"] == rb["band"]].iloc[0]
        assert (row["n_patients"], row["n_obs"]) == (rb["n_patients"], rb["n_obs"])
        # logLik(fit) (REML): ours never below lme4's
        assert row["loglik"] >= rb["loglik_reml"] - 1e-6
        # fixef(fit); VarCorr(fit)$id; sigma(fit); vcov(fit). Both optimisers stop within
        # about 1e-7 (relative) of the same REML optimum, also in the singular bands.
        assert_allclose([row["b0"], row["b1"]], rb["fixef"], rtol=1e-6, atol=1e-6)
        G = np.array([[row["g00"], row["g01"]], [row["g01"], row["g11"]]])
        assert_allclose(G, np.array(rb["G"]), rtol=1e-5, atol=1e-5)
        assert_allclose(row["sigma"], rb["sigma"], rtol=1e-6)
        V = np.array([[row["v00"], row["v01"]], [row["v01"], row["v11"]]])
        assert_allclose(V, np.array(rb["vcov"]), rtol=1e-5, atol=1e-7)


def test_predictions_and_band_match_the_conditional_normal_in_r(fitted):
    assert fitted.level == 0.90
    for rb in R["bands"]:
        for p in rb["predictions"]:
            got = fitted.predict(p["intake"], 1, p["session"]).iloc[0]
            assert got["band"] == rb["band"]
            # m + c(-1, 1) * qnorm(0.95) * sqrt(v) in expected_recovery.R
            assert_allclose([got["expected"], got["lower"], got["upper"]],
                            [p["expected"], p["lower"], p["upper"]], rtol=1e-6, atol=1e-5)


def test_prediction_is_the_gaussian_conditional(fitted):
    """Independent check: condition the 2x2 marginal covariance of (y_intake, y_t) by hand."""
    row = fitted.bands.iloc[2]
    G = np.array([[row["g00"], row["g01"]], [row["g01"], row["g11"]]])
    V = np.array([[row["v00"], row["v01"]], [row["v01"], row["v11"]]])
    b = np.array([row["b0"], row["b1"]])
    y0 = 0.5 * (row["intake_lower"] + row["intake_upper"])
    for s in (2, 3, 6, 12):
        Z = np.array([[1.0, 0.0], [1.0, math.log(s)]])
        S = Z @ G @ Z.T + row["sigma"] ** 2 * np.eye(2)
        A = Z[1] - S[1, 0] / S[0, 0] * Z[0]
        mean = Z[1] @ b + S[1, 0] / S[0, 0] * (y0 - Z[0] @ b)
        var = S[1, 1] - S[1, 0] ** 2 / S[0, 0] + A @ V @ A
        got = fitted.predict(y0, 1, s).iloc[0]
        assert_allclose([got["expected"], got["sd"]], [mean, math.sqrt(var)], rtol=1e-12)
        z = stats.norm.ppf(0.95)
        assert_allclose(got["upper"] - got["expected"], z * math.sqrt(var), rtol=1e-12)


def test_models_are_versioned_and_reloaded(loaded_store, fitted):
    n0 = _n_models(loaded_store)
    again = fit_expected(loaded_store, level=0.8)
    assert again.model_id > fitted.model_id
    assert _n_models(loaded_store) == n0 + 1
    back = load_model(loaded_store, again.model_id)
    pd.testing.assert_frame_equal(back.bands, again.bands, check_dtype=False)
    assert back.level == 0.8 and back.alliance == again.alliance
    old = load_model(loaded_store, fitted.model_id)
    assert old.level == 0.90
    assert "Expected recovery" in again.summary().as_text()


def test_alliance_rule_is_alpha_and_sd_of_first_assessments(loaded_store, fitted):
    from psychometrics.reliability import alpha

    df = pd.read_csv(ROOT / "tracking" / "clinic_small.csv")
    w = df[df["instrument"] == "wai-sr"].sort_values(["id", "session"]).drop_duplicates("id")
    items = w[[f"wai_{i}" for i in range(1, 13)]]
    rule = fitted.alliance["wai-sr"]
    assert_allclose(rule["reliability"], alpha(items).raw_alpha, rtol=1e-12)
    assert_allclose(rule["sd"], items.sum(axis=1).std(ddof=1), rtol=1e-12)
    # Jacobson & Truax: 1.96 * sqrt(2) * SD * sqrt(1 - r)
    assert_allclose(rule["threshold"], 1.96 * math.sqrt(2 * (1 - rule["reliability"]))
                    * rule["sd"], rtol=1e-12)


def test_too_few_patients_is_a_clear_error(sqlite_engine, clinic_csv):
    df = pd.read_csv(clinic_csv)
    ingest(sqlite_engine, df[df["id"].isin(sorted(df["id"].unique())[:10])], signals=False)
    with pytest.raises(ModelSpecificationError, match="at least 30 patients"):
        fit_expected(sqlite_engine)


def _n_models(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(models)).scalar_one())
