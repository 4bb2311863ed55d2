"""The progress section carries the numbers of psychometrics.multilevel.progress."""
import warnings

import pandas as pd
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset
from .test_sections_modules import _row

ANALYSES = """\
  scoring: true
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
        assert row["estimate"] == apa.num(round(e["estimate"], 2))
        assert row["std_error"] == apa.num(e["std_error"])
        assert row["p_value"] == apa.pval(e["p_value"])
        assert row["ci"] == apa.ci(e["ci_lower"], e["ci_upper"])
    assert len(sec.figures) == 2
    within = ref.effects[(ref.effects["effect"] == "within")].iloc[0]
    assert any(f"*b* = {apa.num(within['estimate'])}" in getattr(b, "text", "")
               for b in sec.blocks)
