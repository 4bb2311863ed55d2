"""The documented output schemas of score(), .report, .issues and clinical_significance()."""
import numpy as np
import pandas as pd

from psychometrics.scoring import STATUSES, clinical_significance, score
from psychometrics.scoring.engine import ISSUE_COLUMNS

ITEMS = [f"oq_{i}" for i in range(1, 46)]


def test_scores_report_issues_schema():
    X = np.full((4, 45), 1.0)
    X[1, :6] = np.nan
    X[2, 3] = 9
    df = pd.DataFrame(X, columns=ITEMS).assign(pid=[1, 1, 2, 2], t=[0, 1, 0, 1])
    res = score(df, "oq-45.2", id="pid", time="t", invalid="missing")
    scales = ["sd", "ir", "sr", "total"]
    assert list(res.scores.columns) == (["pid", "t"] + scales + [f"{s}_n_answered" for s in scales]
                                        + [f"{s}_status" for s in scales])
    for s in scales:
        assert res.scores[s].dtype == np.float64
        assert res.scores[f"{s}_n_answered"].dtype == np.int16
        assert list(res.scores[f"{s}_status"].cat.categories) == list(STATUSES)
    assert list(res.issues.columns) == ISSUE_COLUMNS
    assert list(res.report.columns) == ["row", "pid", "t", "scale", "status", "n_answered",
                                        "n_items", "score", "detail"]
    cs = clinical_significance(res, norms="us")
    assert list(cs.table.columns) == ["pid", "n_administrations", "n_scored", "time_pre",
                                      "time_post", "pre", "post", "change", "rc", "reliable",
                                      "pre_dysfunctional", "post_dysfunctional",
                                      "crossed_cutoff", "class", "status"]
    assert "ScoreResult(instrument='oq-45.2'" in repr(res)
    text = res.summary().as_text()
    assert "Scored 4 administration(s) of oq-45.2; 1 data issue(s)" in text
    assert "<table" in res.summary().as_html()
