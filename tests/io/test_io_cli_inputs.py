"""Command-line input handling: nothing analysed or dropped silently (issue 12, hole 5)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychometrics.cli import main

WAI = [f"wai_{i}" for i in range(1, 13)]


def therapy(n_patients=60, months=3, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        u = rng.normal()
        for m in range(1, months + 1):
            r = {"patient_id": 1000 + p, "month": m}
            for k, c in enumerate(WAI):
                r[c] = int(np.clip(np.round(3 + u + rng.normal(scale=0.8)), 1, 5))
            r["oq_total"] = float(70 - 5 * u + rng.normal(scale=3))
            rows.append(r)
    return pd.DataFrame(rows)


def test_efa_omega_leaves_id_time_and_outcome_out(tmp_path, capsys):
    path = tmp_path / "d.csv"
    therapy().to_csv(path, index=False)
    assert main(["efa", "omega", str(path), "-k", "2"]) == 0
    cap = capsys.readouterr()
    assert "Analysing 12 item column(s); left out 3" in cap.err
    for c in ("patient_id", "month", "oq_total"):
        assert c in cap.err
        assert c not in cap.out
    assert "wai_1" in cap.out


def test_efa_with_instrument_uses_its_items(tmp_path, capsys):
    path = tmp_path / "d.csv"
    therapy().to_csv(path, index=False)
    assert main(["efa", "adequacy", str(path), "-i", "wai-sr", "--n-iter", "3",
                 "--seed", "1"]) == 0
    cap = capsys.readouterr()
    assert "left out" not in cap.err and "overall MSA" in cap.out


def test_item_column_with_no_responses_is_named(tmp_path, capsys):
    d = therapy()
    d["wai_5"] = np.nan
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    rc = main(["score", str(path), "-i", "wai-sr", "--id", "patient_id", "--time", "month",
               "--out", str(tmp_path / "s.csv")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: 1 item column(s) have no response in any of the 180 rows: wai_5" in err


def test_reliability_cli_warns_about_repeated_assessments(tmp_path, capsys):
    path = tmp_path / "d.csv"
    therapy().to_csv(path, index=False)
    assert main(["reliability", str(path), "-i", "wai-sr"]) == 0
    err = capsys.readouterr().err
    assert "'patient_id' looks like a patient id and has 180 rows for 60 patients" in err
    assert main(["reliability", str(path), "-i", "wai-sr", "--id", "patient_id",
                 "--time", "month"]) == 0
    cap = capsys.readouterr()
    assert "using each patient's first assessment (60 rows, 120 left out)" in cap.err
