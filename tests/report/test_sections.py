"""Each section's tables carry the numbers of the result objects (APA-rounded)."""
import numpy as np
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_report, build_sections

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai, pear]}
"""


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    
    d = tmp_path_factory.mktemp("sec")
    data = example_subset(30)
    data.to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    results = run_study(load_study(d / "study.yaml"), progress=None)
    return data, results, {s.key: s for s in build_sections(results)}


def test_sample_section(sections):
    data, results, secs = sections
    r = results.outcomes["sample"].result
    assert r.n_patients == data["patient_id"].nunique() == 30
    assert r.n_sessions == len(data)
    per_time, missing = secs["sample"].tables
    assert [row[1] for row in per_time.cells()] == [
        apa.integer(n) for n in data.groupby("month")["patient_id"].nunique()]
    wai_cols = [f"wai_{i}" for i in range(1, 13)]
    row = missing.cells()[0]
    assert row[0] == "WAI-SR"
    assert row[3] == apa.percent(data[wai_cols].isna().to_numpy().mean())
    assert row[4] == apa.percent(data[wai_cols].isna().any(axis=1).mean())
    text = secs["sample"].blocks[0].text
    assert f"*M* = {apa.num(data.groupby('patient_id').size().mean())}" in text


def test_item_distribution_section(sections):
    data, results, secs = sections
    wai_table = secs["items"].tables[0]
    cells = wai_table.cells()
    for k, item in enumerate(f"wai_{i}" for i in range(1, 13)):
        x = data[item].dropna()
        assert cells[k][0] == item
        assert cells[k][1] == apa.integer(len(x))
        # psych::describe(x)$mean, $sd
        assert cells[k][2] == apa.num(round(x.mean(), 2))
        assert cells[k][3] == apa.num(round(x.std(ddof=1), 2))
        assert cells[k][7] == apa.percent((x == 1).mean())
        assert cells[k][8] == apa.percent((x == 5).mean())
    r = results.outcomes["item_distributions"].result["wai"]
    # skew/kurtosis as psych::describe (type 3)
    x = data["wai_1"].dropna().to_numpy()
    n, d = len(x), x - x.mean()
    g1 = (d ** 3).mean() / (d ** 2).mean() ** 1.5
    np.testing.assert_allclose(r.summary.loc[0, "skew"], g1 * ((n - 1) / n) ** 1.5, rtol=1e-12)
    assert len(secs["items"].figures) == 2


def test_sections_of_analyses_not_requested_are_absent(sections):
    _, _, secs = sections
    assert "efa" not in secs and "cfa" not in secs and "progress" not in secs


def test_item_descriptives_equal_psych_describe():
    import json
    from pathlib import Path

    from psychometrics.report.describe import item_distributions

    from .conftest import example_subset

    ref = json.loads((Path(__file__).resolve().parents[1] / "data" / "r_results" / "report" /
                      "describe.json").read_text())
    data = example_subset(30)
    r = item_distributions(data, {i: i for i in ref["items"]}, "wai", "WAI-SR", 1, 5).summary
    # psych::describe(d[, items], type = 3)$n, $mean, $sd, $skew, $kurtosis
    np.testing.assert_array_equal(r["n"].to_numpy(), ref["n"])
    np.testing.assert_allclose(r["mean"].to_numpy(), ref["mean"], rtol=1e-10)
    np.testing.assert_allclose(r["sd"].to_numpy(), ref["sd"], rtol=1e-10)
    np.testing.assert_allclose(r["skew"].to_numpy(), ref["skew"], rtol=1e-10)
    np.testing.assert_allclose(r["kurtosis"].to_numpy(), ref["kurtosis"], rtol=1e-10)


def test_a_study_with_only_the_sample(study_dir):
    # every other section is absent (not requested), none fails
    from .conftest import STUDY

    text = STUDY.format(analyses="  scoring: false\n")
    results = run_study(load_study(study_dir(text=text)), progress=None)
    secs = build_sections(results)
    assert [s.key for s in secs] == ["sample"]
    assert [s.key for s in build_report(results).supplement] == ["reproducibility"]
    assert all(s.error is None for s in secs)
