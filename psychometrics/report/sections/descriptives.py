"""Scale descriptives: n, M, SD, observed and possible range, skew, kurtosis."""
from __future__ import annotations

from ..model import Column, Table
from ._common import section

KEY, TITLE = "descriptives", "Scale Descriptives"


def build(results):
    if results.get("descriptives") is None:  # not requested
        return None
    spec = results.study.analyses.descriptives

    def blocks(r):
        # observed minima and maxima of sum scores are integers: no ".00"
        whole = all(float(v).is_integer() for v in r.table[["min", "max"]].stack())
        d = 0 if whole else None
        yield Table("descriptives", "Descriptive Statistics of the Scale Scores", r.table,
                    (Column("scale_name", "Scale", "text"), Column("n", "n", "int", italic_label=True),
                     Column("mean", "M", italic_label=True), Column("sd", "SD", italic_label=True),
                     Column("min", "Min", decimals=d), Column("max", "Max", decimals=d),
                     Column("range", "Possible range", span=("range_min", "range_max"), decimals=0),
                     Column("skew", "Skew"), Column("kurtosis", "Kurtosis"),
                     Column("prop_floor", "% floor", "percent"),
                     Column("prop_ceiling", "% ceiling", "percent")),
                    group_by="label",
                    note="Kurtosis is excess kurtosis. Floor and ceiling: scores at the lowest "
                         "and highest possible value.")


    from ..context import occasion_text
    return section(results, "descriptives", KEY, TITLE, blocks,
                   intro=f"Scale scores use {occasion_text(spec.occasion)}.")

