"""The one file reader: encodings, CSV dialects, empty files, and the messages
users see (issue 12, holes 4 and 7)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.cli import main
from psychometrics.exceptions import DataIssue, DataValidationError, ROW_NUMBERING
from psychometrics.io import read_responses

ITEMS = [f"oq_{i}" for i in range(1, 46)]


def oq_frame(n=6, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.integers(0, 5, size=(n, 45)), columns=ITEMS)
    df.insert(0, "pid", np.arange(n) // 2)
    df.insert(1, "month", np.arange(n) % 2)
    df["weight"] = np.linspace(0.5, 2.5, n)
    return df


def test_european_excel_csv_is_read_as_such(tmp_path):
    df = oq_frame()
    path = tmp_path / "eu.csv"
    df.to_csv(path, sep=";", decimal=",", index=False)
    assert "2,1" in path.read_text() or "0,5" in path.read_text()
    got = read_responses(path)
    assert got.attrs["read_options"] == {"sep": ";", "decimal": ",", "encoding": "utf-8"}
    assert list(got.columns) == list(df.columns)
    assert_allclose(got["weight"].to_numpy(), df["weight"].to_numpy(), rtol=0)
    assert_allclose(got[ITEMS].to_numpy(float), df[ITEMS].to_numpy(float), rtol=0)


def test_comma_file_with_too_many_fields_names_row_and_fix(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n1,2,3,4\n")
    with pytest.raises(DataValidationError) as info:
        read_responses(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "data row 2 (line 3 of the file) has 4 fields but the header has 3" in msg
    assert "sep=';' decimal=','" in msg


def test_latin1_csv_names_the_row_and_the_encoding_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,oq_1\nAnna,1\nJ\u00fcrgen,2\n".encode("latin-1"))
    with pytest.raises(DataValidationError) as info:
        read_responses(path)
    msg = str(info.value)
    assert "not UTF-8" in msg and "data row 2 (line 3 of the file)" in msg
    assert "encoding='cp1252'" in msg
    got = read_responses(path, encoding="cp1252")
    assert list(got["name"]) == ["Anna", "J\u00fcrgen"]


def test_cli_reads_with_encoding_and_prints_hints_as_options(tmp_path, capsys):
    df = oq_frame()
    path = tmp_path / "latin.csv"
    df.assign(site="M\u00fcnchen").to_csv(path, index=False, encoding="latin-1")
    out = tmp_path / "scores.csv"
    rc = main(["score", str(path), "-i", "oq-45.2", "--id", "pid", "--time", "month",
               "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--encoding cp1252" in err and "encoding='cp1252'" not in err
    assert "Traceback" not in err
    rc = main(["score", str(path), "-i", "oq-45.2", "--id", "pid", "--time", "month",
               "--encoding", "cp1252", "--out", str(out)])
    assert rc == 0
    assert len(pd.read_csv(out)) == len(df)


def test_cli_semicolon_options(tmp_path):
    df = oq_frame()
    path = tmp_path / "eu.txt"
    df.to_csv(path, sep="|", decimal=",", index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-i", "oq-45.2", "--sep", "|", "--decimal", ",",
                 "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == len(df)


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"   \n\n", "is empty"),
    (b"pid,oq_1,oq_2\n", "has a header (pid, oq_1, oq_2) but no data rows"),
    (b"oq_1,oq_1\n1,2\n", "the column name 'oq_1' occurs twice"),
    (b"a,b\n1,\x002\n", "NUL character in data row 1"),
])
def test_unreadable_files_name_the_file(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        read_responses(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_header_only_file_fails_the_score_command(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text(",".join(["pid"] + ITEMS) + "\n")
    rc = main(["score", str(path), "-i", "oq-45.2", "--out", str(tmp_path / "o.csv")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no data rows" in err and str(path) in err
    assert not (tmp_path / "o.csv").exists()


def test_corrupt_excel_and_parquet_are_named(tmp_path):
    for ext in ("xlsx", "parquet", "sav"):
        path = tmp_path / f"bad.{ext}"
        path.write_bytes(b"this is not a real file")
        with pytest.raises(DataValidationError, match="cannot be read as"):
            read_responses(path)


def test_messages_show_data_rows_once_and_no_numpy_reprs():
    # DataIssue.row is the 1-based data row itself, as printed
    issue = DataIssue(np.int64(3), "oq_1", np.int64(9), "outside the response scale")
    assert str(issue) == "data row 3, column 'oq_1', value 9: outside the response scale"
    assert issue.data_row == 3 and issue.position == 2
    err = DataValidationError("Bad.", [issue, DataIssue(5, "oq_2", np.float64(7.0), "x")])
    assert str(err).count(ROW_NUMBERING) == 1
    assert "np." not in str(err)
    assert list(err.to_frame()["data_row"]) == [3, 5]


def test_cli_writes_all_issues_to_a_file_it_names(tmp_path, capsys, monkeypatch):
    df = oq_frame(n=30)
    df["oq_1"] = 9
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-i", "oq-45.2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    listed = tmp_path / "scores_issues.csv"
    assert f"all of them are listed in {listed}" in err
    assert "exception's .issues" not in err and "result.issues" not in err
    assert "--invalid missing" in err and "invalid='missing'" not in err
    table = pd.read_csv(listed)
    assert len(table) == 30 and list(table["data_row"]) == list(range(1, 31))
