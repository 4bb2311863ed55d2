"""A small synthetic data set shaped like examples/therapy_example.csv, for tests
of the report machinery that must not depend on the analysis modules."""
from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_therapy(n_patients: int = 40, n_months: int = 6, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(1, n_patients + 1):
        months = n_months - int(rng.integers(0, 3))
        alliance = rng.normal()
        severity = rng.normal()
        for m in range(1, months + 1):
            row = {"patient_id": f"P{pid:03d}", "month": m}
            a = alliance + 0.1 * m + rng.normal(scale=0.5)
            for i in range(1, 13):
                row[f"wai_{i}"] = int(np.clip(np.round(3 + 0.8 * a + rng.normal(scale=0.8)), 1, 5))
            for i in range(1, 11):
                row[f"pear_{i}"] = int(np.clip(np.round(3.5 + 0.9 * a + rng.normal()), 1, 6))
            s = severity - 0.15 * m
            for i in range(1, 46):
                row[f"oq_{i}"] = int(np.clip(np.round(1.6 + 0.8 * s + rng.normal(scale=0.9)), 0, 4))
            rows.append(row)
    df = pd.DataFrame(rows)
    items = [c for c in df.columns if c not in ("patient_id", "month")]
    mask = rng.random((len(df), len(items))) < 0.02
    vals = df[items].astype(float).to_numpy().copy()
    vals[mask] = np.nan
    df[items] = vals
    return df
