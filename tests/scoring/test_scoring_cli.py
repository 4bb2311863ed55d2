"""The 'psychometrics score' command."""
import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from psychometrics.cli import main
from psychometrics.io import read_responses
from psychometrics.scoring import score

ITEMS = [f"oq_{i}" for i in range(1, 46)]


def data(tmp_path, bad=False):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 5, size=(8, 45)).astype(float)
    if bad:
        X[2, 0] = 9
    df = pd.DataFrame(X, columns=ITEMS)
    df.insert(0, "pid", np.arange(8) // 2)
    df.insert(1, "t", np.arange(8) % 2)
    path = tmp_path / "in.csv"
    df.to_csv(path, index=False)
    return df, path


def test_score_command_writes_scores_and_clinical(tmp_path, capsys):
    df, path = data(tmp_path)
    out = tmp_path / "out.xlsx"
    rc = main(["score", str(path), "--instrument", "oq-45.2", "--id", "pid", "--time", "t",
               "--norms", "us", "--out", str(out)])
    assert rc == 0
    got = read_responses(out)
    want = score(df, "oq-45.2", id="pid", time="t").scores
    assert_allclose(got["total"].to_numpy(float), want["total"].to_numpy(), rtol=1e-12)
    clin = read_responses(tmp_path / "out_clinical.xlsx")
    # the us norms give sd a cut-off but no reliable-change rule: sd is skipped, and said so
    assert set(clin["scale"]) == {"total"}
    assert len(clin) == 4 and list(clin["pid"]) == [0, 1, 2, 3]
    text = capsys.readouterr()
    assert "Scored 8 administration(s) of oq-45.2" in text.out
    assert "clinical significance of sd skipped" in text.err


def test_score_command_reports_bad_data(tmp_path, capsys):
    _, path = data(tmp_path, bad=True)
    rc = main(["score", str(path), "--instrument", "oq-45.2", "--out", str(tmp_path / "o.csv")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "data row 3, column 'oq_1', value 9.0" in err
    rc = main(["score", str(path), "--instrument", "oq-45.2", "--invalid", "missing",
               "--out", str(tmp_path / "o.csv")])
    assert rc == 0
    issues = pd.read_csv(tmp_path / "o_issues.csv")
    assert list(issues["column"]) == ["oq_1"] and list(issues["data_row"]) == [3]


def test_score_command_bad_argument(tmp_path, capsys):
    _, path = data(tmp_path)
    rc = main(["score", str(path), "--instrument", "oq-45.2", "--id", "nope",
               "--out", str(tmp_path / "o.csv")])
    assert rc == 2
    assert "'id' column 'nope' is not in the data" in capsys.readouterr().err
