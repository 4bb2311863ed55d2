"""The validity section carries validity.corr_test and validity.htmt of the rows it names."""
import warnings

import pandas as pd
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_sections
from psychometrics.report.study import StudyFileError

from .conftest import STUDY, example_subset
from .test_sections_modules import _row

ANALYSES = """\
  scoring: true
  validity: {scales: [pear.total, wai.total, oq.total]}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("validity")
    data = example_subset(60)
    data.to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    study = load_study(d / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    return data, study, results, {s.key: s for s in build_sections(results)}


def _first_rows(data, scores):
    frame = pd.DataFrame(scores).assign(patient_id=data["patient_id"], month=data["month"])
    frame = frame.dropna()
    return frame.loc[sorted(frame.groupby("patient_id")["month"].idxmin())]


def test_validity_tables_equal_the_modules(built):
    from psychometrics.scoring import score
    from psychometrics.validity import corr_test, htmt

    data, study, results, secs = built
    sec = secs["validity"]
    assert sec.error is None
    scores = {"pear_total": score(data, "pear", id="patient_id", time="month").scores["total"],
              "wai_total": score(data, "wai-sr", id="patient_id", time="month").scores["total"],
              "oq_total": score(data, "oq-45.2", id="patient_id", time="month").scores["total"]}
    chosen = _first_rows(data, scores)
    assert chosen["patient_id"].is_unique and len(chosen) == 60
    ref = corr_test(chosen[list(scores)]).table
    t = sec.tables[0]
    assert t.key == "validity_correlations"
    for r in ref.itertuples():
        row = _row(t, var1=r.var1, var2=r.var2)
        assert row["r"] == apa.bounded(r.r)
        assert row["p_adjusted"] == apa.pval(r.p_adjusted)
        assert row["n"] == apa.integer(r.n)
    h = next(x for x in sec.tables if x.key == "validity_htmt")
    bundle = results.get("validity").result
    lines = "\n".join(f"{k} =~ " + " + ".join(v) for k, v in bundle.htmt_items.items())
    items = data.loc[chosen.index]
    ref_h = htmt(lines, items, htmt2=bundle.htmt.htmt2, missing="pairwise").table
    assert len(ref_h) == len(h.data) > 3
    for r in ref_h.itertuples():
        assert _row(h, factor1=r.factor1, factor2=r.factor2)["htmt"] == apa.num(r.htmt)
    assert any(p.kind == "draft" and "*r* =" in p.text for p in sec.blocks
               if hasattr(p, "kind"))


def test_validity_needs_known_scales(study_dir):
    p = study_dir(analyses="  scoring: true\n  validity: {scales: [pear.total, wai.nope]}\n")
    with pytest.raises(StudyFileError, match="analyses.validity.scales\\[1\\]"):
        load_study(p)
