"""``psychometrics irt fit`` end to end on a CSV file."""
from __future__ import annotations

import pandas as pd

from psychometrics.cli import main
from refdata import DATASETS


def test_irt_fit_cli(tmp_path, capsys):
    src = pd.read_csv(DATASETS / "bfi.csv")[["N1", "N2", "N3", "N4", "N5"]].iloc[:800]
    data = tmp_path / "n.csv"
    src.to_csv(data, index=False)
    rc = main(["irt", "fit", str(data), "--params", str(tmp_path / "p.csv"),
               "--scores", str(tmp_path / "s.csv"),
               "--sum-score-table", str(tmp_path / "t.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "Converged: True" in out
    assert len(pd.read_csv(tmp_path / "p.csv")) == 30
    scores = pd.read_csv(tmp_path / "s.csv")
    assert len(scores) == src.notna().any(axis=1).sum()
    assert len(pd.read_csv(tmp_path / "t.csv")) == 26


def test_irt_fit_cli_bad_file(tmp_path, capsys):
    rc = main(["irt", "fit", str(tmp_path / "nope.csv")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
