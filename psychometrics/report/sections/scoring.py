"""Scoring: how many scale scores were complete, prorated, imputed or missing."""
from __future__ import annotations

import pandas as pd

from ..model import Column, Table
from ._common import label, ordered, section

KEY, TITLE = "scoring", "Scoring"


def scoring_frame(results) -> pd.DataFrame:
    """Status counts per scale from each instrument's ScoreResult.status_counts()."""
    out = results.get("scoring")
    if out is None or not out.result:
        return pd.DataFrame()
    rows = []
    for k in ordered(results, out.result):
        t = out.result[k].status_counts()
        inst = results.study.instrument(k)
        for _, r in t.iterrows():
            rows.append({"instrument": label(results, k), "scale": r["scale"],
                         "scale_name": inst.scales[r["scale"]].name, "n": r["n"],
                         "complete": r["complete"], "prorated": r["prorated"],
                         "imputed": r["imputed"], "too_many_missing": r["too_many_missing"]})
    return pd.DataFrame(rows)


def build(results):
    if results.get("scoring") is None:  # not requested
        return None
    def blocks(res):
        sf = scoring_frame(results)
        yield Table("scoring_status", "Scale Scores Complete, Prorated, Imputed or Missing", sf,
                    (Column("scale_name", "Scale", "text"),
                     Column("n", "Assessments", "int"), Column("complete", "Complete", "int"),
                     Column("prorated", "Prorated", "int"), Column("imputed", "Imputed", "int"),
                     Column("too_many_missing", "Missing", "int")),
                    group_by="instrument",
                    note="Scores follow each item bank's missing-data rule: prorated (mean of "
                         "the answered items), imputed (OQ-45 rule: blanks replaced by the "
                         "rounded mean of the answered items) or missing when too many items "
                         "are blank (psychometrics.scoring).")

    return section(results, "scoring", KEY, TITLE, blocks)
