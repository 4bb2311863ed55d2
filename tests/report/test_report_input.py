"""The report's input: the one reader (SPSS labels, integer ids), paths kept in the
study folder, and a non-zero exit when a section failed (issue 12, holes 2, 3, 5)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.cli import main
from psychometrics.exceptions import StudyFileError
from psychometrics.report import load_study
from psychometrics.report.run import load_data

from .conftest import STUDY

LABELS = {1: "Never", 2: "Rarely", 3: "Sometimes", 4: "Frequently", 5: "Almost always"}
OQ = [f"oq_{i}" for i in range(1, 46)]


def test_spss_value_labels_and_integer_ids_in_the_report(tmp_path, small_data):
    pyreadstat = pytest.importorskip("pyreadstat")
    d = small_data[["patient_id", "month", *OQ]].copy()
    coded = d.copy()
    coded[OQ] = coded[OQ] + 1          # the file codes Never..Almost always as 1..5
    pyreadstat.write_sav(coded.astype(float), str(tmp_path / "data.sav"),
                         variable_value_labels={c: LABELS for c in OQ})
    (tmp_path / "study.yaml").write_text(
        "name: sav\ndata: {files: [data.sav], id: patient_id, time: month}\n"
        "instruments:\n  oq: {bank: oq-45.2}\nanalyses: {scoring: true}\n", encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    data = load_data(study)
    assert data.frame["patient_id"].dtype == np.int64
    assert data.frame["month"].dtype == np.int64
    got = data.items["oq"].to_numpy(float)
    assert_allclose(got, d[OQ].to_numpy(float), rtol=0, equal_nan=True)


def test_paths_outside_the_study_folder_need_the_flag(tmp_path, small_data, capsys):
    inner = tmp_path / "study"
    inner.mkdir()
    small_data.to_csv(tmp_path / "data.csv", index=False)
    text = STUDY.format(analyses="  scoring: true\n").replace("files: [data.csv]",
                                                               "files: [../data.csv]")
    text += "output: ../../elsewhere/x\n"
    (inner / "study.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(StudyFileError) as info:
        load_study(inner / "study.yaml")
    locs = {i.location for i in info.value.issues}
    assert locs == {"data.files[0]", "output"}
    assert "outside the study file's folder" in str(info.value)
    assert main(["report", str(inner / "study.yaml"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "--allow-outside-paths" in err
    study = load_study(inner / "study.yaml", allow_outside_paths=True)
    assert study.output_dir() == (tmp_path.parent / "elsewhere" / "x").resolve()
    assert main(["report", str(inner / "study.yaml"), "--check",
                 "--allow-outside-paths"]) == 0


def test_output_inside_the_study_folder_is_relative_to_it(study_dir):
    text = STUDY.format(analyses="  scoring: true\n") + "output: reports/here\n"
    study = load_study(study_dir(text=text))
    assert study.output_dir() == (study_dir.dir / "reports" / "here").resolve()


def test_report_exits_non_zero_when_a_section_failed(study_dir, capsys):
    # descriptives need scores, and scoring is switched off: that section fails
    study = study_dir("  scoring: false\n  descriptives: true\n")
    out = study_dir.dir / "out"
    assert main(["report", str(study), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "section 'Scale Descriptives' not produced" in err and "--allow-partial" in err
    assert (out / "report.html").is_file()
    assert main(["report", str(study), "-o", str(out), "-q", "--allow-partial"]) == 0


def wide_bank(p: int) -> str:
    items = "\n".join(f"  - {{id: w{j}, source: test, verified: true}}" for j in range(1, p + 1))
    ids = ", ".join(f"w{j}" for j in range(1, p + 1))
    return f"""id: wide
name: Wide test bank
version: "1"
citation: Test.
licence: Test only.
response_scale: {{min: 1, max: 5, labels: {{1: never, 5: always}},
                 provenance: {{source: test, verified: true}}}}
items:
{items}
scales:
  all:
    name: All items
    items: [{ids}]
    provenance: {{source: test, verified: true}}
    missing: {{rule: complete, provenance: {{source: test, verified: true}}}}
"""


def test_wide_study_loads_without_a_warning_per_column(tmp_path):
    p, n = 600, 40
    rng = np.random.default_rng(0)
    d = pd.DataFrame(rng.integers(1, 6, size=(n, p)), columns=[f"w{j}" for j in range(1, p + 1)])
    d.insert(0, "id", np.arange(n))
    d.insert(1, "t", 1)
    d.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "wide.yaml").write_text(wide_bank(p), encoding="utf-8")
    (tmp_path / "study.yaml").write_text(
        "name: wide\ndata: {files: [data.csv], id: id, time: t}\n"
        "instruments:\n  w: {bank: wide.yaml}\nanalyses: {scoring: true}\n", encoding="utf-8")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")          # any warning (pandas PerformanceWarning) fails
        data = load_data(load_study(tmp_path / "study.yaml"))
    assert data.items["w"].shape == (n, p)


def test_report_without_the_report_extra_names_it(study_dir, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "docx", None)     # as if python-docx were absent
    assert main(["report", str(study_dir()), "-o", str(study_dir.dir / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'psychometrics[report]'" in err and "python-docx" in err
    assert "Traceback" not in err and "ModuleNotFoundError" not in err


def test_blank_patient_id_is_named_in_the_study_file_terms(tmp_path):
    """load_data checks each instrument through psychometrics.io.item_data; a blank id
    is reported against data.id with its data rows, not as a response problem."""
    from psychometrics.report import parse_study
    from psychometrics.report.run import load_data
    from psychometrics.simulate import example_data

    df = example_data().iloc[:60].copy()
    df["patient_id"] = df["patient_id"].astype(float)
    df.loc[[3, 7], "patient_id"] = np.nan
    df.to_csv(tmp_path / "d.csv", index=False)
    study = parse_study(
        "name: t\ndata:\n  files: [d.csv]\n  id: patient_id\n  time: month\n"
        "instruments:\n  pear: {bank: pear}\nanalyses:\n  reliability: {}\n",
        source=str(tmp_path / "study.yaml"), base_dir=tmp_path)
    with pytest.raises(StudyFileError, match=r"data\.id: column 'patient_id' is blank in 2 "
                                             r"data row\(s\) of d\.csv \(4, 8\)"):
        # rows of the file (the frame is sorted by id and time, blank ids last)
        load_data(study)


def test_load_data_gives_each_instrument_its_item_data(tmp_path):
    from psychometrics.io import ItemData
    from psychometrics.report import parse_study
    from psychometrics.report.run import load_data
    from psychometrics.simulate import example_data

    df = example_data().iloc[:60].rename(columns={f"pear_{i}": f"P{i}" for i in range(1, 11)})
    df.to_csv(tmp_path / "d.csv", index=False)
    study = parse_study(
        "name: t\ndata:\n  files: [d.csv]\n  id: patient_id\n  time: month\n"
        "instruments:\n  pear: {bank: pear, column_pattern: 'P{number}'}\n"
        "analyses:\n  reliability: {}\n",
        source=str(tmp_path / "study.yaml"), base_dir=tmp_path)
    data = load_data(study)
    d = data.item_data["pear"]
    assert isinstance(d, ItemData) and d.columns["pear_3"] == "P3"
    assert data.items["pear"] is d.responses
    assert list(d.responses.columns) == [f"pear_{i}" for i in range(1, 11)]
