"""One small fitted instance of every public result class, for the convention tests.

Each entry is built lazily (``zoo(name)``) and cached; the fits are small (a few
hundred rows) so the whole zoo builds in seconds.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from refdata import dataset

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _hs():
    return dataset("HolzingerSwineford1939")


def _items():
    return _hs()[[f"x{i}" for i in range(1, 10)]]


def _therapy():
    return dataset("therapy_sim")


def _bfi5():
    d = dataset("bfi")[["A1", "A2", "A3", "A4", "A5"]].dropna().iloc[:300]
    return d.astype(int)


def _bfi_gender():
    d = dataset("bfi")[["A1", "A2", "A3", "A4", "gender"]].dropna().iloc[:500]
    return d.astype(int)


def _sem():
    from psychometrics import sem
    return sem.fit(HS_MODEL, _hs())


def _long_oq():
    d = _therapy()[["patient_id", "month", "oq_total"]].dropna()
    return d


BUILDERS = {
    # sem
    "SEMResult": _sem,
    "InvarianceResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).invariance(
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", _hs(), group="school"),
    "OrdinalSEMResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).fit(
        "f =~ A1 + A2 + A3 + A4 + A5", _bfi5(), ordered=["A1", "A2", "A3", "A4", "A5"]),
    "TwoLevelResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).fit_twolevel(
        "level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3",
        dataset("Demo.twolevel"), cluster="cluster"),
    # efa
    "FactorAnalysisResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).fa(
        _items(), n_factors=3),
    "KMOResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).kmo(_items()),
    "BartlettResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).bartlett(_items()),
    "ParallelAnalysisResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).parallel_analysis(
        _items(), n_iter=5, seed=1),
    "MAPResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).velicer_map(_items()),
    "OmegaResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).omega(_items(), n_factors=3),
    "IRTFactorResult": lambda: __import__("psychometrics.efa", fromlist=["x"]).irt_fa(_bfi5()),
    # reliability
    "AlphaResult": lambda: __import__("psychometrics.reliability", fromlist=["x"]).alpha(_items().iloc[:, :3]),
    "SplitHalfResult": lambda: __import__("psychometrics.reliability", fromlist=["x"]).split_half(
        _items().iloc[:, :4], brute=True),
    "PolychoricResult": lambda: __import__("psychometrics.reliability", fromlist=["x"]).polychoric(_bfi5()),
    "ICCResult": lambda: __import__("psychometrics.reliability", fromlist=["x"]).icc(dataset("sai").iloc[:, :4]
                                                                                    if False else _icc_data()),
    "MultilevelReliabilityResult": lambda: __import__("psychometrics.reliability", fromlist=["x"]).multilevel_reliability(
        _therapy().dropna(subset=["wai_1", "wai_2", "wai_3"]).iloc[:600], "patient_id", "month",
        ["wai_1", "wai_2", "wai_3"]),
    # multilevel
    "MixedResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).mixed(
        "Reaction ~ Days + (Days | Subject)", dataset("sleepstudy")),
    "MultiMixedResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).mixed(
        "Reaction ~ Days + (1 | Subject) + (1 | Days)", dataset("sleepstudy")),
    "GlmmResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).mixed(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)", dataset("cbpp"), family="binomial"),
    "ProgressResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).progress(
        _therapy().iloc[:800], "oq_total", ["wai_1"], "patient_id", "month"),
    "StatsByResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).statsby(
        _therapy().iloc[:600], "patient_id", ["wai_1", "wai_2"]),
    # irt
    "IRTResult": lambda: __import__("psychometrics.irt", fromlist=["x"]).fit_irt(dataset("lsat6")),
    "M2Result": lambda: __import__("psychometrics.irt", fromlist=["x"]).m2(zoo("IRTResult")),
    "ItemFit": lambda: __import__("psychometrics.irt", fromlist=["x"]).item_fit(zoo("IRTResult")),
    # validity
    "CorrTestResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).corr_test(_items().iloc[:, :4]),
    "CorCiResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).cor_ci(
        _items().iloc[:, :4], n_iter=5, seed=1),
    "DescribeResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).describe(_items()),
    "HTMTResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).htmt(HS_MODEL, _hs()),
    "FornellLarckerResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).fornell_larcker(zoo("SEMResult")),
    "CongruenceResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).factor_congruence(
        zoo("FactorAnalysisResult").loadings),
    "ScoreOverlapResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).score_overlap(
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}, _items()),
    "RetestResult": lambda: _retest(),
    "MTMMResult": lambda: _mtmm(),
    "LongitudinalInvarianceResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).longitudinal_invariance(
        {"bond": ["wai_1", "wai_2", "wai_3"]}, _therapy(), "patient_id", "month", [1, 2],
        levels=("configural", "metric")),
    # scoring
    "ScoreResult": lambda: _scores(),
    "ClinicalSignificanceResult": lambda: __import__("psychometrics.scoring", fromlist=["x"]).clinical_significance(
        pd.DataFrame({"pid": ["a", "a", "b", "b", "c", "c"], "t": [1, 2, 1, 2, 1, 2],
                      "total": [90, 70, 50, 80, 78, 64]}), "oq-45.2", id="pid", time="t", norms="us"),
    # more sem / irt
    "GrowthResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).scale_growth(
        _therapy().assign(bond=lambda d: d[["wai_1", "wai_2", "wai_3"]].mean(axis=1)), "bond",
        id="patient_id", time="month", times=[1, 2, 3, 4]),
    "DIFResult": lambda: __import__("psychometrics.irt", fromlist=["x"]).dif_lr(
        _bfi_gender(), "gender", ["A1", "A2", "A3", "A4"], anchors=["A1", "A2"]),
    "MIRTResult": lambda: __import__("psychometrics.irt", fromlist=["x"]).fit_mirt(
        _bfi5().iloc[:200], {"f1": ["A1", "A2", "A3"], "f2": ["A4", "A5"]}, qpoints=11),
    "InstrumentReliability": lambda: __import__("psychometrics.reliability", fromlist=["x"]).instrument_reliability(
        _example(), "pear"),
    "ShortForm": lambda: __import__("psychometrics.efa", fromlist=["x"]).select_items(
        zoo("FactorAnalysisResult"), items_per_factor=1),
    "ShiftResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).lead(
        _therapy().iloc[:300], "patient_id", "month", "oq_total"),
    "SimulationResult": lambda: __import__("psychometrics.simulate", fromlist=["x"]).simulate(
        n_patients=20, seed=1),
    "OmegaSemResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).omega_sem(
        _items(), n_factors=3),
    "ReliabilityTableResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).reliability_table(
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}, _items(), n_factors=1,
        n_sample=200, seed=1),
    "ScoreItemsResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).score_items(
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}, _items()),
    "UnidimResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).unidim(
        _items().iloc[:, :4]),
    "RetestAnalysisResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).retest_analysis(
        _therapy()[_therapy()["month"].isin([1, 2])].iloc[:400], ["wai_1", "wai_2", "wai_3"],
        id="patient_id", time="month"),
    "OrdinalMGResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).fit(
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", dataset("hs_ordinal"), group="school",
        ordered=True),
    "ScoreTestResult": lambda: __import__("psychometrics.sem", fromlist=["x"]).score_test(
        __import__("psychometrics.sem", fromlist=["x"]).fit(
            "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", _hs(), group="school",
            group_equal=["loadings"])),
    "MultiGlmmResult": lambda: __import__("psychometrics.multilevel", fromlist=["x"]).mixed(
        "TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)", dataset("grouseticks"), family="poisson"),
    "KappaResult": lambda: __import__("psychometrics.validity", fromlist=["x"]).cohen_kappa(
        _bfi5()[["A1", "A2"]]),
}


def _example():
    from pathlib import Path
    return pd.read_csv(Path(__file__).resolve().parents[2] / "examples" / "therapy_example.csv")


def _scores():
    from psychometrics.scoring import score
    return score(_example(), "wai-sr", id="patient_id", time="month")


def _retest():
    from psychometrics.validity import retest_reliability
    s = _scores().scores
    return retest_reliability(s, "total", "patient_id", "month")


def _mtmm():
    from psychometrics.validity import mtmm
    d = _hs()
    return mtmm(d, {("visual", "a"): "x1", ("visual", "b"): "x2", ("textual", "a"): "x4",
                    ("textual", "b"): "x5"})


def _icc_data():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(30, 1))
    return pd.DataFrame(t + rng.normal(scale=0.5, size=(30, 4)), columns=list("abcd"))


@lru_cache(maxsize=None)
def zoo(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BUILDERS[name]()
