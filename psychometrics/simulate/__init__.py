"""Simulated longitudinal psychotherapy data with known parameters.

Usage::

    from psychometrics.simulate import simulate, SimulationParams
    res = simulate(SimulationParams(n_patients=200, missing_rate=0.02), seed=1)
    res.data          # patient_id, month, wai_1..wai_12, pear_1..pear_10, oq_1..oq_45
    res.truth.patients, res.truth.sessions   # b_i, u_i; T_it, w_it, latent OQ total
    res.params        # the generating parameters

See :func:`simulate` (the full generating model is in its Notes),
:func:`replicate` (independent replications) and :func:`example_data` (the
shipped example CSV).
"""
from .generator import (STREAMS, SimulationResult, SimulationTruth, oq_expected_total, replicate,
                        simulate)
from .io import EXAMPLE_CSV, EXAMPLE_TRUTH, EXAMPLES_DIR, example_data, example_truth, write_csv
from .params import SimulationParameterError, SimulationParams

__all__ = [
    "simulate", "replicate", "SimulationParams", "SimulationResult", "SimulationTruth",
    "SimulationParameterError", "example_data", "example_truth", "write_csv",
    "oq_expected_total", "STREAMS", "EXAMPLES_DIR", "EXAMPLE_CSV", "EXAMPLE_TRUTH",
]
