"""Benchmark: a clinic network's year in the tracking store (SQLite).

    python benchmarks/bench_tracking.py [--patients 50000] [--repeats 20] [--keep DIR]

Data: ``psychometrics.tracking.simulate_clinic(patients, n_therapists=500,
max_sessions=9, seed=3)``: OQ-45.2 every session and WAI-SR from session 2, about ten
assessments per patient (499,472 for 50,000 patients), written to one CSV. The
single-assessment timings add one more OQ-45.2 session to randomly chosen patients.

Reported (targets of issue 16 in brackets):
  * ingest of the whole file into an empty SQLite store, scoring with the banks included
    (one run) [< 60 s];
  * the same file again (idempotent: every row found unchanged) (one run);
  * fitting the expected-recovery model (one run) and the signals of every assessment
    in bulk (one run);
  * signals for one new assessment: ``update_signals([id])`` after the new session is
    stored (median of ``repeats`` different patients) [< 50 ms]; and the whole
    ``ingest`` of that one-row file with its signals;
  * the patient page: ``GET /patients/{id}`` through the ASGI app, login session,
    audit-log write and template rendering included (median) [< 200 ms].
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psychometrics.tracking import (add_user, create_app, fit_expected, ingest,  # noqa: E402
                                    init_db, simulate_clinic, update_signals)
from psychometrics.tracking.signals import pending_assessments  # noqa: E402


def timed(fn):
    """(result, wall seconds); the CPU seconds of the last call are kept in ``CPU``."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU[0] = time.process_time() - c0
    return out, time.perf_counter() - t0


CPU = [0.0]


def ms(values) -> str:
    return f"{1000 * statistics.median(values):.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--keep", help="keep the CSV and the store in this folder")
    args = ap.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_tracking_"))
    work.mkdir(parents=True, exist_ok=True)

    df, t_sim = timed(lambda: simulate_clinic(args.patients, n_therapists=500, max_sessions=9,
                                              seed=3))
    # one more OQ-45.2 session per patient, ingested one at a time later
    oq = df[df["instrument"] == "oq-45.2"]
    held = oq[oq["session"] == oq.groupby("id")["session"].transform("max")].copy()
    held["session"] += 1
    held["date"] = (pd.to_datetime(held["date"]) + pd.Timedelta(days=7)).dt.strftime("%Y-%m-%d")
    held = held.reset_index(drop=True)
    bulk = df
    csv = work / "clinic.csv"
    bulk.to_csv(csv, index=False)
    print(f"simulated {len(df):,} assessments of {args.patients:,} patients in {t_sim:.1f} s; "
          f"bulk file {len(bulk):,} rows ({csv.stat().st_size / 1e6:.0f} MB)")

    db = work / "clinic.db"
    for f in work.glob("clinic.db*"):
        f.unlink()
    engine = init_db(db)
    res, t_ing = timed(lambda: ingest(engine, csv, signals=False))
    assert res.n_new == len(bulk) and res.n_rejected == 0, res.summary()
    print(f"ingest, empty store: {t_ing:.1f} s wall, {CPU[0]:.1f} s CPU "
          f"({len(bulk) / t_ing:,.0f} rows/s)  [target < 60 s]")
    res2, t_again = timed(lambda: ingest(engine, csv, signals=False))
    assert res2.n_unchanged == len(bulk)
    print(f"ingest, same file again (all unchanged): {t_again:.1f} s wall, {CPU[0]:.1f} s CPU")
    model, t_fit = timed(lambda: fit_expected(engine))
    print(f"expected-recovery model ({len(model.bands)} bands, {model.n_obs:,} OQ "
          f"assessments): {t_fit:.1f} s")
    sig, t_all = timed(lambda: update_signals(engine, pending_assessments(engine)))
    print(f"signals of all {sig.n_assessments:,} assessments in bulk: {t_all:.1f} s "
          f"({len(sig.table):,} signals)")

    rng = np.random.default_rng(1)
    picks = rng.choice(len(held), size=2 * args.repeats, replace=False)
    t_sig, c_sig, t_one, c_one = [], [], [], []
    for k, i in enumerate(picks):
        row = held.iloc[[i]]
        if k % 2 == 0:
            r = ingest(engine, row, signals=False)
            _, t = timed(lambda: update_signals(engine, r.assessment_ids))
            t_sig.append(t)
            c_sig.append(CPU[0])
        else:
            _, t = timed(lambda: ingest(engine, row, signals=True))
            t_one.append(t)
            c_one.append(CPU[0])
    print(f"signals for one new assessment: median {ms(t_sig)} wall, {ms(c_sig)} CPU  "
          "[target < 50 ms]")
    print(f"ingest of a one-row file with its signals: median {ms(t_one)} wall, "
          f"{ms(c_one)} CPU")

    from starlette.testclient import TestClient

    add_user(engine, "bench", "bench-password-1", "supervisor", replace=True)
    with TestClient(create_app(engine)) as client:
        tok = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
        client.post("/login", data={"username": "bench", "password": "bench-password-1",
                                    "csrf_token": tok})
        pids = rng.choice(args.patients, size=args.repeats, replace=False) + 1
        client.get(f"/patients/{pids[0]}")                      # warm-up (templates)
        t_page, c_page = [], []
        for pid in pids:
            r, t = timed(lambda: client.get(f"/patients/{pid}"))
            assert r.status_code == 200 and "<svg" in r.text
            t_page.append(t)
            c_page.append(CPU[0])
        _, t_case = timed(lambda: client.get("/"))
    print(f"patient page: median {ms(t_page)} wall, {ms(c_page)} CPU  [target < 200 ms]")
    print(f"supervisor caseload page (first 100 of {args.patients:,}): {1000 * t_case:.1f} ms")
    engine.dispose()
    if not args.keep:
        for f in sorted(work.iterdir()):
            f.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
