"""Sections built from the analysis modules' results carry exactly their numbers
(APA-rounded): each number is recomputed here by calling the module directly."""
import warnings

import numpy as np
import pytest

from psychometrics.report import apa, load_study
from psychometrics.report.run import run_study, select_occasion
from psychometrics.report.sections import build_sections

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  descriptives: true
  reliability: {instruments: [wai, pear], multilevel: false}
  efa: {instruments: [wai], parallel_iterations: 5}
  clinical_significance: {scale: oq.total, norms: us}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("mod")
    data = example_subset(40)
    data.to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    study = load_study(d / "study.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_study(study, progress=None)
    return data, study, results, {s.key: s for s in build_sections(results)}


def _row(table, **match):
    """The formatted cells of the one row matching ``match``, keyed by header and by
    column key (headers may repeat, e.g. two "95% CI" columns)."""
    mask = np.ones(len(table.data), dtype=bool)
    for k, v in match.items():
        mask &= (table.data[k] == v).to_numpy()
    (i,) = np.flatnonzero(mask)
    cells = table.cells()[i]
    out = dict(zip(table.headers, cells))
    out.update({c.key: v for c, v in zip(table.columns, cells)})
    return out


def _first(data, cols):
    return data.groupby("patient_id", sort=True).head(1)[cols]


def test_scoring_section_counts(built):
    from psychometrics.scoring import score

    data, study, results, secs = built
    t = secs["scoring"].tables[0]
    ref = score(data, "oq-45.2", id="patient_id", time="month").status_counts()
    for _, r in ref.iterrows():
        row = _row(t, instrument="OQ-45.2", scale=r["scale"])
        assert row["Complete"] == apa.integer(r["complete"])
        assert row["Imputed"] == apa.integer(r["imputed"])
        assert row["Missing"] == apa.integer(r["too_many_missing"])


def test_descriptives_section(built):
    from psychometrics.scoring import score

    data, study, results, secs = built
    t = secs["descriptives"].tables[0]
    sc = score(data, "wai-sr", id="patient_id", time="month").scores
    for scale in ("task", "bond", "goal", "total"):
        x = sc[scale].dropna()
        row = _row(t, instrument="wai", scale=scale)
        # psych::describe(scores)$mean, $sd
        assert row["M"] == apa.num(round(x.mean(), 2))
        assert row["SD"] == apa.num(round(x.std(ddof=1), 2))
        assert row["n"] == apa.integer(len(x))


def test_reliability_section_alpha_and_omega(built):
    from psychometrics.efa import omega
    from psychometrics.instruments import load_instrument
    from psychometrics.reliability import alpha

    data, study, results, secs = built
    t = secs["reliability"].tables[0]
    inst = load_instrument("wai-sr").with_form("standard")
    block = _first(data, list(inst.item_ids))
    for scale in ("task", "bond", "goal", "total"):
        items = list(inst.scale_items(scale))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = alpha(block[items])          # psych::alpha(x)$total$raw_alpha, Feldt CI
            o = omega(block[items], n_factors=3 if scale == "total" else 1)  # psych::omega
        row = _row(t, instrument="WAI-SR", scale=scale)
        assert row["\u03b1"] == apa.bounded(round(a.total["raw_alpha"].iloc[0], 2))
        ci = a.confidence_intervals.loc["feldt"]
        assert row["alpha_ci"] == f"[{apa.bounded(ci['ci_lower'])}, {apa.bounded(ci['ci_upper'])}]"
        assert row["\u03c9t"] == apa.bounded(round(o.omega_total, 2))
        if scale == "total":
            assert row["\u03c9h"] == apa.bounded(o.omega_h)
        else:
            assert row["\u03c9h"] == apa.EMPTY
    # the table's source values are the result objects' values, unrounded
    b = results.outcomes["reliability"].result["wai"]
    np.testing.assert_array_equal(
        t.data[t.data["instrument"] == "WAI-SR"]["alpha"].to_numpy(),
        b.internal.table["raw_alpha"].to_numpy())


def test_efa_section_loadings(built):
    from psychometrics.efa import fa, kmo

    data, study, results, secs = built
    sec = secs["efa"]
    b = results.outcomes["efa"].result["wai"]
    block = select_occasion(study, results.data, "wai", "first").dropna(how="all")
    ref = fa(block, b.n_factors, method="minres",
             rotation="oblimin" if b.n_factors > 1 else "none")   # psych::fa
    (t,) = [x for x in sec.tables if x.key == "efa_loadings_wai"]
    for item in ref.loadings.index:
        row = _row(t, item=item)
        for f in ref.loadings.columns:
            assert row[f] == apa.bounded(ref.loadings.loc[item, f])
        assert row["h\u00b2"] == apa.bounded(ref.communalities[item])
    text = [b for b in sec.blocks if getattr(b, "kind", None) == "text"][0].text  # after drafts
    assert f"KMO = {apa.bounded(kmo(block).msa)}" in text
    assert len(sec.figures) == 1


def test_clinical_section_classes(built):
    from psychometrics.scoring import clinical_significance, score

    data, study, results, secs = built
    ref = clinical_significance(score(data, "oq-45.2", id="patient_id", time="month"),
                                scale="total", norms="us").class_counts()
    t = secs["clinical"].tables[0]
    for _, r in ref.iterrows():
        row = _row(t, **{"class": r["class"]})
        assert row["n"] == apa.integer(r["n"])
        assert row["%"] == apa.percent(r["share"])


def test_missing_module_parts_are_reported_not_dropped(built):
    # sem (omega from a CFA) or multilevel may be absent: the section then says so
    data, study, results, secs = built
    b = results.outcomes["reliability"].result["wai"]
    texts = " ".join(getattr(x, "text", "") for x in secs["reliability"].blocks)
    for part, msg in b.errors.items():
        assert msg in texts
