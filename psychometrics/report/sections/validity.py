"""Convergent and discriminant validity: correlations among the declared scales and the
heterotrait-monotrait ratio among the instruments' factors."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Paragraph, Table
from ._common import section

KEY, TITLE = "validity", "Convergent and Discriminant Validity"


def correlations_frame(b) -> pd.DataFrame:
    t = b.correlations.table.copy()
    t["label1"] = [b.labels.get(v, v) for v in t["var1"]]
    t["label2"] = [b.labels.get(v, v) for v in t["var2"]]
    return t


def htmt_frame(b) -> pd.DataFrame:
    return b.htmt.table.copy()


def _when(occasion) -> str:
    if occasion == "first":
        return "each patient's first assessment with every listed scale scored"
    if occasion == "last":
        return "each patient's last assessment with every listed scale scored"
    return f"the assessments at time {occasion:g}"


def build(results):
    if results.get("validity") is None:  # not requested
        return None

    def blocks(b):
        yield Paragraph(
            f"Correlations among the scale scores at {_when(b.occasion)} "
            f"(*n* = {apa.integer(b.n_patients)} patients). Convergent validity is supported "
            "by substantial correlations between scales meant to measure related constructs, "
            "discriminant validity by correlations clearly below the scales' reliabilities.")
        t = correlations_frame(b)
        yield Table("validity_correlations", "Correlations Among the Scale Scores", t,
                    (Column("label1", "Scale", "text", repeat=False),
                     Column("label2", "With", "text"),
                     Column("r", "r", "bounded", italic_label=True),
                     Column("ci", "95% CI", "bounded", ci=("ci_lower", "ci_upper")),
                     Column("p_adjusted", "p", "p", italic_label=True),
                     Column("n", "n", "int", italic_label=True)),
                    note="Pearson correlations with 95% confidence intervals; p values "
                         "Holm-adjusted for the number of pairs (psych::corr.test).")
        if b.htmt is not None:
            h = htmt_frame(b)
            high = h[h["htmt"] > 0.85]
            yield Table("validity_htmt", "Heterotrait-Monotrait Ratios Among the Factors", h,
                        (Column("factor1", "Factor", "text", repeat=False),
                         Column("factor2", "With", "text"),
                         Column("htmt", "HTMT", "num")),
                        note=("HTMT2 (geometric means of the absolute item correlations; Roemer, "
                              "Schuberth & Henseler, 2021)" if b.htmt.htmt2 else
                              "HTMT (arithmetic means of the absolute item correlations; HTMT2 "
                              "was undefined because two items of a factor correlate exactly 0)")
                             + " among the factors of each instrument's measurement model "
                             "(Henseler, Ringle & Sarstedt, 2015; semTools::htmt). Values "
                             "above .85 (.90 for conceptually close constructs) question "
                             "discriminant validity.")
            if len(high):
                pairs = "; ".join(f"{r.factor1} and {r.factor2} ({apa.num(r.htmt)})"
                                  for r in high.itertuples())
                yield Paragraph(f"HTMT above .85: {pairs}.", kind="warning")

    return section(results, "validity", KEY, TITLE, blocks)
