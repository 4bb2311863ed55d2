"""``psychometrics power``: design file in, summary, table, figure and parquet files out."""
import pandas as pd
import pytest

from psychometrics.cli import main
from psychometrics.power import load_design
from psychometrics.power.results import PowerResult

DESIGN = """\
seed: 11
replications: 6
target_power: 0.5
fixed: {n_months: 4, within: -8.0}
grid:
  n_patients: [8, 16]
analysis:
  type: mixed
  formula: "y_lead ~ x_within + x_between_c + y + (1 | id)"
"""


def test_cli_writes_table_figure_and_cells(tmp_path, capsys):
    d = tmp_path / "design.yaml"
    d.write_text(DESIGN, encoding="utf-8")
    out = tmp_path / "out"
    fig = tmp_path / "curve.png"
    assert main(["power", str(d), "--out", str(out), "--workers", "1", "--no-progress",
                 "--figure", str(fig)]) == 0
    text = capsys.readouterr().out
    assert "Monte Carlo power analysis" in text and "Smallest design reaching power 0.5" in text
    table = pd.read_csv(out / "power.csv")
    assert table.shape[0] == 2 * 3 and set(table["n_patients"]) == {8, 16}
    assert sorted(p.name for p in (out / "cells").iterdir()) == ["cell_000000.parquet",
                                                                 "cell_000001.parquet"]
    assert fig.stat().st_size > 5000 and fig.read_bytes()[:4] == b"\x89PNG"
    # rerun: resumed, same table
    assert main(["power", str(d), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "0 cell(s) run, 2 resumed from disk" in capsys.readouterr().out
    pd.testing.assert_frame_equal(table, pd.read_csv(out / "power.csv"))


def test_cli_bad_design_is_a_clear_error(tmp_path, capsys):
    d = tmp_path / "design.yaml"
    d.write_text("seed: 1\nreplications: 2\nfixed: {dropuot: 0.1}\n", encoding="utf-8")
    assert main(["power", str(d), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "design file" in err and "Unknown design parameter(s) ['dropuot']" in err


def _result(power):
    design = load_design({"seed": 1, "replications": 100,
                          "grid": {"n_patients": [20, 40, 80], "n_months": [4, 8]}})
    rows = []
    for c in design.cells():
        p = power[c.index]
        rows.append({"cell": c.index, **c.values, "effect": "within", "power": p,
                     "power_mcse": (p * (1 - p) / 100) ** 0.5,
                     "n_planned": c.values["n_patients"] * c.values["n_months"]})
    return PowerResult(design=design, table=pd.DataFrame(rows), replications=pd.DataFrame())


def test_smallest_design_minimises_planned_assessments():
    # cells: (20,4) (20,8) (40,4) (40,8) (80,4) (80,8); costs 80 160 160 320 320 640
    res = _result([0.30, 0.70, 0.82, 0.95, 0.97, 0.99])
    best = res.smallest_design("within", 0.8)
    assert (best["n_patients"], best["n_months"]) == (40, 4)
    # conservative: 0.82 - 1.96 * 0.0384 < 0.8, so the next cheapest that clears it (cost 320,
    # the higher power of the tie wins)
    best = res.smallest_design("within", 0.8, conservative=True)
    assert (best["n_patients"], best["n_months"]) == (80, 4)
    assert res.smallest_design("within", 0.999) is None
    best = res.smallest_design("within", 0.6, cost="n_patients")
    assert (best["n_patients"], best["n_months"]) == (20, 8)
    with pytest.raises(Exception, match="No effect 'slope'"):
        res.smallest_design("slope")
