"""Validation of the simulator's parameters and arguments: each message names the culprit."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from psychometrics.exceptions import ModelSpecificationError, PsychometricsError
from psychometrics.simulate import SimulationParameterError, SimulationParams, replicate, simulate


def test_defaults_reproduce_the_r_generator():
    # tests/data/datasets/therapy_sim_params.json: THERAPY_PARAMS of sim_therapy_lib.R
    import json
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "datasets" / "therapy_sim_params.json"
    r = json.loads(path.read_text())["params"]
    ours = SimulationParams().to_dict()
    shared = set(r) - {"oq_digits"}  # the R generator rounds its OQ total; we simulate items
    for name in sorted(shared):
        np.testing.assert_allclose(np.asarray(ours[name], dtype=float),
                                   np.asarray(r[name], dtype=float), rtol=0, atol=0,
                                   err_msg=name)
    assert r["oq_digits"] == 1


def test_error_is_a_model_specification_error():
    assert issubclass(SimulationParameterError, ModelSpecificationError)
    assert issubclass(SimulationParameterError, ValueError)
    assert issubclass(SimulationParameterError, PsychometricsError)


@pytest.mark.parametrize("name", ["wai_between_sd", "wai_within_sd", "oq_err_sd", "oq_u_sd",
                                  "pear_item_err_sd", "oq_sub_occ_sd"])
def test_negative_sd(name):
    with pytest.raises(SimulationParameterError, match=rf"'{name}' is a standard deviation "
                                                       r"and must be >= 0\. Got -0\.1"):
        SimulationParams(**{name: -0.1})


def test_sessions_min_above_max():
    with pytest.raises(SimulationParameterError,
                       match=r"'sessions_min' \(12\) must not exceed 'sessions_max' \(5\)"):
        SimulationParams(sessions_min=12, sessions_max=5)


def test_sessions_min_below_one():
    with pytest.raises(SimulationParameterError, match=r"'sessions_min' must be at least 1"):
        SimulationParams(sessions_min=0)


@pytest.mark.parametrize("name", ["missing_rate", "session_miss_rate"])
@pytest.mark.parametrize("value", [1.0, -0.01, 1.5])
def test_rates_outside_unit_interval(name, value):
    with pytest.raises(SimulationParameterError,
                       match=rf"'{name}' is a probability and must lie in \[0, 1\)\. Got {value}"):
        SimulationParams(**{name: value})


def test_n_patients():
    with pytest.raises(SimulationParameterError, match=r"'n_patients' must be at least 1"):
        SimulationParams(n_patients=0)
    with pytest.raises(SimulationParameterError, match=r"'n_patients' must be an integer. Got 2\.5"):
        SimulationParams(n_patients=2.5)
    assert SimulationParams(n_patients=np.int64(7)).n_patients == 7


def test_nonfinite_and_non_numeric():
    with pytest.raises(SimulationParameterError, match=r"'wai_mu' must be a finite number"):
        SimulationParams(wai_mu=float("nan"))
    with pytest.raises(SimulationParameterError, match=r"'wai_trend' must be a number. Got '0.1'"):
        SimulationParams(wai_trend="0.1")


def test_ar_must_be_stationary():
    with pytest.raises(SimulationParameterError, match=r"'wai_within_ar' must lie in \(-1, 1\)"):
        SimulationParams(wai_within_ar=1.0)


def test_vector_lengths():
    with pytest.raises(SimulationParameterError,
                       match=r"'wai_loadings' must have 12 values \(one per WAI-SR item\)\. Got 11"):
        SimulationParams(wai_loadings=(1.0,) * 11)
    with pytest.raises(SimulationParameterError, match=r"'oq_discrimination' must have 45 values"):
        SimulationParams(oq_discrimination=(1.0,) * 44)


def test_oq_item_model_parameters():
    with pytest.raises(SimulationParameterError,
                       match=r"'oq_discrimination' must be positive; items \[3\]"):
        SimulationParams(oq_discrimination=(1.0, 1.0, 0.0) + (1.0,) * 42)
    with pytest.raises(SimulationParameterError, match=r"'oq_thresholds' must be strictly increasing"):
        SimulationParams(oq_thresholds=(-1.0, 0.0, 0.0, 1.0))


def test_several_problems_listed_at_once():
    with pytest.raises(SimulationParameterError) as exc:
        SimulationParams(wai_between_sd=-1, missing_rate=2)
    assert "'wai_between_sd'" in str(exc.value) and "'missing_rate'" in str(exc.value)


def test_unknown_parameter_name():
    with pytest.raises(SimulationParameterError, match=r"Unknown simulation parameter\(s\) "
                                                       r"\['n_patient'\]"):
        simulate(n_patient=10, seed=1)
    with pytest.raises(SimulationParameterError, match=r"\['bogus'\]"):
        SimulationParams.from_dict({"bogus": 1})


def test_params_frozen_and_replace_validates():
    p = SimulationParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_patients = 3
    assert p.replace(n_patients=3).n_patients == 3
    with pytest.raises(SimulationParameterError, match="'oq_err_sd'"):
        p.replace(oq_err_sd=-2)


def test_bad_seed():
    with pytest.raises(SimulationParameterError, match=r"'seed' argument must be a non-negative "
                                                       r"integer\. Got -1"):
        simulate(n_patients=5, seed=-1)
    with pytest.raises(SimulationParameterError, match=r"'seed' argument .* Got str 'abc'"):
        simulate(n_patients=5, seed="abc")


def test_bad_params_argument():
    with pytest.raises(SimulationParameterError, match=r"'params' argument must be a "
                                                       r"SimulationParams.*Got dict"):
        simulate({"n_patients": 5}, seed=1)


def test_replicate_arguments():
    with pytest.raises(SimulationParameterError, match=r"'n_rep' argument must be a positive "
                                                       r"integer\. Got 0"):
        replicate(0, seed=1)
    with pytest.raises(SimulationParameterError, match=r"'seed' argument of replicate"):
        replicate(2, seed=-3)
