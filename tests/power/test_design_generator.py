"""The lean design generator against the simulator's truth, and its design knobs."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from psychometrics.power import (DesignParameterError, DesignParams, design_from_simulation,
                                 generate, replication_seed)
from psychometrics.simulate import SimulationParams, simulate


@pytest.mark.parametrize("miss", [0.0, 0.25])
def test_latent_values_are_the_simulators(miss):
    # Same seed, same streams, same order: x and y are the simulator's latent alliance T_it
    # and latent OQ total of the attended sessions (truth.sessions), value for value.
    sp = SimulationParams(n_patients=40, sessions_min=9, sessions_max=9, session_miss_rate=miss)
    ss = np.random.SeedSequence(11, spawn_key=(3, 4))
    truth = simulate(sp, seed=ss).truth.sessions
    truth = truth[truth["attended"]].reset_index(drop=True)
    d = generate(design_from_simulation(sp), ss)
    assert len(d) == len(truth)
    assert_array_equal(d["id"].to_numpy(), truth["patient_id"].to_numpy())
    assert_array_equal(d["time"].to_numpy(), truth["month"].to_numpy())
    # sd products such as sqrt(icc) * resid_sd reproduce 4.0 and 7.0 up to rounding only
    assert_allclose(d["x"].to_numpy(), truth["latent_wai_T"].to_numpy(), rtol=1e-12, atol=0)
    assert_allclose(d["y"].to_numpy(), truth["latent_oq_total"].to_numpy(), rtol=1e-12, atol=0)


def test_design_from_simulation_maps_the_parameters():
    p = design_from_simulation(SimulationParams(sessions_min=6, sessions_max=6), dropout=0.1)
    assert p.n_months == 6 and p.dropout == 0.1
    assert_allclose(p.x_sd ** 2 * p.icc_x, 0.45 ** 2, rtol=1e-12)
    assert_allclose(p.y_resid_sd ** 2 * p.icc, 4.0 ** 2, rtol=1e-12)
    with pytest.raises(DesignParameterError, match="sessions_min == sessions_max"):
        design_from_simulation(SimulationParams())


def test_dropout_is_monotone_and_at_the_requested_hazard():
    p = DesignParams(n_patients=4000, n_months=6, dropout=0.2)
    d = generate(p, replication_seed(1, 0, 0))
    per = d.groupby("id")["time"].agg(["max", "count"])
    assert (per["max"] == per["count"]).all()      # no gaps: patients leave, they do not skip
    # P(still in at month t) = 0.8^(t-1); month 6: 0.4096, SE sqrt(p(1-p)/4000) = 0.0078
    share6 = (per["max"] == 6).mean()
    assert abs(share6 - 0.8 ** 5) < 4 * np.sqrt(0.8 ** 5 * (1 - 0.8 ** 5) / 4000)
    assert d.groupby("id")["time"].min().eq(1).all()


def test_missing_months_and_therapist_level():
    p = DesignParams(n_patients=3000, n_months=5, missing_rate=0.3, n_clusters=30,
                     icc_cluster=0.2, icc=0.2, lag=0, within=0.0, between=0.0, x_ar=0.0)
    d = generate(p, replication_seed(2, 0, 0))
    later = d[d["time"] > 1]
    share = len(later) / (3000 * 4)
    assert abs(share - 0.7) < 4 * np.sqrt(0.21 / 12000)
    assert sorted(d["cluster"].unique()) == list(range(1, 31))
    assert (d.groupby("id")["cluster"].nunique() == 1).all()
    # therapist means of y: variance = icc_cluster s^2 + (patient and occasion parts)/n_c
    s2 = p.y_resid_sd ** 2
    cm = d.groupby("cluster")["y"].mean()
    n_pat = 100
    n_obs = d.groupby("cluster").size().mean()
    expected = 0.2 * s2 + 0.2 * s2 / n_pat + 0.6 * s2 / n_obs
    # 30 therapists: the sample variance has relative SE sqrt(2/29) = 0.26
    assert 0.4 * expected < cm.var(ddof=1) < 1.8 * expected


def test_contextual_sets_between_and_errors_name_the_field():
    p = DesignParams.from_dict({"within": -2.0, "contextual": 1.5})
    assert p.between == -0.5 and p.truth() == {"within": -2.0, "between": -0.5, "contextual": 1.5}
    assert p.replace(contextual=0.0).between == -2.0
    with pytest.raises(DesignParameterError, match="either 'between' or 'contextual'"):
        DesignParams.from_dict({"between": 1.0, "contextual": 1.0})
    with pytest.raises(DesignParameterError, match="Unknown design parameter.*'n_patient'"):
        DesignParams.from_dict({"n_patient": 10})
    with pytest.raises(DesignParameterError,
                       match="'dropout' is a monthly probability.*dropout=1.0"):
        DesignParams(dropout=1.0)
    with pytest.raises(DesignParameterError, match="'n_clusters' >= 2"):
        DesignParams(icc_cluster=0.1)
    with pytest.raises(DesignParameterError, match="'n_months' must be an integer"):
        DesignParams(n_months=2.5)


def test_same_seed_same_data_and_streams_independent_of_knobs():
    p = DesignParams(n_patients=20, n_months=4)
    a = generate(p, replication_seed(5, 1, 2))
    b = generate(p, replication_seed(5, 1, 2))
    pd.testing.assert_frame_equal(a, b)
    # common random numbers: dropout removes rows but does not change the remaining values
    c = generate(p.replace(dropout=0.3), replication_seed(5, 1, 2))
    m = a.merge(c, on=["id", "time"], suffixes=("", "_d"))
    assert len(m) == len(c) < len(a)
    assert_array_equal(m["y"], m["y_d"])
