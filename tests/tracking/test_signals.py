"""Signals: reliable change and cut-off (the bank's norms), not on track, alliance rupture."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from psychometrics.scoring import clinical_significance
from psychometrics.tracking.expected import load_model
from psychometrics.tracking.ingestion import ingest
from psychometrics.tracking.schema import assessments, patients, signals
from psychometrics.tracking.signals import compute_signals, pending_assessments, update_signals


def hist(instrument: str, scores, sessions=None, target=None) -> pd.DataFrame:
    n = len(scores)
    sessions = list(range(1, n + 1)) if sessions is None else sessions
    target = [False] * (n - 1) + [True] if target is None else target
    return pd.DataFrame({"assessment_id": np.arange(100, 100 + n), "patient_id": 1, "id": "P1",
                         "instrument": instrument, "session": sessions,
                         "score": np.asarray(scores, float), "target": target})


def kinds(table) -> set:
    return set(table["kind"])


@pytest.mark.parametrize("intake, now, expect", [
    (70, 85, {"reliable_deterioration"}),       # +15 >= rci 14 (OQ-45.2 US norms)
    (70, 84, {"reliable_deterioration"}),       # +14: the bank counts |change| >= rci
    (70, 83, set()),                            # +13
    (80, 60, {"reliable_improvement", "clinically_significant_change"}),   # crosses 64
    (80, 65, {"reliable_improvement"}),         # 65 still in the dysfunctional range
    (70, 57, set()),                            # -13
])
def test_reliable_and_clinically_significant_change(intake, now, expect):
    t = compute_signals(hist("oq-45.2", [intake, now]), None)
    assert kinds(t) == expect
    # the same judgement straight from the scoring package
    cs = clinical_significance(pd.DataFrame({"id": ["P1", "P1"], "time": [1, 2],
                                             "total": [intake, now]}), "oq-45.2", id="id",
                               time="time", norms="us")
    cls = cs.table["class"].iloc[0]
    assert ("reliable_deterioration" in expect) == (cls == "deteriorated")
    assert ("clinically_significant_change" in expect) == (cls == "recovered")
    for r in t.itertuples():
        assert r.numbers["intake"] == intake and r.numbers["score"] == now
        assert r.numbers["threshold"] == 14 and r.numbers["norms"] == "us"
        assert r.numbers["cutoff"] == 64
        assert f"from {intake} at intake to {now} at session 2" in r.sentence
        assert r.model_id is None


def test_signals_only_for_target_rows_and_not_at_intake():
    h = hist("oq-45.2", [70, 90, 95], target=[True, False, True])
    t = compute_signals(h, None)
    assert set(t["session"]) == {3}


def test_not_on_track_uses_the_band_of_the_model(loaded_store):
    model = load_model(loaded_store)
    p = model.predict(80, 1, 4).iloc[0]
    cases = [(p["upper"] + 0.5, "not_on_track"), (p["upper"] - 0.5, None),
             (p["lower"] - 0.5, "ahead_of_expected"), (p["lower"] + 0.5, None)]
    for now, kind in cases:
        h = hist("oq-45.2", [80, 80, 80, now], target=[False, False, False, True])
        t = compute_signals(h, model)
        band_kinds = kinds(t) & {"not_on_track", "ahead_of_expected"}
        assert band_kinds == ({kind} if kind else set())
        if kind:
            r = t[t["kind"] == kind].iloc[0]
            assert r["model_id"] == model.model_id
            assert_allclose([r["numbers"]["expected"], r["numbers"]["lower"],
                             r["numbers"]["upper"]], [p["expected"], p["lower"], p["upper"]],
                            rtol=1e-12)
            assert f"model #{model.model_id}" in r["sentence"]
            assert f"expected {p['expected']:.1f}" in r["sentence"]


def test_alliance_rupture_below_own_mean_by_more_than_the_threshold(loaded_store):
    model = load_model(loaded_store)
    rule = model.alliance["wai-sr"]
    thr = rule["threshold"]
    prev = [50, 52, 51]
    mean = np.mean(prev)
    below = compute_signals(hist("wai-sr", prev + [mean - thr - 0.05], sessions=[2, 3, 4, 5]),
                            model)
    assert kinds(below) == {"alliance_rupture"}
    r = below.iloc[0]
    assert_allclose([r["numbers"]["own_mean"], r["numbers"]["threshold"],
                     r["numbers"]["difference"]], [mean, thr, -thr - 0.05], rtol=1e-9)
    assert r["numbers"]["n_previous"] == 3
    assert "below this patient's own mean of 51.0 over 3 earlier sessions" in r["sentence"]
    assert kinds(compute_signals(hist("wai-sr", prev + [mean - thr + 0.05]), model)) == set()
    assert kinds(compute_signals(hist("wai-sr", prev + [mean + thr + 5]), model)) == set()
    # a running mean needs MIN_PREVIOUS (2) earlier sessions
    assert kinds(compute_signals(hist("wai-sr", [60, 30]), model)) == set()
    # no model fitted yet: no threshold, no rupture signal
    assert kinds(compute_signals(hist("wai-sr", prev + [10]), None)) == set()


def _count(engine, kind=None) -> int:
    q = select(func.count()).select_from(signals)
    if kind:
        q = q.where(signals.c.kind == kind)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def test_update_signals_is_idempotent_and_stores_sentences(loaded_store):
    n = _count(loaded_store)
    assert n > 0
    res = update_signals(loaded_store, pending_assessments(loaded_store))
    assert _count(loaded_store) == n == len(res.table)
    with loaded_store.connect() as conn:
        rows = conn.execute(select(signals.c.kind, signals.c.sentence, signals.c.numbers,
                                   signals.c.model_id)).all()
    assert {r.kind for r in rows} >= {"not_on_track", "reliable_improvement",
                                      "alliance_rupture"}
    for r in rows:
        assert r.sentence.endswith(".") and json.loads(r.numbers)
    assert "Tracking signals" in res.summary().as_text()


def test_new_assessment_gets_its_signals_on_ingest(sqlite_engine, clinic_csv):
    from psychometrics.tracking.expected import fit_expected

    df = pd.read_csv(clinic_csv, dtype={"date": str})
    last = df.groupby("id")["session"].transform("max") == df["session"]
    ingest(sqlite_engine, df[~last], signals=False)
    model = fit_expected(sqlite_engine)
    res = ingest(sqlite_engine, df[last])
    assert res.n_new == int(last.sum())
    with sqlite_engine.connect() as conn:
        got = conn.execute(select(signals.c.assessment_id, signals.c.model_id)).all()
    assert got, "the new assessments produced no signals at all"
    assert {a for a, _ in got} <= set(res.assessment_ids)
    assert {m for _, m in got} <= {None, model.model_id}


def test_correction_recomputes_later_signals(sqlite_engine, clinic_csv):
    df = pd.read_csv(clinic_csv, dtype={"date": str})
    oq = df[df["instrument"] == "oq-45.2"]
    pid = oq.groupby("id")["session"].max().idxmax()
    one = oq[oq["id"] == pid].reset_index(drop=True)
    ingest(sqlite_engine, one)
    # a corrected intake with every item at its most distressed answer
    intake = one.iloc[[0]].copy()
    from psychometrics.tracking.instruments import instrument
    spec = instrument("oq-45.2")
    for it in spec.items:
        intake[it.id] = 0 if spec.is_reversed("total", it.id) else 4
    ingest(sqlite_engine, intake, mode="correct")
    with sqlite_engine.connect() as conn:
        kinds_after = set(conn.execute(select(signals.c.kind)).scalars())
        later = conn.execute(select(func.count()).select_from(assessments)
                             .join(patients).where(patients.c.code == pid)).scalar_one()
    assert later == len(one)
    # intake 180: every later session is a reliable improvement now
    assert "reliable_improvement" in kinds_after
    assert _count(sqlite_engine, "reliable_improvement") == len(one) - 1
    with sqlite_engine.connect() as conn:
        nums = [json.loads(x) for x in conn.execute(
            select(signals.c.numbers).where(signals.c.kind == "reliable_improvement")).scalars()]
    assert {n["intake"] for n in nums} == {180.0}


@pytest.mark.parametrize("name, norms, reliability, sd", [
    ("oq-45.2", "us", None, None),      # norm-set rci 14 and cut-off 64
    ("oq-45.2", "nl", None, None),      # rci 18, cut-off 56
    ("wai-sr", None, 0.81, 6.3),        # Jacobson-Truax from reliability and SD, no cut-off
])
def test_change_rule_classifies_as_clinical_significance_does(name, norms, reliability, sd):
    """ChangeRule.classify against the scoring package on a grid of (pre, post) pairs,
    including the exact threshold and cut-off values."""
    from psychometrics.tracking.signals import change_rule

    rule = change_rule(name, "total", norms, reliability, sd)
    grid = np.unique(np.concatenate([np.arange(0.0, 181.0, 3.5), [55, 56, 63, 64, 65, 70, 84,
                                                                   88, 74, 46, 50]]))
    pre, post = (a.ravel() for a in np.meshgrid(grid, grid))
    n = len(pre)
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "time": np.tile([0, 1], n),
                          "total": np.column_stack([pre, post]).ravel()})
    cs = clinical_significance(frame, name, scale="total", id="id", time="time", norms=norms,
                               reliability=reliability, sd=sd)
    assert list(rule.classify(pre, post)) == list(cs.table["class"].astype(str))


def test_running_means_and_intakes_are_per_patient(loaded_store):
    """Several patients in one batch: each compared with their own intake and own mean."""
    model = load_model(loaded_store)
    thr = model.alliance["wai-sr"]["threshold"]
    a = hist("wai-sr", [30, 31, 32, 31 - thr - 1])            # patient 1: a rupture
    b = hist("wai-sr", [55, 56, 57, 31 - thr - 1])            # patient 2: far lower still
    b["patient_id"], b["id"], b["assessment_id"] = 2, "P2", b["assessment_id"] + 50
    o1 = hist("oq-45.2", [100, 80])                           # reliable improvement
    o2 = hist("oq-45.2", [60, 80])                            # reliable deterioration
    o2["patient_id"], o2["id"], o2["assessment_id"] = 2, "P2", o2["assessment_id"] + 60
    h = pd.concat([a, o1, b, o2]).sort_values(["patient_id", "instrument", "session"])
    t = compute_signals(h.reset_index(drop=True), model)
    rup = t[t["kind"] == "alliance_rupture"].set_index("id")
    assert_allclose(rup.loc["P1", "numbers"]["own_mean"], 31.0, rtol=1e-12)
    assert_allclose(rup.loc["P2", "numbers"]["own_mean"], 56.0, rtol=1e-12)
    rc = t[t["instrument"] == "oq-45.2"]
    assert set(zip(rc["id"], rc["kind"])) >= {("P1", "reliable_improvement"),
                                              ("P2", "reliable_deterioration")}
    assert {r["intake"] for r in rc["numbers"]} == {100.0, 60.0}
