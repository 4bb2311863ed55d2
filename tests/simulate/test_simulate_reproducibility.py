"""Seeds, replications and the shipped example data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from psychometrics.simulate import (EXAMPLE_CSV, EXAMPLE_TRUTH, SimulationParams, example_data,
                                    example_truth, replicate, simulate, write_csv)


def test_same_seed_gives_byte_identical_data():
    a = simulate(SimulationParams(n_patients=60, missing_rate=0.05, session_miss_rate=0.1), seed=42)
    b = simulate(SimulationParams(n_patients=60, missing_rate=0.05, session_miss_rate=0.1), seed=42)
    assert_frame_equal(a.data, b.data, check_exact=True)
    assert write_csv(a.data).encode() == write_csv(b.data).encode()
    assert_frame_equal(a.truth.sessions, b.truth.sessions, check_exact=True)
    assert_frame_equal(a.truth.patients, b.truth.patients, check_exact=True)


def test_same_seedsequence_object_twice_gives_same_data():
    # simulate must not advance the SeedSequence it is given
    ss = np.random.SeedSequence(5)
    assert_frame_equal(simulate(n_patients=20, seed=ss).data,
                       simulate(n_patients=20, seed=ss).data, check_exact=True)


def test_different_seeds_differ():
    a = simulate(n_patients=60, seed=1)
    b = simulate(n_patients=60, seed=2)
    assert not a.truth.patients["latent_wai_between_b"].equals(b.truth.patients["latent_wai_between_b"])
    n = min(len(a.data), len(b.data))
    items = a.data.columns[2:]
    same = (a.data[items].to_numpy()[:n] == b.data[items].to_numpy()[:n]).mean()
    assert same < 0.9  # identical data would give 1.0


def test_seed_none_is_recorded_and_reproducible():
    res = simulate(n_patients=15)
    assert isinstance(res.seed, int)
    again = simulate(res.params, seed=res.seed)
    assert_frame_equal(res.data, again.data, check_exact=True)


def test_generator_seed_is_accepted_but_not_recorded():
    res = simulate(n_patients=10, seed=np.random.default_rng(3))
    assert res.seed is None
    assert "not reproducible" in res.call()


def test_missing_data_only_blanks_cells_common_random_numbers():
    complete = simulate(n_patients=80, seed=9)
    blanked = simulate(n_patients=80, missing_rate=0.1, seed=9)
    items = complete.data.columns[2:]
    a = complete.data[items].to_numpy(dtype=float)
    b = blanked.data[items].to_numpy(dtype=float)
    observed = ~np.isnan(b)
    assert observed.mean() < 0.95
    np.testing.assert_array_equal(a[observed], b[observed])


def test_missed_sessions_only_remove_rows():
    complete = simulate(n_patients=80, seed=9)
    gappy = simulate(n_patients=80, session_miss_rate=0.2, seed=9)
    assert len(gappy.data) < len(complete.data)
    merged = gappy.data.merge(complete.data, on=["patient_id", "month"], how="left",
                              suffixes=("", "_complete"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for col in gappy.data.columns[2:]:
        np.testing.assert_array_equal(merged[col].to_numpy(), merged[f"{col}_complete"].to_numpy())


def test_replicate_independent_and_individually_reproducible():
    params = SimulationParams(n_patients=30)
    reps = list(replicate(3, params, seed=123))
    assert [r.spawn_key for r in reps] == [(0,), (1,), (2,)]
    assert all(r.seed == 123 for r in reps)
    b = [r.truth.b for r in reps]
    assert not np.array_equal(b[0], b[1]) and not np.array_equal(b[1], b[2])
    # replication k alone, from its record (SeedSequence(seed).spawn gives the same children)
    child = np.random.SeedSequence(123).spawn(3)[2]
    alone = simulate(params, seed=child)
    assert_frame_equal(alone.data, reps[2].data, check_exact=True)
    # a plain seed is not one of the replications
    assert not np.array_equal(simulate(params, seed=123).truth.b, b[0])


def test_replicate_is_lazy_generator():
    gen = replicate(10**6, SimulationParams(n_patients=5), seed=1)
    first = next(gen)
    assert first.truth.patients.shape[0] == 5


# --------------------------------------------------------------- example data
def test_shipped_example_csv_equals_fresh_simulation_byte_for_byte():
    record = json.loads(EXAMPLE_TRUTH.read_text(encoding="utf-8"))
    params = SimulationParams.from_dict(record["params"])
    assert record["spawn_key"] == []
    fresh = simulate(params, seed=record["seed"])
    assert fresh.call() == record["call"]
    assert write_csv(fresh.data).encode("utf-8") == EXAMPLE_CSV.read_bytes()


def test_shipped_example_is_the_documented_call():
    record = example_truth()
    # the call given in examples/README.md and in example_data's docstring
    assert record["call"] == ("psychometrics.simulate.simulate(SimulationParams(missing_rate=0.02), "
                              "seed=20240601)")
    assert record["seed"] == 20240601
    assert SimulationParams.from_dict(record["params"]) == SimulationParams(missing_rate=0.02)


def test_example_data_equals_simulate_data():
    fresh = simulate(SimulationParams(missing_rate=0.02), seed=20240601)
    assert_frame_equal(example_data(), fresh.data, check_exact=True)


def test_to_csv_writes_data_and_truth_json(tmp_path):
    res = simulate(n_patients=12, missing_rate=0.05, seed=4)
    paths = res.to_csv(tmp_path / "sim.csv")
    assert [p.name for p in paths] == ["sim.csv", "sim_truth.json"]
    back = pd.read_csv(paths[0]).astype(res.data.dtypes.to_dict())
    assert_frame_equal(back, res.data, check_exact=True)
    record = json.loads(paths[1].read_text(encoding="utf-8"))
    assert SimulationParams.from_dict(record["params"]) == res.params
    assert record["seed"] == 4
    assert record["n_rows"] == len(res.data)


def test_params_json_round_trip():
    p = SimulationParams(n_patients=7, wai_trend=0.0, missing_rate=0.01)
    assert SimulationParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_block_size_of_oq_items_does_not_change_data(monkeypatch):
    from psychometrics.simulate import generator

    params = SimulationParams(n_patients=40, missing_rate=0.03)
    one_go = simulate(params, seed=77)  # 40 x 20 cells: all 45 items in one block
    monkeypatch.setattr(generator, "_BLOCK", 1)  # one item per block
    itemwise = simulate(params, seed=77)
    assert_frame_equal(one_go.data, itemwise.data, check_exact=True)
