"""progress(): every input row is in the model or in a named count, and the
study file's outcome_column and max_gap (issue 12, holes 5 and 8)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychometrics.multilevel import progress
from psychometrics.report import load_study
from psychometrics.report.run import load_data, preflight, run_study


def panel(seed=3, n_patients=25, months=6):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        u = rng.normal()
        for m in range(1, months + 1):
            x = 4 + 0.5 * u + rng.normal(scale=0.7)
            rows.append({"id": p, "month": m, "x": x, "y": 60 - 3 * x + 5 * u + rng.normal()})
    return pd.DataFrame(rows)


def test_every_row_is_counted_once():
    d = panel()
    d = d[~((d["id"] % 5 == 0) & (d["month"] == 3))]        # skipped month: rows at 2 lose
    d.loc[d.index[7], "x"] = np.nan                           # missing current predictor
    d.loc[d.index[20], "y"] = np.nan                          # missing outcome: current and next
    res = progress(d, "y", "x", "id", "month")
    parts = [res.n_obs, res.n_lost_end, res.n_lost_gap, res.n_lost_missing_next,
             res.n_missing_current]
    assert sum(parts) == res.n_rows == len(d)
    assert res.n_lost_end == d["id"].nunique()
    assert res.n_lost_gap == 5                                # patients 0, 5, 10, 15, 20
    assert res.n_lost_missing_next == 1
    assert res.n_missing_current == 2                         # rows 7 and 20
    assert res.n_lost_lead == res.n_lost_end + res.n_lost_gap + res.n_lost_missing_next
    head = " ".join(res.summary().header)
    assert f"{res.n_lost_gap} whose next assessment is more than 1 time unit(s) later" in head
    # a larger max_gap bridges the skipped month
    wide = progress(d, "y", "x", "id", "month", max_gap=2)
    assert wide.n_lost_gap == 0 and wide.n_obs > res.n_obs
    assert sum([wide.n_obs, wide.n_lost_end, wide.n_lost_gap, wide.n_lost_missing_next,
                wide.n_missing_current]) == len(d)


STUDY = """\
name: pre
data:
  files: [data.csv]
  id: patient_id
  time: month
instruments:
  wai: {{bank: wai-sr, form: standard}}
analyses:
  scoring: true
  progress: {{predictors: [wai.total], {outcome}}}
"""


def _study(tmp_path, small_data, outcome, frame=None):
    d = small_data.copy() if frame is None else frame
    d.to_csv(tmp_path / "data.csv", index=False)
    p = tmp_path / "study.yaml"
    p.write_text(STUDY.format(outcome=outcome), encoding="utf-8")
    return p


def test_precomputed_outcome_column_and_max_gap(tmp_path, small_data):
    from psychometrics.scoring import score

    d = small_data.copy()
    d["oq_scored_elsewhere"] = score(d, "oq-45.2", invalid="missing").scores["total"]
    d = d[~((d["patient_id"] % 4 == 0) & (d["month"] == 3))]
    study = load_study(_study(tmp_path, small_data, "outcome_column: oq_scored_elsewhere, "
                                                    "max_gap: 1", frame=d))
    res = run_study(study, progress=None, only={"scoring", "progress"})
    out = res.get("progress")
    assert out.ok, out.error
    r = out.result.result
    assert r.outcome == "oq_scored_elsewhere"
    assert r.n_lost_gap > 0 and r.max_gap == 1
    assert r.n_obs + r.n_lost_end + r.n_lost_gap + r.n_lost_missing_next + \
        r.n_missing_current == len(d)


def test_outcome_needs_exactly_one_form(tmp_path, small_data):
    from psychometrics.exceptions import StudyFileError

    with pytest.raises(StudyFileError, match="exactly one of 'outcome'"):
        load_study(_study(tmp_path, small_data, "outcome: wai.total, outcome_column: x"))
    study = load_study(_study(tmp_path, small_data, "outcome_column: nope"))
    with pytest.raises(StudyFileError, match="column 'nope' is not in the data"):
        preflight(study, load_data(study))
