"""progress(): tiny p-values stay representable (latent) and LRT counts are integers."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import psychometrics as pm
from psychometrics import multilevel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def totals():
    data = pd.read_csv(ROOT / "examples" / "therapy_example.csv")
    keys = ["patient_id", "month"]
    out = data[keys]
    for name, bank in [("wai", "wai-sr"), ("oq_total", "oq-45.2")]:
        s = pm.score(data, bank, id="patient_id", time="month").scores
        out = out.merge(s[keys + ["total"]].rename(columns={"total": name}), on=keys)
    return out


def _fit(totals, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return multilevel.progress(totals, outcome="oq_total", predictors=["wai"],
                                   id="patient_id", time="month", method=method)


def test_latent_tiny_p_is_not_zero(totals):
    r = _fit(totals, "latent")
    e = r.effects
    w = e[e["effect"] == "within"].iloc[0]
    assert abs(w["t"]) > 8.5          # beyond where 2 * (1 - pnorm(|z|)) is 0
    assert w["p_value"] > 0
    np.testing.assert_allclose(e["p_value"], 2 * stats.norm.sf(np.abs(e["t"])),
                               rtol=1e-12)
    for c in ("npar", "df"):
        assert pd.api.types.is_integer_dtype(r.comparison[c]), c
    assert "12.0" not in str(r.summary())


def test_observed_lrt_counts_are_integers(totals):
    r = _fit(totals, "observed")
    c = r.comparison
    for col in ("npar", "df"):
        assert pd.api.types.is_integer_dtype(c[col]), col
    assert c["df"].isna().tolist() == [True, False]
    assert c["df"].iloc[1] == 2


def test_report_formats_missing_integer_count():
    from psychometrics.report import apa
    assert apa.integer(pd.NA) == apa.integer(np.nan)
    assert apa.integer(pd.array([2], dtype="Int64")[0]) == "2"
