"""Backends give identical records; per-cell parquet files; resume after interruption."""
import pandas as pd
import pytest

import psychometrics.power.runner as runner
from psychometrics.power import PowerDesignError, run_power

SMALL = {"seed": 7, "replications": 6, "fixed": {"n_months": 5, "n_patients": 15},
         "grid": {"dropout": [0.0, 0.2], "within": [-4.0, 0.0]},
         "analysis": {"type": "mixed", "formula": "y_lead ~ x_within + x_between_c + y + (1 | id)"}}


@pytest.fixture(scope="module")
def serial():
    return run_power(SMALL, workers=1, progress=False)


def test_one_and_two_worker_processes_give_identical_results(serial):
    two = run_power(SMALL, workers=2, progress=False, chunk_size=4)
    assert serial.backend == "serial" and two.backend == "processes" and two.n_workers == 2
    pd.testing.assert_frame_equal(serial.replications, two.replications)
    pd.testing.assert_frame_equal(serial.table, two.table)
    assert len(serial.replications) == 4 * 6 * 3
    assert serial.replications["error"].isna().all()


def test_dask_local_cluster_with_two_worker_processes(serial):
    distributed = pytest.importorskip("distributed")  # in the 'power' extra, so always there
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = run_power(SMALL, scheduler=client, progress=False, chunk_size=3)
        pids = client.run(lambda: __import__("os").getpid())
        assert len(set(pids.values())) == 2
        # the same cluster by its address (the CLI's --scheduler): a client of our own;
        # one cell, the first of SMALL (same cell index and values, so the same records)
        one = {**SMALL, "grid": {"dropout": [0.0], "within": [-4.0]}}
        by_address = run_power(one, scheduler=cluster.scheduler_address, progress=False)
    first = serial.replications[serial.replications["cell"] == 0]
    pd.testing.assert_frame_equal(first, by_address.replications)
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(PowerDesignError, match="Cannot connect to the Dask scheduler"):
        run_power(SMALL, scheduler="tcp://127.0.0.1:9", progress=False)
    assert res.backend == "dask" and res.n_workers == 2
    pd.testing.assert_frame_equal(serial.replications, res.replications)


def test_cells_written_as_they_finish_and_resumed(tmp_path, serial, monkeypatch):
    out = tmp_path / "run"
    real = runner.run_chunk
    calls = []

    def interrupted(task):
        calls.append(task[1])
        if len(calls) == 5:       # chunks of 3: cells 0 and 1 are done, cell 2 half done
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(runner, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_power(SMALL, out=out, workers=1, progress=False, chunk_size=3)
    files = sorted(p.name for p in (out / "cells").glob("*.parquet"))
    assert files == ["cell_000000.parquet", "cell_000001.parquet"]
    monkeypatch.setattr(runner, "run_chunk", real)
    res = run_power(SMALL, out=out, workers=1, progress=False, chunk_size=3)
    assert (res.n_cells_resumed, res.n_cells_run) == (2, 2)
    pd.testing.assert_frame_equal(serial.replications, res.replications)
    pd.testing.assert_frame_equal(serial.table, res.table)
    # everything on disk now: a third run computes nothing
    again = run_power(SMALL, out=out, workers=1, progress=False)
    assert (again.n_cells_resumed, again.n_cells_run) == (4, 0)
    pd.testing.assert_frame_equal(serial.replications, again.replications)


def test_output_directory_of_another_design_is_refused(tmp_path):
    out = tmp_path / "run"
    one = {**SMALL, "grid": {"dropout": [0.0]}, "replications": 2}
    run_power(one, out=out, workers=1, progress=False)
    with pytest.raises(PowerDesignError, match="holds results of another design"):
        run_power({**one, "seed": 8}, out=out, workers=1, progress=False)
    bad = out / "cells" / "cell_000000.parquet"
    pd.read_parquet(bad).iloc[:3].to_parquet(bad)
    with pytest.raises(PowerDesignError, match="does not hold replications 0..1 of cell 0"):
        run_power(one, out=out, workers=1, progress=False)


def test_bad_arguments():
    with pytest.raises(PowerDesignError, match="'workers' argument must be a positive integer"):
        run_power(SMALL, workers=0, progress=False)
    with pytest.raises(PowerDesignError, match="'chunk_size' argument must be a positive"):
        run_power(SMALL, workers=1, chunk_size=0, progress=False)
    with pytest.raises(PowerDesignError, match="'scheduler' argument must be a scheduler address"):
        run_power(SMALL, scheduler=3, progress=False)


def test_failed_fits_are_counted_and_named():
    # 2 patients x 2 months with heavy dropout: many replications cannot be fitted
    res = run_power({"seed": 3, "replications": 8,
                     "fixed": {"n_patients": 2, "n_months": 2, "dropout": 0.5},
                     "analysis": {"type": "mixed", "formula": "y_lead ~ x_within + (1 | id)",
                                  "effects": {"within": "x_within"}}},
                    workers=1, progress=False)
    rec = res.replications
    failed = rec["error"].notna()
    assert failed.sum() > 0
    assert rec.loc[failed, "error"].str.contains("Error: ").all()
    row = res.table.iloc[0]
    assert row["n_failed"] == failed.sum() and row["n_ok"] + row["n_failed"] == 8
    assert "failed to fit" in res.summary().as_text()


def test_progress_analysis_and_simulator_generator():
    # the study's analysis (progress) on the full item-level simulator, scored with the banks
    res = run_power({"generator": "simulator", "seed": 5, "replications": 2,
                     "fixed": {"n_patients": 12, "n_months": 4}, "grid": {"gamma_within": [-8.0]}},
                    workers=1, progress=False)
    assert res.table["effect"].tolist() == ["within", "between", "contextual"]
    assert res.table["truth"].tolist() == [-8.0, -1.0, 7.0]
    assert (res.replications["n_obs"] == 12 * 3).all()      # 4 months: 3 with a next month
    assert res.replications["est"].notna().all()


def test_progress_analysis_on_the_design_generator_with_therapists():
    res = run_power({"seed": 9, "replications": 3,
                     "fixed": {"n_patients": 24, "n_months": 5, "n_clusters": 4,
                               "icc_cluster": 0.1, "dropout": 0.1}},
                    workers=1, progress=False)
    rec = res.replications
    assert rec["error"].isna().all() and rec["est"].notna().all()
    assert rec["effect"].tolist() == ["within", "between", "contextual"] * 3
    # progress fits the lead of y on x parts and y: rows with a next consecutive month only
    assert (rec["n_obs"] < 24 * 4).all() and (rec["n_patients"] <= 24).all()
