"""The ``psychometrics efa`` command group (registered through register(subparsers))."""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from psychometrics.efa import cli
from psychometrics.exceptions import DataValidationError
from psychometrics.instruments import parse_bank

DATA = Path(__file__).parents[1] / "data" / "datasets"


def run(argv):
    parser = argparse.ArgumentParser(prog="psychometrics")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_fit_prints_summary_and_writes_loadings(capsys, tmp_path):
    out = tmp_path / "loadings.csv"
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    assert run(["efa", "fit", str(DATA / "bfi.csv"), "--items", *items, "-k", "2",
                "--method", "ml", "--loadings-csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "maximum likelihood" in text and "RMSEA" in text
    long = pd.read_csv(out)
    assert list(long.columns) == ["item", "factor", "loading", "structure"]
    assert len(long) == 20


def test_adequacy_and_omega(capsys):
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    assert run(["efa", "adequacy", str(DATA / "bfi.csv"), "--items", *items, "--n-iter", "3",
                "--seed", "1"]) == 0
    text = capsys.readouterr().out
    for word in ("overall MSA", "Bartlett", "Velicer", "Parallel analysis"):
        assert word in text
    assert run(["efa", "omega", str(DATA / "bfi.csv"), "--items", *items]) == 0
    assert "omega_h" in capsys.readouterr().out


def test_short_form_into_bank(capsys, tmp_path):
    out = tmp_path / "wai.yaml"
    items = [f"wai_{i}" for i in range(1, 13)]
    assert run(["efa", "short-form", str(DATA / "therapy_sim.csv"), "--items", *items,
                "-k", "3", "--per-factor", "2", "--min-loading", "0.3", "--bank", "wai-sr",
                "--form-id", "efa_short", "--output", str(out)]) == 0
    assert "efa_short" in parse_bank(out.read_text(encoding="utf-8")).forms


def test_missing_file_and_columns_are_named(tmp_path):
    with pytest.raises(DataValidationError, match="does not exist"):
        cli.read_table(str(tmp_path / "nope.csv"))
    with pytest.raises(DataValidationError, match="no column.*XYZ"):
        cli.read_table(str(DATA / "bfi.csv"), ["A1", "XYZ"])


@pytest.mark.parametrize("method, label", [("wls", "weighted least squares"),
                                           ("gls", "generalised least squares")])
def test_fit_accepts_wls_and_gls(capsys, method, label):
    # psychometrics efa fit DATA -k 2 --method wls  (psych::fa(x, 2, fm = "wls"))
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    from psychometrics.exceptions import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="not a minimum"):
        assert run(["efa", "fit", str(DATA / "bfi.csv"), "--items", *items, "-k", "2",
                    "--method", method]) == 0
    assert label in capsys.readouterr().out
