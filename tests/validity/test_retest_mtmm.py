"""Test-retest reliability of stable patients and the MTMM matrix, checked against
independent computations (pandas correlations and the Shrout-Fleiss ICC(2,1) formula)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics import score
from psychometrics.exceptions import DataValidationError
from psychometrics.validity import mtmm, retest_reliability

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def scores():
    data = pd.read_csv(ROOT / "examples" / "therapy_example.csv")
    wai = score(data, "wai-sr", id="patient_id", time="month").scores
    oq = score(data, "oq-45.2", id="patient_id", time="month").scores
    cols = lambda s, pre: s.rename(columns={c: f"{pre}_{c}" for c in s.columns  # noqa: E731
                                           if c not in ("patient_id", "month")})
    keep = lambda s: s[[c for c in s.columns if not c.endswith("_status")]]  # noqa: E731
    return keep(cols(wai, "wai")).merge(keep(cols(oq, "oq")), on=["patient_id", "month"])


def _icc21(x: np.ndarray) -> float:
    """Shrout & Fleiss (1979) ICC(2,1) from the two-way ANOVA, written out."""
    n, k = x.shape
    gm = x.mean()
    msr = k * ((x.mean(axis=1) - gm) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(axis=0) - gm) ** 2).sum() / (k - 1)
    sse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + gm) ** 2).sum()
    mse = sse / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)


def test_test_retest_counts_and_values(scores):
    wai_col = next(c for c in scores.columns if c.startswith("wai_") and "total" in c)
    oq_col = next(c for c in scores.columns if c.startswith("oq_") and "total" in c)
    res = retest_reliability(scores, wai_col, "patient_id", "month", outcome=oq_col, threshold=14)
    d = scores.sort_values(["patient_id", "month"])
    nxt = d.groupby("patient_id").shift(-1)
    pairs = pd.DataFrame({"t1": d["month"], "t2": nxt["month"], "x1": d[wai_col],
                          "x2": nxt[wai_col], "c": nxt[oq_col] - d[oq_col]})
    pairs = pairs[(pairs["t2"] - pairs["t1"] == 1) & pairs["x1"].notna() & pairs["x2"].notna()]
    tab = res.table.set_index(["time1", "time2"])
    for (t1, t2), p in pairs.groupby(["t1", "t2"]):
        row = tab.loc[(t1, t2)]
        stable = p[p["c"].abs() < 14]
        assert row["n_obs"] + row["n_excluded"] == len(p)
        assert row["n_obs"] == len(stable)
        if len(stable) >= 3:
            assert_allclose(row["r"], stable["x1"].corr(stable["x2"]), rtol=1e-12, atol=0)
            assert_allclose(row["icc"], _icc21(stable[["x1", "x2"]].to_numpy()), rtol=1e-10,
                            atol=0)
            assert row["ci_lower"] < row["icc"] < row["ci_upper"]
    pooled = tab.loc[("all", "all")]
    assert pooled["n_obs"] + pooled["n_excluded"] == len(pairs)


def test_mtmm_blocks_and_criteria():
    rng = np.random.default_rng(5)
    n = 400
    t1, t2 = rng.normal(size=n), rng.normal(size=n)
    m1, m2 = rng.normal(size=n), rng.normal(size=n)
    d = pd.DataFrame({"a_p": t1 + 0.3 * m1 + rng.normal(0, .5, n),
                      "a_t": t1 + 0.3 * m2 + rng.normal(0, .5, n),
                      "b_p": t2 + 0.3 * m1 + rng.normal(0, .5, n),
                      "b_t": t2 + 0.3 * m2 + rng.normal(0, .5, n)})
    res = mtmm(d, {("alliance", "patient"): "a_p", ("alliance", "therapist"): "a_t",
                   ("attunement", "patient"): "b_p", ("attunement", "therapist"): "b_t"},
               reliabilities={("alliance", "patient"): 0.9})
    corr = d.corr()
    assert len(res.table) == 6
    blocks = res.table.set_index(["measure1", "measure2"])["block"]
    assert blocks[("alliance / patient", "alliance / therapist")] == "validity"
    assert blocks[("alliance / patient", "attunement / patient")] == "heterotrait-monomethod"
    assert blocks[("alliance / patient", "attunement / therapist")] == "heterotrait-heteromethod"
    assert_allclose(res.matrix.iloc[0, 1], corr.loc["a_p", "a_t"], rtol=1e-12, atol=0)
    assert res.matrix.iloc[0, 0] == 0.9 and np.isnan(res.matrix.iloc[1, 1])
    assert len(res.criteria) == 2 and res.criteria["exceeds_heteromethod"].all()
    assert res.criteria["exceeds_monomethod"].all()


def test_bad_input(scores):
    with pytest.raises(DataValidationError, match="together"):
        retest_reliability(scores, scores.columns[2], "patient_id", "month", outcome=scores.columns[3])
    with pytest.raises(DataValidationError, match="two traits and two methods"):
        mtmm(scores, {("a", "p"): scores.columns[2], ("a", "t"): scores.columns[3]})
    with pytest.raises(DataValidationError, match="no column"):
        retest_reliability(scores, "nope", "patient_id", "month")
