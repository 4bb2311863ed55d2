"""The YAML design: validation with field paths, cells, fingerprint."""
import pytest

from psychometrics.power import PowerDesignError, load_design

BASE = {"seed": 1, "replications": 10, "fixed": {"n_months": 6},
        "grid": {"n_patients": [20, 40], "icc": [0.1, 0.2, 0.3]}}


def test_cells_cross_the_grid_last_axis_fastest(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("seed: 1\nreplications: 10\nfixed: {n_months: 6}\n"
                    "grid:\n  n_patients: [20, 40]\n  icc: [0.1, 0.2, 0.3]\n", encoding="utf-8")
    d = load_design(path)
    cells = d.cells()
    assert [c.values for c in cells][:4] == [{"n_patients": 20, "icc": 0.1},
                                             {"n_patients": 20, "icc": 0.2},
                                             {"n_patients": 20, "icc": 0.3},
                                             {"n_patients": 40, "icc": 0.1}]
    assert [c.index for c in cells] == list(range(6))
    assert cells[5].params().n_months == 6 and cells[5].params().icc == 0.3
    assert d.analysis.type == "progress" and d.analysis.effect_names() == (
        "within", "between", "contextual")
    assert load_design(BASE).fingerprint() == d.fingerprint()
    assert load_design({**BASE, "seed": 2}).fingerprint() != d.fingerprint()


@pytest.mark.parametrize("change, message", [
    ({"replicatons": 5}, "replicatons: Extra inputs are not permitted"),
    ({"replications": 0}, "replications: Input should be greater than or equal to 1"),
    ({"grid": {"n_patients": [20, 20]}}, "grid axis 'n_patients' repeats a value"),
    ({"grid": {"n_months": [4]}}, r"\['n_months'\] are in both 'fixed' and 'grid'"),
    ({"grid": {"dropout": [0.0, 1.5]}}, r"cell 1 \{'dropout': 1.5\}: .*'dropout' is a monthly"),
    ({"grid": {"nn": [1]}}, r"Unknown design parameter\(s\) \['nn'\]"),
    ({"analysis": {"type": "latent"}}, "latent progress model .* is not offered"),
    ({"analysis": {"type": "mixed"}}, "analysis type 'mixed' needs a 'formula'"),
    ({"analysis": {"type": "mixed", "formula": "y ~ x + (1 | id)", "effects": {"slope": "x"}}},
     "effect 'slope' has no true value"),
    ({"analysis": {"type": "progress", "formula": "y ~ x + (1 | id)"}},
     "'formula' and 'effects' belong to analysis type 'mixed'"),
])
def test_invalid_designs_name_the_field(change, message):
    with pytest.raises(PowerDesignError, match=message):
        load_design({**BASE, **change})


def test_bad_files_are_named(tmp_path):
    with pytest.raises(PowerDesignError, match="Cannot read the design file .*nope.yaml"):
        load_design(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1\n", encoding="utf-8")
    with pytest.raises(PowerDesignError, match="bad.yaml' cannot be used: line 2: malformed YAML"):
        load_design(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(PowerDesignError, match="must be a YAML mapping of fields"):
        load_design(lst)


def test_simulator_generator_takes_simulation_fields():
    d = load_design({"generator": "simulator", "seed": 1, "replications": 2,
                     "fixed": {"n_months": 5}, "grid": {"gamma_within": [0.0, -4.0]}})
    p = d.cells()[1].params()
    assert (p.sessions_min, p.sessions_max, p.gamma_within) == (5, 5, -4.0)
    assert d.cells()[1].truth() == {"within": -4.0, "between": -1.0, "contextual": 3.0}
    with pytest.raises(PowerDesignError, match="Unknown simulation parameter"):
        load_design({"generator": "simulator", "seed": 1, "replications": 2,
                     "fixed": {"dropout": 0.1}})


def test_shipped_example_design_is_valid():
    from pathlib import Path

    d = load_design(Path(__file__).resolve().parents[2] / "examples" / "power_design.yaml")
    assert len(d.cells()) == 8 and d.axes == ("n_patients", "n_months")
    p = d.cells()[0].params()
    assert (p.n_patients, p.n_months, p.within, p.between) == (40, 6, -4.0, -4.0)
