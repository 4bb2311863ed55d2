"""Study-file validation: every error names its place in the file and its line."""
import pytest

from psychometrics.exceptions import StudyFileError
from psychometrics.report import load_study, parse_study

from .conftest import ANALYSES, STUDY


def _issues(exc):
    return {(i.location, i.line): i.message for i in exc.value.issues}


def test_valid_study_loads(study_dir):
    s = load_study(study_dir())
    assert s.name == "small"
    assert list(s.instruments) == ["wai", "pear", "oq"]
    assert s.instrument("wai").id == "wai-sr"
    assert s.item_columns("wai")["wai_3"] == "wai_3"
    assert s.data_paths()[0] == study_dir.dir / "data.csv"
    assert s.analyses.reliability is None and s.analyses.descriptives is not None
    assert "name: small" in s.text


def test_unknown_field_names_place_and_line(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  efa: {instruments: [wai], rotaton: oblimin}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "analyses.efa.rotaton"
    assert issue.line == text.splitlines().index(
        "  efa: {instruments: [wai], rotaton: oblimin}") + 1
    assert "unknown field" in issue.message
    assert "line" in str(exc.value) and "analyses.efa.rotaton" in str(exc.value)


def test_bad_value_names_place(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  efa: {rotation: spinning}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    locs = [i.location for i in exc.value.issues]
    assert locs == ["analyses.efa.rotation"]
    assert "spinning" in exc.value.issues[0].message


def test_unknown_instrument_bank(study_dir):
    text = STUDY.format(analyses=ANALYSES).replace("bank: pear,", "bank: peer,")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "instruments.pear.bank"
    assert "'peer'" in issue.message
    assert issue.line == text.splitlines().index("  pear: {bank: peer, label: PEAR}") + 1


def test_unknown_form(study_dir):
    text = STUDY.format(analyses=ANALYSES).replace("form: standard", "form: long")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "instruments.wai.form"
    assert "'long'" in issue.message and "standard" in issue.message


def test_analysis_names_undeclared_instrument(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  reliability: {instruments: [wai, bdi]}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "analyses.reliability.instruments[1]"
    assert "'bdi'" in issue.message


def test_unknown_scale_in_reference(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  progress: {predictors: [wai.totl], outcome: oq.total}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "analyses.progress.predictors[0]"
    assert "'totl'" in issue.message and "total" in issue.message


def test_norms_that_do_not_exist(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  clinical_significance: {scale: oq.total, norms: de}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "analyses.clinical_significance.norms"
    assert "'de'" in issue.message


def test_item_mapping_to_unknown_item(study_dir):
    text = STUDY.format(analyses=ANALYSES).replace(
        "oq: {bank: oq-45.2, label: OQ-45.2}", "oq: {bank: oq-45.2, columns: {oq_46: X}}")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "instruments.oq.columns.oq_46"


def test_missing_data_file(study_dir):
    text = STUDY.format(analyses=ANALYSES).replace("[data.csv]", "[nothere.csv]")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    (issue,) = exc.value.issues
    assert issue.location == "data.files[0]" and "'nothere.csv'" in issue.message


def test_all_problems_are_listed_at_once(study_dir):
    text = (STUDY.format(analyses=ANALYSES + "  efa: {rotaton: x}\n")
            .replace("seed: 7", "seed: seven").replace("  id: patient_id\n", ""))
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    locs = sorted(i.location for i in exc.value.issues)
    assert locs == ["analyses.efa.rotaton", "data.id", "seed"]


def test_malformed_yaml_gives_line(study_dir):
    with pytest.raises(StudyFileError) as exc:
        parse_study("name: x\ndata: [1, 2\ninstruments: {}\n")
    assert exc.value.issues[0].line is not None
    assert "malformed YAML" in str(exc.value)


def test_invariance_needs_one_grouping(study_dir):
    text = STUDY.format(analyses=ANALYSES + "  invariance: {instrument: wai}\n")
    with pytest.raises(StudyFileError) as exc:
        load_study(study_dir(text=text))
    assert exc.value.issues[0].location == "analyses.invariance"
    assert "'group'" in exc.value.issues[0].message


def test_study_models_are_frozen(study_dir):
    s = load_study(study_dir())
    with pytest.raises(Exception):
        s.name = "other"


def test_example_study_file_is_valid():
    from psychometrics.report.study import EXAMPLE_STUDY, REPO_ROOT

    s = load_study(EXAMPLE_STUDY)
    assert s.name == "example"
    # the package's copy of the example data (the top-level examples/ holds an identical one)
    from psychometrics.simulate import EXAMPLE_CSV
    assert s.data_paths() == [EXAMPLE_CSV]
    assert s.output_dir(REPO_ROOT) == REPO_ROOT / "validation_reports" / "example"
