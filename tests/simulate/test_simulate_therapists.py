"""Therapist level of the simulator (issue 23.2): ``n_therapists``, therapist variance in
alliance and outcome and a between-therapist effect."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychometrics.simulate import SimulationParams, simulate
from psychometrics.simulate.params import SimulationParameterError


def test_default_has_no_therapists_and_is_unchanged_by_the_new_stream():
    a = simulate(seed=3, n_patients=20, sessions_max=6)
    assert "therapist_id" not in a.data.columns
    b = simulate(seed=3, n_patients=20, sessions_max=6, n_therapists=4)
    assert list(b.data.columns[:3]) == ["therapist_id", "patient_id", "month"]
    # the design (months, attended sessions) comes from its own stream: unchanged
    pd.testing.assert_frame_equal(a.data[["patient_id", "month"]], b.data[["patient_id", "month"]])
    # alliance is shifted by the therapist level, exactly c_k
    ta, tb = a.truth.sessions, b.truth.sessions
    c = b.truth.patients.set_index("patient_id")["latent_wai_therapist_c"]
    np.testing.assert_allclose(tb["latent_wai_T"] - ta["latent_wai_T"],
                               c.loc[tb["patient_id"]].to_numpy(), rtol=1e-12)


def test_patients_are_nested_and_balanced():
    r = simulate(seed=5, n_patients=30, sessions_max=5, n_therapists=7)
    per = r.truth.patients.groupby("therapist_id").size()
    assert per.index.tolist() == list(range(1, 8)) and per.max() - per.min() <= 1
    assert (r.data.groupby("patient_id")["therapist_id"].nunique() == 1).all()
    pt = r.truth.patients
    assert (pt.groupby("therapist_id")["latent_wai_therapist_c"].nunique() == 1).all()
    assert (pt.groupby("therapist_id")["oq_therapist_intercept_v"].nunique() == 1).all()


@pytest.mark.parametrize("bad", [dict(n_therapists=-1), dict(n_therapists=31),
                                 dict(wai_therapist_sd=-0.1), dict(n_therapists=2.5)])
def test_bad_therapist_parameters(bad):
    with pytest.raises(SimulationParameterError, match=list(bad)[0]):
        SimulationParams(n_patients=30, **bad)


@pytest.mark.slow
def test_between_therapist_effect_recovered_from_latent_values():
    # the latent OQ recursion regressed on the therapist's alliance level: gamma_therapist
    from psychometrics.multilevel import mixed
    r = simulate(seed=11, n_patients=2000, n_therapists=200, sessions_min=10, sessions_max=10,
                 gamma_therapist=-6.0, oq_therapist_sd=1.0)
    s = r.truth.sessions.merge(r.truth.patients, on="patient_id")
    s = s.sort_values(["patient_id", "month"])
    s["oq_next"] = s.groupby("patient_id")["latent_oq_total"].shift(-1)
    s = s.dropna(subset=["oq_next"])
    fit = mixed("oq_next ~ latent_oq_total + latent_wai_within_w + latent_wai_between_b"
                " + latent_wai_therapist_c + (1 | therapist_id/patient_id)", s)
    tab = fit.fixed_effects.set_index("term")
    est, se = tab.loc["latent_wai_therapist_c", "est"], tab.loc["latent_wai_therapist_c", "se"]
    assert abs(est - (-6.0)) < 4 * se


def test_cli_therapists(tmp_path):
    from psychometrics.cli import main
    out = tmp_path / "t.csv"
    assert main(["simulate", "--patients", "12", "--seed", "2", "--sessions", "3", "4",
                 "--therapists", "3", "--out", str(out)]) == 0
    d = pd.read_csv(out)
    assert d.columns[0] == "therapist_id" and sorted(d["therapist_id"].unique()) == [1, 2, 3]
