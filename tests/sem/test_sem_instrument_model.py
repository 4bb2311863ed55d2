"""CFA syntax from item banks (cfa_model) and its fit against lavaan
(tests/data/r_scripts/sem/sem_instruments.R -> tests/data/r_results/sem/sem_instruments.json)."""
from __future__ import annotations

import pytest

import psychometrics.sem as sem
from psychometrics.exceptions import ModelSpecificationError, NotPositiveDefiniteWarning
from psychometrics.sem.instrument_model import cfa_model

from sem_helpers import check_fit_measures, check_parameter_estimates, load_csv, load_json


@pytest.fixture(scope="module")
def ref():
    return load_json("r_results/sem/sem_instruments.json")


@pytest.mark.parametrize("key, form", [("wai_sr_standard", None), ("wai_sr_two_factor", "two_factor")])
def test_syntax_and_fit(ref, key, form):
    text = cfa_model("wai-sr", form)
    # the statements are exactly the model lavaan was given
    statements = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert statements == ref[key]["model"].splitlines()
    # cfa(model, data = therapy_sim); lavaan warns that the latent covariance matrix is not
    # positive definite (the data were simulated with one alliance factor: correlations > 1)
    with pytest.warns(NotPositiveDefiniteWarning, match=r"latent covariance matrix.*correlation"):
        res = sem.fit(text, load_csv("therapy_sim"))
    check_parameter_estimates(res, ref[key]["parameterEstimates"], rtol_est=1e-4, rtol_se=1e-4,
                              check_labels=False)
    check_fit_measures(res, ref[key]["fitMeasures"], rtol=1e-5)


def test_higher_order_and_reverse_comment():
    text = cfa_model("wai-sr", higher_order=True)
    assert text.splitlines()[-1] == "total =~ task + bond + goal"
    assert "# reverse-keyed: wai_4, wai_10" in cfa_model("wai-s")


def test_overlapping_scales_rejected():
    from psychometrics.instruments import load_instrument
    inst = load_instrument("wai-sr")
    mixed = inst.scales["task"].model_copy(update={"items": ("wai_1", "wai_3"), "reverse": ()})
    bad = inst.model_copy(update={"forms": {}, "default_form": None,
                                  "scales": {"task": inst.scales["task"],
                                             "bond": inst.scales["bond"], "mixed": mixed}})
    with pytest.raises(ModelSpecificationError, match="'wai_1' belongs to scales 'task' and 'mixed'"):
        cfa_model(bad)


@pytest.mark.parametrize("bank, factors", [("oq-45.2", ["sd", "ir", "sr"]), ("pear", ["f1", "f2"]),
                                           ("wai-sr", ["task", "bond", "goal"])])
def test_factor_scales_are_the_factors_of_cfa_model(bank, factors):
    # one rule: the report's reliability and EFA sections take their factors from here
    assert sem.factor_scales(bank) == factors
    declared = [ln.split(" =~ ")[0] for ln in cfa_model(bank).splitlines() if " =~ " in ln]
    assert declared == factors


def test_omega_model_refuses_an_unknown_scale():
    with pytest.raises(ModelSpecificationError, match="not a scale of"):
        sem.omega_model("wai-sr", "alliance")
