"""The report's invariance section with ordinal items (``ordered: true``): WLSMV with the
Wu & Estabrook identification across groups and across occasions (one longitudinal model);
categories missing in a group or occasion are merged and listed."""
import warnings

import pandas as pd
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.adapters import cfa_syntax
from psychometrics.report.run import run_study, select_occasion
from psychometrics.report.sections import build_sections
from psychometrics.sem.ordinal_mg import merge_sparse_categories

from .conftest import STUDY, example_subset
from .test_sections_modules import _row


def _run(tmp_path, analyses, data):
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(analyses=analyses), encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    return study, results, {s.key: s for s in build_sections(results)}["invariance"]


def _data():
    data = example_subset(150)
    ids = list(dict.fromkeys(data["patient_id"]))
    data["site"] = ["A" if ids.index(p) % 2 else "B" for p in data["patient_id"]]
    return data


def test_ordinal_invariance_across_groups(tmp_path):
    from psychometrics.sem import invariance
    data = _data()
    study, results, sec = _run(
        tmp_path, "  invariance: {instrument: pear, group: site, ordered: true}\n", data)
    t = sec.tables[0]
    texts = " ".join(getattr(b, "text", "") for b in sec.blocks)
    assert "Wu and Estabrook (2016)" in texts and "pear_10: 6 into 5" in texts
    assert "scaled" in t.note
    block = select_occasion(study, results.data, "pear", "first_complete")
    frame = block.assign(__group__=data.loc[block.index, "site"].astype(str))
    items = list(block.columns)
    frame, merges = merge_sparse_categories(frame.dropna(), items, "__group__")
    assert ("pear_10", 6, 5) in merges
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = invariance(cfa_syntax(study.instrument("pear")), frame, "__group__", ordered=True)
    assert [r[0] for r in t.cells()] == ["Configural", "Thresholds", "Loadings", "Intercepts"]
    for level, r in ref.table.iterrows():
        row = _row(t, model=level)
        assert row["chisq"] == apa.num(r["chisq_scaled"])
        assert row["df"] == apa.integer(r["df"])
        if level != "configural":
            assert row["chisq_diff"] == apa.num(r["chisq_diff"])


def test_ordinal_invariance_across_occasions(tmp_path):
    study, results, sec = _run(
        tmp_path, "  invariance: {instrument: pear, times: [1, 2], ordered: true}\n", _data())
    texts = " ".join(getattr(b, "text", "") for b in sec.blocks)
    assert "not treated as independent groups" in texts and "longitudinal" in texts
    assert "not independent" not in texts
    t = sec.tables[0]
    assert t.data["model"].tolist() == ["configural", "thresholds", "loadings", "intercepts"]
    b = results.get("invariance").result          # the step's InvarianceBundle
    assert type(b.result).__name__ == "LongitudinalInvarianceResult"
    assert b.result.n_obs == 92


def test_ordinal_levels_mapping():
    from psychometrics.report.adapters import ordinal_levels
    assert ordinal_levels(("configural", "metric", "scalar")) == (
        "configural", "thresholds", "loadings", "intercepts")
    assert ordinal_levels(("configural", "metric", "scalar", "strict"))[-1] == "residuals"


def test_merge_sparse_categories():
    d = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "x": [1, 2, 3, 4, 2, 2, 3, 3]})
    out, merges = merge_sparse_categories(d, ["x"], "g")
    assert merges == [("x", 1, 2), ("x", 4, 3)]
    assert sorted(out["x"].unique()) == [2, 3]


def test_ordinal_estimator_named_from_the_fits():
    # an ULSMV invariance sequence is reported as ULSMV (the scaled statistics), not WLSMV
    from types import SimpleNamespace

    from psychometrics.report.sections.invariance import invariance_frame, ordinal_estimator
    from psychometrics.sem import invariance
    from refdata import dataset
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    inv = invariance(model, dataset("hs_ordinal"), "school", ordered=True,
                     levels=["configural", "loadings"], estimator="ULSMV")
    b = SimpleNamespace(result=inv)
    assert ordinal_estimator(b) == "ULSMV"
    t = invariance_frame(b)
    assert (t["estimator"] == "ULSMV").all()
    assert list(t["chisq"]) == list(inv.table["chisq_scaled"])
