"""The analysis data of the latent progress references (tests/data/datasets/progress_latent_*.csv).

From examples/therapy_example.csv: wai = mean of the available WAI-SR items, pear = mean of the
available PEAR items, oq = 45 x mean of the available OQ-45 items after reverse keying
(items 1, 12, 13, 20, 21, 24, 31, 37, 43: 4 - x); y_next = the patient's next month's oq
(missing after the last assessment and before a skipped month). ``skipped``: the same data with
about 12% of the assessments after month 1 removed (seeded), which makes skipped months, and
x1 and x2 each set missing in about 3% of the rows (an unscorable scale).
Columns use the names of the model syntax: id, month, x1 (wai), x2 (pear), y (oq), y_next.
Regenerate: ``python tests/progress_latent_data.py`` (repository root).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = Path(__file__).resolve().parent / "data" / "datasets"
REVERSED = (1, 12, 13, 20, 21, 24, 31, 37, 43)


def derive(skipped: bool = False) -> pd.DataFrame:
    from psychometrics.multilevel import lead
    from psychometrics.simulate import example_data

    raw = example_data()
    if skipped:
        rng = np.random.default_rng(20261202)
        drop = (rng.random(len(raw)) < 0.12) & (raw["month"] > 1).to_numpy()
        raw = raw[~drop].reset_index(drop=True)
    oq = raw[[f"oq_{i}" for i in range(1, 46)]].copy()
    for i in REVERSED:
        oq[f"oq_{i}"] = 4 - oq[f"oq_{i}"]
    d = pd.DataFrame({"id": raw["patient_id"], "month": raw["month"],
                      "x1": raw[[f"wai_{i}" for i in range(1, 13)]].mean(axis=1),
                      "x2": raw[[f"pear_{i}" for i in range(1, 11)]].mean(axis=1),
                      "y": oq.mean(axis=1) * 45})
    if skipped:  # unscorable scales (too many skipped items) in about 3% of the rows each
        for c in ("x1", "x2"):
            d.loc[rng.random(len(d)) < 0.03, c] = np.nan
    sh = lead(d, "id", "month", "y")
    return sh.data.rename(columns={"y_lead": "y_next"})[["id", "month", "x1", "x2", "y", "y_next"]]


if __name__ == "__main__":  # pragma: no cover
    for name, sk in (("example", False), ("skipped", True)):
        derive(sk).to_csv(DATASETS / f"progress_latent_{name}.csv", index=False,
                          float_format="%.17g")
