"""What a new user read in the example report: the invariance section describes the levels it
fitted and the columns it shows, warnings and HTMT name factors in words, percentages carry
their sign, and `python -m psychometrics` runs the command line."""
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
    assert ("longitudinal confirmatory factor models (configural, then equal loadings; each one "
            "model over all occasions") in method and ") (" not in method
    assert "intercepts" not in method and "occasions, (" not in method
    intro = next(t for t in texts if "not treated as independent groups" in t)
    assert intro.endswith("to the previous one: metric (loadings).")
    assert "strict" not in intro and "scalar" not in intro
    # the table has CFI, RMSEA (no interval) and SRMR, but no TLI
    assert "TLI" not in table.note and "confidence interval" not in table.note
    assert "SRMR = standardised root mean square residual" in table.note


def test_improper_factor_correlations_are_named_in_plain_words():
    from psychometrics.report.sections._common import plain_warning
    raw = ("NotPositiveDefiniteWarning: The latent covariance matrix (psi) is not positive "
           "definite: correlation 'task_t6' with 'bond_t6' = 1.119, 'task_t6' with 'goal_t6' "
           "= 1.002.")
    assert plain_warning(raw) == (
        "The estimated factor correlations task_t6 with bond_t6 (1.119) and task_t6 with "
        "goal_t6 (1.002) exceed 1 in absolute value: the factor covariance matrix is not "
        "proper and these factors cannot be told apart.")
    one = plain_warning("NotPositiveDefiniteWarning: The latent covariance matrix (psi) of group "
                        "'B' is not positive definite: correlation 'f1' with 'f2' = -1.05.")
    assert one.startswith("In group B, the estimated factor correlation f1 with f2 (-1.05) "
                          "exceeds 1")


def test_boundary_components_agree_in_number():
    from psychometrics.report.sections._common import plain_warning
    head = ("SingularFitWarning: Boundary (singular) fit of the crossed (id x time x items) "
            "model: the variance of ")
    tail = " is estimated as (nearly) 0, as lme4 would report."
    two = plain_warning(head + "['id:items', 'time:items']" + tail)
    assert "components id:items and time:items of the multilevel reliability model were " \
           "estimated as zero" in two and "use them are" in two
    one = plain_warning(head + "['time:items']" + tail)
    assert "component time:items of the multilevel reliability model was estimated" in one
    assert "use it are" in one


def test_clinical_classes_sentence_shows_percent_signs(tmp_path):
    import re
    data = example_subset(40)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(
        analyses="  clinical_significance: {scale: oq.total, norms: us}\n"), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(load_study(tmp_path / "study.yaml"), progress=None)
    sec = {s.key: s for s in build_sections(results)}["clinical"]
    text = next(b.text for b in sec.blocks if getattr(b, "text", "").startswith("*Results.*"))
    shares = re.findall(r"\*n\* = \d+ \(([^)]*)\)", text)
    assert len(shares) == 4 and all(re.fullmatch(r"\d+\.\d%", s) for s in shares), text


def test_htmt_table_names_factors_by_their_scales(tmp_path):
    data = example_subset(60)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(
        analyses="  scoring: true\n  validity: {scales: [pear.total, wai.total]}\n"),
        encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    sec = {s.key: s for s in build_sections(results)}["validity"]
    h = next(x for x in sec.tables if x.key == "validity_htmt")
    shown = [c for row in h.cells() for c in row[:2] if c]
    wai, pear = study.instrument("wai"), study.instrument("pear")
    want = {f"WAI-SR {wai.scales[s].name}" for s in ("task", "bond", "goal")} | \
           {f"PEAR {pear.scales[s].name}" for s in ("f1", "f2")}
    assert set(shown) == want
    assert not any("_" in c for c in shown)
    cor = next(x for x in sec.tables if x.key == "validity_correlations")
    assert "confidence intervals (not adjusted for multiple testing" in cor.note
    # HTMT uses every patient of the correlations: pairwise item correlations, and says so
    bundle = results.get("validity").result
    assert bundle.htmt.n_obs == bundle.n_patients
    assert (f"from the item correlations of these {bundle.n_patients} patients (each pair of "
            "items over the patients who answered both)") in h.note


def test_python_dash_m_runs_the_command_line():
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "psychometrics", "instruments", "list"],
                         capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "oq-45.2" in out.stdout and "wai-sr" in out.stdout


def test_listwise_warning_in_study_file_words():
    from psychometrics.report.sections._common import plain_warning
    text = plain_warning("DataQualityWarning: 79 of 150 patients miss an occasion or an item and "
                         "were left out (listwise); missing='ml' keeps them (FIML).")
    assert text.startswith("79 of 150 patients missed an occasion or an item")
    assert "missing: ml in the study file" in text and "='ml'" not in text


def test_factor_correlation_p_is_that_of_the_correlation(tmp_path):
    from psychometrics.report import apa
    from psychometrics.report.run import select_occasion
    from psychometrics.report.adapters import cfa_syntax
    from psychometrics.sem import fit

    data = example_subset(60)
    data.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "study.yaml").write_text(STUDY.format(analyses="  cfa: {instruments: [pear]}\n"),
                                         encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
        sec = {s.key: s for s in build_sections(results)}["cfa"]
        block = select_occasion(study, results.data, "pear", "first_complete")
        ref = fit(cfa_syntax(study.instrument("pear")), block)    # lavaan::cfa(model, d)
    std = ref.standardized_solution()                              # standardizedSolution(fit)
    row = std[(std.op == "~~") & (std.lhs == "f1") & (std.rhs == "f2")].iloc[0]
    est = ref.estimates
    cov = est[(est.op == "~~") & (est.lhs == "f1") & (est.rhs == "f2")].iloc[0]
    assert abs(cov["z"]) != abs(row["z"])           # the two Wald tests differ
    (t,) = [x for x in sec.tables if x.key.startswith("cfa_phi")]
    (cells,) = t.cells()
    assert cells[-1] == apa.pval(row["p_value"])
    assert "standardised correlation" in t.note
