"""The study file's ``progress: {method: latent}`` runs progress(method="latent"); the
section says which method was used and adds the observed-versus-latent centring table."""
import warnings

import pytest

from psychometrics.exceptions import StudyFileError
from psychometrics.report import apa, load_study
from psychometrics.report.model import Paragraph
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset
from .test_sections_modules import _row

ANALYSES = """\
  scoring: true
  progress: {{predictors: [wai.total], outcome: oq.total, method: {method}}}
"""


def _build(tmp_path, method):
    data = example_subset(40)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(analyses=ANALYSES.format(method=method)),
                                         encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None, only={"scoring", "progress"})
    return results, {s.key: s for s in build_sections(results)}


def _text(sec):
    return " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))


def test_latent_method_in_the_section(tmp_path):
    results, secs = _build(tmp_path, "latent")
    r = results.get("progress").result.result
    assert r.method == "latent" and r.centring is not None
    sec = secs["progress"]
    assert "Method: latent centring" in _text(sec)
    keys = [t.key for t in sec.tables]
    assert keys == ["progress_effects", "progress_comparison", "progress_centring"]
    eff, cen = sec.tables[0], sec.tables[2]
    assert "z" in eff.headers and "df" not in eff.headers
    for _, e in r.effects.iterrows():
        row = _row(eff, model=e["model"], predictor=e["predictor"], effect=e["effect"])
        assert row["estimate"] == apa.num(round(e["estimate"], 2))
        assert row["p_value"] == apa.pval(e["p_value"])
    for _, c in r.centring.iterrows():
        row = _row(cen, model=c["model"], predictor=c["predictor"], effect=c["effect"])
        assert row["observed_estimate"] == apa.num(c["observed_estimate"])
        assert row["latent_estimate"] == apa.num(c["latent_estimate"])


def test_observed_is_the_default_and_says_so(tmp_path):
    results, secs = _build(tmp_path, "observed")
    assert results.get("progress").result.result.method == "observed"
    sec = secs["progress"]
    assert "Method: observed centring" in _text(sec)
    assert [t.key for t in sec.tables] == ["progress_effects", "progress_comparison"]


def test_unknown_method_is_a_study_file_error(tmp_path):
    (tmp_path / "study.yaml").write_text(STUDY.format(analyses=ANALYSES.format(method="latnt")),
                                         encoding="utf-8")
    example_subset(5).to_csv(tmp_path / "data.csv", index=False)
    with pytest.raises(StudyFileError, match="method"):
        load_study(tmp_path / "study.yaml")
