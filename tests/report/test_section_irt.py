"""The IRT section (``analyses: irt:``) carries exactly the numbers of psychometrics.irt
(APA-rounded), recomputed here by calling the module directly."""
import warnings

import numpy as np
import pytest

from psychometrics import irt
from psychometrics.report import apa, load_study
from psychometrics.report.run import run_study, select_occasion
from psychometrics.report.sections import build_sections
from psychometrics.report.sections.irt import params_frame

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: false
  irt: {instruments: [pear], dif_group: sex}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("irt")
    data = example_subset(150)
    data["sex"] = np.where(data["patient_id"].astype("category").cat.codes % 2 == 0, "f", "m")
    data.to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    study = load_study(d / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    return data, study, results, {s.key: s for s in build_sections(results)}


def _direct(built):
    data, study, results, _ = built
    block = select_occasion(study, results.data, "pear", "first").dropna(how="all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = irt.fit_irt(block)
    return block, fit


def test_section_tables_and_figure(built):
    _, _, results, secs = built
    assert results.get("irt").ok, results.get("irt").error
    sec = secs["irt"]
    keys = [t.key for t in sec.tables]
    assert keys == ["irt_params_pear", "irt_itemfit_pear", "irt_dif_pear"]
    assert [f.key for f in sec.figures] == ["irt_information_pear"]
    assert sec.figures[0].png[:4] == b"\x89PNG"


def test_parameters_equal_fit_irt(built):
    block, fit = _direct(built)
    t = built[3]["irt"].tables[0]
    ref = params_frame(fit)
    assert list(t.data["item"]) == list(ref["item"])
    cells = t.cells()
    for i, (_, r) in enumerate(ref.iterrows()):
        row = dict(zip([c.key for c in t.columns], cells[i]))
        assert row["a"] == apa.num(r["a"])
        assert row["se_a"] == apa.num(r["se_a"])
        assert row["b1"] == apa.num(r["b1"])
    # the paragraph reports the model's log-likelihood and marginal reliability
    from psychometrics.report.model import Paragraph
    text = " ".join(b.text for b in built[3]["irt"].blocks if isinstance(b, Paragraph))
    assert apa.num(fit.loglik) in text
    rel = irt.information(fit, np.linspace(-4, 4, 161)).marginal_reliability
    assert apa.bounded(rel) in text


def test_item_fit_and_dif_equal_module(built):
    data, _, _, secs = built
    block, fit = _direct(built)
    fr = irt.item_fit(fit).frame
    t = secs["irt"].tables[1]
    np.testing.assert_allclose(t.data["chisq"], fr["chisq"], rtol=1e-10)
    frame = block.assign(g=data.loc[block.index, "sex"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dif = irt.dif_ordinal(frame, "g", list(block.columns))
    t = secs["irt"].tables[2]
    np.testing.assert_allclose(t.data["chisq_12"], dif.frame["chisq_12"], rtol=1e-8)
    assert list(t.data["flagged"]) == ["yes" if f else "no" for f in dif.frame["flagged"]]


def test_missing_group_column_is_a_study_error(tmp_path):
    from psychometrics.exceptions import StudyFileError
    from psychometrics.report.run import load_data, preflight

    example_subset(20).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(
        STUDY.format(analyses="  irt: {instruments: [pear], dif_group: nosuch}\n"),
        encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with pytest.raises(StudyFileError, match="nosuch"):
        preflight(study, load_data(study))
