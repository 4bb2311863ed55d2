"""``score`` on a directory of parquet files, one row group (partition) at a time."""
import numpy as np
import pandas as pd
import pytest

import psychometrics.scoring.partitioned as part
from psychometrics.cli import main
from psychometrics.exceptions import DataValidationError, PsychometricsError
from psychometrics.scoring import score
from psychometrics.simulate import simulate

OQ = [f"oq_{j}" for j in range(1, 46)]


@pytest.fixture(scope="module")
def oq_data():
    d = simulate(seed=4, n_patients=50, missing_rate=0.05).data
    return d[["patient_id", "month", *OQ]].reset_index(drop=True)


def _write(df, root, n_files=3, row_group_size=70):
    root.mkdir()
    for k, idx in enumerate(np.array_split(np.arange(len(df)), n_files)):
        df.iloc[idx].to_parquet(root / f"f{k}.parquet", row_group_size=row_group_size, index=False)
    return root


def test_same_scores_and_counts_as_scoring_everything_at_once(oq_data, tmp_path, monkeypatch):
    src = _write(oq_data, tmp_path / "in")
    seen = []
    real = part.score

    def spy(df, *a, **k):
        seen.append(len(df))
        return real(df, *a, **k)

    monkeypatch.setattr(part, "score", spy)
    res = part.score_parquet_dir(src, "oq-45.2", tmp_path / "out", id="patient_id", time="month")
    whole = score(oq_data, "oq-45.2", id="patient_id", time="month")
    # one row group at a time: never more than 70 rows in memory for scoring
    assert max(seen) == 70 and sum(seen) == len(oq_data) == res.n_rows_in == res.n_rows_out
    assert res.n_partitions == len(seen)
    got = pd.read_parquet(tmp_path / "out")
    got = got.sort_values(["source_file", "source_row"]).reset_index(drop=True)
    # source_file/source_row point back at each input row
    sizes = [len(i) for i in np.array_split(np.arange(len(oq_data)), 3)]
    offset = {f"f{k}.parquet": sum(sizes[:k]) for k in range(3)}
    pos = got["source_file"].map(offset) + got["source_row"]
    assert pos.tolist() == list(range(len(oq_data)))
    expected = whole.scores.reset_index(drop=True)
    pd.testing.assert_frame_equal(got.drop(columns=["source_file", "source_row"]), expected,
                                  check_dtype=False, check_categorical=False)
    pd.testing.assert_frame_equal(res.table, whole.status_counts(), check_dtype=False)
    assert res.issues_out is None
    text = res.summary().as_text()
    assert f"Scored {len(oq_data)} of {len(oq_data)} row(s) of oq-45.2" in text
    pd.testing.assert_frame_equal(res.to_frame(), res.table)


def test_bad_cells_raise_with_file_and_row_and_nothing_is_written(oq_data, tmp_path):
    bad = oq_data.copy()
    row = len(np.array_split(np.arange(len(bad)), 3)[0]) + 5   # file f1, row 5
    bad.loc[row, "oq_3"] = 9
    src = _write(bad, tmp_path / "in")
    with pytest.raises(DataValidationError, match=r"f1.parquet row 5, column 'oq_3', value 9"):
        part.score_parquet_dir(src, "oq-45.2", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
    res = part.score_parquet_dir(src, "oq-45.2", tmp_path / "out", invalid="missing")
    iss = pd.read_parquet(res.issues_out)
    assert res.n_issues == 1 and len(iss) == 1
    assert (iss.loc[0, "source_file"], iss.loc[0, "source_row"], iss.loc[0, "column"]) == (
        "f1.parquet", 5, "oq_3")
    assert res.n_rows_out == len(bad)


def test_duplicates_across_files(oq_data, tmp_path):
    dup = pd.concat([oq_data, oq_data.iloc[[0]]], ignore_index=True)  # row 0 again, last file
    src = _write(dup, tmp_path / "in")
    with pytest.raises(DataValidationError, match=r"patient_id=1, month=1.*occurs 2 times"):
        part.score_parquet_dir(src, "oq-45.2", tmp_path / "out", id="patient_id", time="month")
    res = part.score_parquet_dir(src, "oq-45.2", tmp_path / "out", id="patient_id",
                                 time="month", invalid="missing")
    assert res.n_duplicate_keys == 1 and res.n_rows_out == len(dup)
    d = pd.read_parquet(res.issues_out / "duplicates.parquet")
    assert d[["patient_id", "month", "n_rows"]].values.tolist() == [[1, 1, 2]]


def test_errors_for_bad_directories(tmp_path, oq_data):
    with pytest.raises(PsychometricsError, match="is not a directory"):
        part.score_parquet_dir(tmp_path / "none", "oq-45.2", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PsychometricsError, match="holds no \\*.parquet files"):
        part.score_parquet_dir(tmp_path / "empty", "oq-45.2", tmp_path / "out")
    src = _write(oq_data, tmp_path / "in")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(PsychometricsError, match="exists and is not empty"):
        part.score_parquet_dir(src, "oq-45.2", tmp_path / "full")


def test_cli_scores_a_directory(oq_data, tmp_path, capsys):
    src = _write(oq_data, tmp_path / "in")
    assert main(["score", str(src), "-i", "oq-45.2", "--id", "patient_id", "--time", "month",
                 "--out", str(tmp_path / "scores")]) == 0
    out = capsys.readouterr().out
    assert f"{len(oq_data)} of {len(oq_data)} rows scored" in out
    assert len(pd.read_parquet(tmp_path / "scores")) == len(oq_data)
    assert main(["score", str(src), "-i", "oq-45.2", "--impute", "item_mean",
                 "--out", str(tmp_path / "s2")]) == 2
    assert "item means need all rows" in capsys.readouterr().err
