"""Preflight: problems the data reveal are reported before any analysis runs."""
import pytest

from psychometrics.exceptions import StudyFileError
from psychometrics.report import load_study
from psychometrics.report import run as runmod

from .conftest import ANALYSES, STUDY


def _fail_if_called(*a, **k):  # any analysis step
    raise AssertionError("an analysis started before the preflight error")


@pytest.fixture
def no_steps(monkeypatch):
    monkeypatch.setattr(runmod, "STEPS", tuple((n, t, _fail_if_called, e)
                                               for n, t, _, e in runmod.STEPS))


def test_missing_column_is_reported_before_analyses(study_dir, small_data, no_steps):
    small_data.drop(columns=["wai_7"]).to_csv(study_dir.dir / "data.csv", index=False)
    study = load_study(study_dir())
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(study, progress=None)
    (issue,) = exc.value.issues
    assert issue.location == "instruments.wai"
    assert "'wai_7'" in issue.message and "wai-sr" in issue.message
    assert issue.line == STUDY.splitlines().index(
        "  wai: {{bank: wai-sr, form: standard, label: WAI-SR}}") + 1


def test_missing_mapped_column_points_at_the_mapping(study_dir, no_steps):
    text = STUDY.format(analyses=ANALYSES).replace(
        "oq: {bank: oq-45.2, label: OQ-45.2}", "oq: {bank: oq-45.2, columns: {oq_12: OQ12}}")
    study = load_study(study_dir(text=text))
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(study, progress=None)
    (issue,) = exc.value.issues
    assert issue.location == "instruments.oq.columns.oq_12"
    assert "'OQ12'" in issue.message


def test_missing_id_column(study_dir, small_data, no_steps):
    small_data.rename(columns={"patient_id": "pid"}).to_csv(study_dir.dir / "data.csv",
                                                             index=False)
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(load_study(study_dir()), progress=None)
    assert exc.value.issues[0].location == "data.id"
    assert "'patient_id'" in exc.value.issues[0].message


def test_out_of_range_response(study_dir, small_data, no_steps):
    bad = small_data.copy()
    bad.loc[5, "pear_3"] = 9
    bad.to_csv(study_dir.dir / "data.csv", index=False)
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(load_study(study_dir()), progress=None)
    (issue,) = exc.value.issues
    assert issue.location == "instruments.pear"
    assert "'pear_3'" in issue.message and "1..6" in issue.message and "row 6" in issue.message


def test_non_numeric_response(study_dir, small_data, no_steps):
    bad = small_data.astype({"oq_2": object})
    bad.loc[0, "oq_2"] = "often"
    bad.to_csv(study_dir.dir / "data.csv", index=False)
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(load_study(study_dir()), progress=None)
    assert "'often'" in exc.value.issues[0].message


def test_efa_with_too_few_cases(study_dir, no_steps):
    # 30 patients, 45 OQ items: an EFA of the OQ at the first occasion is impossible
    study = load_study(study_dir(ANALYSES + "  efa: {instruments: [oq]}\n"))
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(study, progress=None)
    (issue,) = exc.value.issues
    assert issue.location == "analyses.efa"
    assert "30 cases" in issue.message and "45 items" in issue.message


def test_invariance_group_column_absent(study_dir, no_steps):
    study = load_study(study_dir(ANALYSES + "  invariance: {instrument: wai, group: site}\n"))
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(study, progress=None)
    (issue,) = exc.value.issues
    assert issue.location == "analyses.invariance.group" and "'site'" in issue.message


def test_duplicate_patient_occasion(study_dir, small_data, no_steps):
    import pandas as pd
    dup = pd.concat([small_data, small_data.iloc[[0]]])
    dup.to_csv(study_dir.dir / "data.csv", index=False)
    with pytest.raises(StudyFileError) as exc:
        runmod.run_study(load_study(study_dir()), progress=None)
    assert "repeat a (id, time) pair" in exc.value.issues[0].message


def test_several_data_files_are_merged_on_id_and_time(study_dir, small_data):
    wai = [f"wai_{i}" for i in range(1, 13)]
    small_data[["patient_id", "month", *wai]].to_csv(study_dir.dir / "a.csv", index=False)
    small_data.drop(columns=wai).iloc[::-1].to_csv(study_dir.dir / "b.csv", index=False)
    text = STUDY.format(analyses=ANALYSES).replace("files: [data.csv]", "files: [a.csv, b.csv]")
    study = load_study(study_dir(text=text))
    data = runmod.load_data(study)
    assert len(data.frame) == len(small_data)
    merged = data.frame.set_index(["patient_id", "month"]).sort_index()
    orig = small_data.set_index(["patient_id", "month"]).sort_index()
    import pandas as pd

    pd.testing.assert_frame_equal(merged[orig.columns].astype(float), orig.astype(float))
