"""The ``psychometrics report`` command."""
import json

from psychometrics.cli import main

from .conftest import ANALYSES, STUDY


def test_report_command_writes_folder_and_shows_progress(study_dir, capsys):
    study = study_dir(ANALYSES.replace("  descriptives: true\n", ""))
    out = study_dir.dir / "out"
    assert main(["report", str(study), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "[1/3] Sample ..." in err and "[3/3] Item distributions ..." in err
    assert (out / "report.html").is_file() and (out / "report.docx").is_file()
    m = json.loads((out / "manifest.json").read_text())
    assert m["study"]["name"] == "small"


def test_report_command_error_names_place(study_dir, capsys):
    text = STUDY.format(analyses=ANALYSES).replace("form: standard", "form: long")
    assert main(["report", str(study_dir(text=text)), "--check"]) == 2
    err = capsys.readouterr().err
    assert "instruments.wai.form" in err and "line 9," in err


def test_check_only(study_dir, capsys):
    assert main(["report", str(study_dir()), "--check"]) == 0
    assert "OK" in capsys.readouterr().out
    assert not (study_dir.dir / "validation_reports").exists()


def test_example_study_passes_preflight(capsys):
    # the shipped example study and data (psychometrics report --example --check)
    assert main(["report", "--example", "--check"]) == 0
    assert "example_study.yaml: OK" in capsys.readouterr().out


def test_rebuild_from_manifest_in_place(study_dir, capsys):
    study = study_dir(ANALYSES.replace("  descriptives: true\n", ""))
    out = study_dir.dir / "out"
    assert main(["report", str(study), "-o", str(out), "-q"]) == 0
    first = json.loads((out / "manifest.json").read_text())
    (out / "report.html").unlink()
    assert main(["report", "--manifest", str(out / "manifest.json"), "-q"]) == 0
    again = json.loads((out / "manifest.json").read_text())
    assert (out / "report.html").is_file()
    assert again["study"]["text"] == first["study"]["text"]
    assert again["data_files"][0]["sha256"] == first["data_files"][0]["sha256"]
    assert again["files"]["tables/table_01_sample_per_time.csv"] == \
        first["files"]["tables/table_01_sample_per_time.csv"]


def test_missing_study_file(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "does not exist" in err
