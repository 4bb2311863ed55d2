"""``psychometrics simulate``."""
from __future__ import annotations

import json

import pandas as pd

from psychometrics.cli import main
from psychometrics.simulate import (EXAMPLE_CSV, EXAMPLE_TRUTH, SimulationParams, simulate,
                                    write_csv)


def test_cli_writes_csv_and_truth_json(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    rc = main(["simulate", "--patients", "25", "--seed", "9", "--missing", "0.03",
               "--out", str(out)])
    assert rc == 0
    expected = simulate(SimulationParams(n_patients=25, missing_rate=0.03), seed=9)
    assert out.read_bytes() == write_csv(expected.data).encode()
    record = json.loads((tmp_path / "sim_truth.json").read_text())
    assert record["seed"] == 9
    assert SimulationParams.from_dict(record["params"]) == expected.params
    assert "wrote" in capsys.readouterr().out


def test_cli_reproduces_the_shipped_example_from_its_record(tmp_path):
    out = tmp_path / "again.csv"
    record = json.loads(EXAMPLE_TRUTH.read_text())
    assert main(["simulate", "--params", str(EXAMPLE_TRUTH), "--seed", str(record["seed"]),
                 "--out", str(out)]) == 0
    assert out.read_bytes() == EXAMPLE_CSV.read_bytes()


def test_cli_missed_sessions_sessions_and_latent(tmp_path):
    out = tmp_path / "g.csv"
    assert main(["simulate", "--patients", "20", "--seed", "1", "--missed-sessions", "0.2",
                 "--sessions", "6", "8", "--latent", "--out", str(out)]) == 0
    pts = pd.read_csv(tmp_path / "g_latent_patients.csv")
    ses = pd.read_csv(tmp_path / "g_latent_sessions.csv")
    assert pts["n_months"].between(6, 8).all()
    assert len(ses) == pts["n_months"].sum()
    assert len(pd.read_csv(out)) == ses["attended"].sum()


def test_cli_invalid_rate_reports_error(tmp_path, capsys):
    rc = main(["simulate", "--patients", "5", "--seed", "1", "--missing", "1.5",
               "--out", str(tmp_path / "x.csv")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "'missing_rate' is a probability and must lie in [0, 1). Got 1.5" in err
    assert not (tmp_path / "x.csv").exists()


def test_cli_bad_params_file(tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    rc = main(["simulate", "--params", str(bad), "--out", str(tmp_path / "x.csv")])
    assert rc == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_cli_unwritable_output(tmp_path, capsys):
    rc = main(["simulate", "--patients", "3", "--seed", "1",
               "--out", str(tmp_path / "no" / "such" / "dir" / "x.csv")])
    assert rc == 2
    assert "Cannot write the CSV file" in capsys.readouterr().err
