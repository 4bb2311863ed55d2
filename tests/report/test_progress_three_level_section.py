"""A study that declares a therapist column (``data: {cluster: therapist}``) gets the
three-level progress analysis in its report (issue 23.2)."""
import warnings

from psychometrics.multilevel import ThreeLevelProgressResult
from psychometrics.report import apa, load_study
from psychometrics.report.model import Paragraph
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset
from .test_sections_modules import _row

ANALYSES = """\
  scoring: true
  progress: {predictors: [wai.total], outcome: oq.total}
"""


def test_three_level_progress_section(tmp_path):
    data = example_subset(60)
    ids = list(dict.fromkeys(data["patient_id"]))
    ther = {p: f"T{i % 10 + 1:02d}" for i, p in enumerate(ids)}
    data.insert(1, "therapist", data["patient_id"].map(ther))
    data.to_csv(tmp_path / "data.csv", index=False)
    study_text = STUDY.format(analyses=ANALYSES).replace(
        "  time: month\n", "  time: month\n  cluster: therapist\n")
    (tmp_path / "study.yaml").write_text(study_text, encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    assert study.data.cluster == "therapist"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None, only={"scoring", "progress"})
    r = results.get("progress").result.result
    assert isinstance(r, ThreeLevelProgressResult) and r.n_clusters == 10
    sec = {s.key: s for s in build_sections(results)}["progress"]
    text = " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))
    assert "random intercepts for therapists" in text and "Between therapists" in text
    assert [t.key for t in sec.tables] == ["progress_effects", "progress_variance_shares",
                                          "progress_comparison"]
    eff = sec.tables[0]
    for _, e in r.effects.iterrows():
        row = _row(eff, model=e["model"], predictor=e["predictor"], effect=e["effect"])
        assert row["est"] == apa.num(e["est"])
        assert row["p_value"] == apa.pval(e["p_value"])


def test_without_cluster_the_two_level_section(tmp_path):
    data = example_subset(30)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    assert study.data.cluster is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None, only={"scoring", "progress"})
    assert not isinstance(results.get("progress").result.result, ThreeLevelProgressResult)


def test_missing_cluster_column_is_a_study_file_error(tmp_path):
    import pytest

    from psychometrics.exceptions import StudyFileError
    example_subset(10).to_csv(tmp_path / "data.csv", index=False)
    study_text = STUDY.format(analyses=ANALYSES).replace(
        "  time: month\n", "  time: month\n  cluster: therapist\n")
    (tmp_path / "study.yaml").write_text(study_text, encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with pytest.raises(StudyFileError, match="therapist"):
        run_study(study, progress=None, only={"scoring", "progress"})
