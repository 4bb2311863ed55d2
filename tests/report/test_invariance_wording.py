"""The invariance section describes the levels it fitted, and its table note names only the
columns the table has."""
import warnings

from psychometrics.report import load_study
from psychometrics.report.run import run_study
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset


def test_longitudinal_invariance_text_follows_the_fitted_levels(tmp_path):
    data = example_subset(60)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(
        analyses="  invariance: {instrument: pear, times: [1, 2], levels: [configural, metric]}\n"),
        encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    sec = {s.key: s for s in build_sections(results)}["invariance"]
    (table,) = sec.tables
    assert list(table.data["model"]) == ["configural", "metric"]
    texts = [getattr(b, "text", "") for b in sec.blocks]
    method = next(t for t in texts if t.startswith("*Method.*"))
    assert "(configural, then equal loadings), compared by" in method
    assert "intercepts" not in method and "occasions, (" not in method
    intro = next(t for t in texts if "not treated as independent groups" in t)
    assert intro.endswith("to the previous one: metric (loadings).")
    assert "strict" not in intro and "scalar" not in intro
    # the table has CFI, RMSEA (no interval) and SRMR, but no TLI
    assert "TLI" not in table.note and "confidence interval" not in table.note
    assert "SRMR = standardised root mean square residual" in table.note
