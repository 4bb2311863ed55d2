"""Sections of the model-based analyses (CFA, invariance, progress, CFA-based
omega, multilevel reliability) carry the numbers of the modules' results."""
import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.adapters import cfa_syntax
from psychometrics.sem import omega_model
from psychometrics.report.run import run_study, select_occasion
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset
from .test_sections_modules import _row

ANALYSES = """\
  scoring: true
  reliability: {instruments: [wai], omega: true, multilevel: true}
  cfa: {instruments: [wai, pear]}
  invariance: {instrument: pear, times: [1, 2]}
  progress: {predictors: [wai.total], outcome: oq.total}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    data = example_subset(60)
    data.to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    study = load_study(d / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    return data, study, results, {s.key: s for s in build_sections(results)}


def test_cfa_fit_table(built):
    from psychometrics.sem import fit

    data, study, results, secs = built
    (t,) = [x for x in secs["cfa"].tables if x.key == "cfa_fit"]
    for key, lab in (("wai", "WAI-SR"), ("pear", "PEAR")):
        block = select_occasion(study, results.data, key, "first_complete")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = fit(cfa_syntax(study.instrument(key)), block)   # lavaan::cfa(model, d)
        fm = ref.fit_measures
        row = _row(t, instrument=lab)
        assert row["chisq"] == apa.num(fm["chisq"])
        assert row["df"] == apa.integer(fm["df"])
        assert row["pvalue"] == apa.pval(fm["pvalue"])
        assert row["cfi"] == apa.bounded(round(fm["cfi"], 2))
        assert row["tli"] == apa.num(fm["tli"])
        assert row["rmsea"] == apa.bounded(fm["rmsea"])
        assert row["rmsea_ci"] == apa.ci(fm["rmsea_ci_lower"], fm["rmsea_ci_upper"],
                                         is_bounded=True)
        assert row["srmr"] == apa.bounded(fm["srmr"])
        # standardised loadings: lavaan::standardizedSolution(fit)$est.std
        (lt,) = [x for x in secs["cfa"].tables if x.key == f"cfa_loadings_{key}"]
        est = ref.estimates[ref.estimates["op"] == "=~"]
        for _, e in est.iterrows():
            assert _row(lt, item=e["rhs"])["std_all"] == apa.bounded(e["std_all"])


def test_invariance_table(built):
    """Occasions are compared as one CFA on the patients' wide data (factor per occasion,
    the same item's residuals correlated), not as independent groups."""
    from psychometrics.validity import longitudinal_invariance

    data, study, results, secs = built
    sec = secs["invariance"]
    t = sec.tables[0]
    block = select_occasion(study, results.data, "pear", "all")
    long = block.assign(patient_id=data.loc[block.index, "patient_id"],
                        month=data.loc[block.index, "month"])
    factors = {}
    for line in cfa_syntax(study.instrument("pear")).splitlines():
        if "=~" not in line:
            continue
        lhs, rhs = line.split("=~")
        factors[lhs.strip()] = [v.strip() for v in rhs.split("+")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = longitudinal_invariance(factors, long, "patient_id", "month", [1, 2],
                                      levels=("configural", "metric", "scalar"))
    assert any("not treated as independent groups" in p.text for p in sec.blocks
               if hasattr(p, "text"))
    for level, r in ref.table.iterrows():
        row = _row(t, model=level)
        assert row["chisq"] == apa.num(r["chisq"])
        assert row["cfi"] == apa.bounded(r["cfi"])
        if level != "configural":
            assert row["chisq_diff"] == apa.num(r["chisq_diff"])
            assert row["p_value_diff"] == apa.pval(r["p_value_diff"])
            assert row["delta_cfi"] == apa.bounded(r["delta_cfi"], 3)


def test_progress_effects_table(built):
    from psychometrics.multilevel import progress
    from psychometrics.scoring import score

    data, study, results, secs = built
    sec = secs["progress"]
    t = sec.tables[0]
    frame = data[["patient_id", "month"]].copy()
    frame["wai_total"] = score(data, "wai-sr", id="patient_id", time="month").scores["total"]
    frame["oq_total"] = score(data, "oq-45.2", id="patient_id", time="month").scores["total"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # lmerTest::lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | id))
        ref = progress(frame, outcome="oq_total", predictors=["wai_total"], id="patient_id",
                       time="month", lag=1)
    for _, e in ref.effects.iterrows():
        row = _row(t, model=e["model"], predictor=e["predictor"], effect=e["effect"])
        assert row["est"] == apa.num(round(e["est"], 2))
        assert row["se"] == apa.num(e["se"])
        assert row["p_value"] == apa.pval(e["p_value"])
        assert row["ci"] == apa.ci(e["ci_lower"], e["ci_upper"])
    assert len(sec.figures) == 2
    within = ref.effects[(ref.effects["effect"] == "within")].iloc[0]
    assert any(f"*b* = {apa.num(within['est'])}" in getattr(b, "text", "")
               for b in sec.blocks)


def test_reliability_cfa_omega_and_multilevel(built):
    from psychometrics.reliability import multilevel_reliability
    from psychometrics.sem import fit

    data, study, results, secs = built
    t = secs["reliability"].tables[0]
    inst = study.instrument("wai")
    block = select_occasion(study, results.data, "wai", "first_complete")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit(omega_model(inst, "bond"), block[list(inst.scale_items("bond"))],
                  std_lv=True)
    om = ref.estimates[ref.estimates["op"] == ":="].iloc[0]
    row = _row(t, instrument="WAI-SR", scale="bond")
    assert row["omega_cfa"] == apa.bounded(om["est"])
    assert row["omega_cfa_ci"] == apa.ci(om["ci_lower"], om["ci_upper"], is_bounded=True)
    (mt,) = [x for x in secs["reliability"].tables if x.key == "reliability_multilevel"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # psych::multilevel.reliability(long, grp="patient_id", Time="month", items=...)
        m = multilevel_reliability(data, "patient_id", "month", list(inst.scale_items("bond")))
    row = _row(mt, instrument="WAI-SR", scale="bond")
    assert row["RkF"] == apa.bounded(m.RkF)
    assert row["Rc"] == apa.bounded(m.Rc)


def test_cfa_omega_equals_semtools_composite_reliability(built):
    from psychometrics.sem import comp_rel_sem, fit

    data, study, results, secs = built
    inst = study.instrument("wai")
    block = select_occasion(study, results.data, "wai", "first_complete")
    items = list(inst.scale_items("goal"))
    b = results.outcomes["reliability"].result["wai"]
    est = b.omega_cfa["goal"].estimates
    ours = float(est.loc[est["op"] == ":=", "est"].iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = fit("goal =~ " + " + ".join(items), block[items])
    # semTools::compRelSEM(cfa('goal =~ ...', d), obs.var = FALSE)
    ref = comp_rel_sem(one, obs_var=False)["reliability"].iloc[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_invariance_across_a_grouping_column(tmp_path):
    from psychometrics.sem import invariance

    data = example_subset(60)
    ids = list(dict.fromkeys(data["patient_id"]))
    data["site"] = ["A" if ids.index(p) % 2 else "B" for p in data["patient_id"]]
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(
        analyses="  invariance: {instrument: pear, group: site, levels: [configural, metric]}\n"),
        encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
        sec = {s.key: s for s in build_sections(results)}["invariance"]
        block = select_occasion(study, results.data, "pear", "first_complete")
        frame = block.assign(__group__=data.loc[block.index, "site"])
        ref = invariance(cfa_syntax(study.instrument("pear")), frame, "__group__",
                         levels=("configural", "metric"))   # lavaan group = "site"
    t = sec.tables[0]
    intro = [b for b in sec.blocks if getattr(b, "kind", None) == "text"][0]  # after the drafts
    assert "groups of site" in intro.text
    for level, r in ref.table.iterrows():
        row = _row(t, model=level)
        assert row["chisq"] == apa.num(r["chisq"])
        assert row["df"] == apa.integer(r["df"])
